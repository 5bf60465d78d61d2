//! Field-name interning: detectors resolve names to [`FieldId`]s once, events
//! store fields by id, and a lookup is a binary search with no allocation.

use std::sync::Arc;

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

/// An interned field name (a dotted path such as `process.command_line`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(u32);

/// Builds an id from its index; only for the pre-interned core names.
pub(crate) const fn field_id_from_raw(i: u32) -> FieldId {
    FieldId(i)
}

impl FieldId {
    /// The dense index of this id (0, 1, 2, …), usable to index side tables.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// The table of field names seen so far, shared by parsers and detectors.
///
/// Interning is append-only: an id, once handed out, names the same field for
/// the life of the registry. The number of distinct names is bounded (see
/// [`FieldRegistry::with_capacity_limit`]) so hostile input with random keys
/// cannot grow it without limit; past the bound [`FieldRegistry::intern`]
/// returns `None` and parsers keep such fields only in the raw bytes.
#[derive(Debug)]
pub struct FieldRegistry {
    inner: RwLock<Inner>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Inner {
    map: FxHashMap<Arc<str>, FieldId>,
    names: Vec<Arc<str>>,
}

impl Default for FieldRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldRegistry {
    /// Default bound on distinct field names.
    pub const DEFAULT_LIMIT: usize = 1 << 20;

    /// A registry holding the ECS core names, bounded by [`Self::DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::with_capacity_limit(Self::DEFAULT_LIMIT)
    }

    /// A registry holding the ECS core names, bounded to `limit` names.
    pub fn with_capacity_limit(limit: usize) -> Self {
        let reg = Self {
            inner: RwLock::new(Inner::default()),
            limit: limit.max(crate::event::CORE_NAMES.len()),
        };
        for name in crate::event::CORE_NAMES {
            reg.intern(name);
        }
        reg
    }

    /// The id of `name`, interning it if new. `None` only when the registry
    /// is full.
    pub fn intern(&self, name: &str) -> Option<FieldId> {
        if let Some(id) = self.inner.read().map.get(name) {
            return Some(*id);
        }
        let mut w = self.inner.write();
        if let Some(id) = w.map.get(name) {
            return Some(*id);
        }
        if w.names.len() >= self.limit {
            return None;
        }
        let id = FieldId(u32::try_from(w.names.len()).ok()?);
        let name: Arc<str> = Arc::from(name);
        w.names.push(name.clone());
        w.map.insert(name, id);
        Some(id)
    }

    /// The id of `name` if it has been interned.
    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.inner.read().map.get(name).copied()
    }

    /// The name behind `id`.
    pub fn name(&self, id: FieldId) -> Option<Arc<str>> {
        self.inner.read().names.get(id.index()).cloned()
    }

    /// The number of interned names.
    pub fn len(&self) -> usize {
        self.inner.read().names.len()
    }

    /// Always false: the core names are interned at construction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of all names, indexed by [`FieldId::index`].
    pub fn names(&self) -> Vec<Arc<str>> {
        self.inner.read().names.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_is_stable_and_bounded() {
        let r = FieldRegistry::with_capacity_limit(0);
        let core = r.len();
        assert!(r.get("host.name").is_some(), "core names are pre-interned");
        assert_eq!(r.intern("x.y"), None, "full registry refuses new names");
        let r = FieldRegistry::new();
        let a = r.intern("process.command_line").unwrap();
        let b = r.intern("Image").unwrap();
        assert_eq!(r.intern("Image"), Some(b));
        assert_eq!(&*r.name(b).unwrap(), "Image");
        assert_ne!(a, b);
        assert_eq!(r.len(), core + 1);
    }
}
