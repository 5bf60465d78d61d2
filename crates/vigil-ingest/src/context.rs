//! Per-call parse state: a local cache in front of the shared field
//! registry, the ECS table resolved to ids, and reusable scratch buffers.
//!
//! One [`Ctx`] lives for one `parse_lines` call (or one single-record call),
//! so nothing here is global and the registry's lock is touched once per new
//! name per call instead of once per field.

use rustc_hash::FxHashMap;
use vigil_model::{FieldId, FieldRegistry, Value};

use crate::ecs::Resolved;

/// Most names a local cache keeps; past it lookups go to the registry.
const CACHE_LIMIT: usize = 1 << 14;

/// Interns names through a call-local cache.
#[derive(Debug)]
pub(crate) struct Interner<'r> {
    registry: &'r FieldRegistry,
    cache: FxHashMap<Box<str>, FieldId>,
}

impl<'r> Interner<'r> {
    pub(crate) fn new(registry: &'r FieldRegistry) -> Self {
        Self {
            registry,
            cache: FxHashMap::default(),
        }
    }

    /// The id of `name`; `None` when the registry is full (the field then
    /// stays only in the raw bytes).
    pub(crate) fn intern(&mut self, name: &str) -> Option<FieldId> {
        if let Some(id) = self.cache.get(name) {
            return Some(*id);
        }
        let id = self.registry.intern(name)?;
        if self.cache.len() < CACHE_LIMIT {
            self.cache.insert(name.into(), id);
        }
        Some(id)
    }
}

/// Everything a parse call reuses between records.
#[derive(Debug)]
pub(crate) struct Ctx<'r> {
    /// Name → id.
    pub(crate) names: Interner<'r>,
    /// The ECS table with ids.
    pub(crate) ecs: Resolved,
    /// Path buffer for flattening (one allocation per call).
    pub(crate) path: String,
    /// Windows `EventData` aliases collected while flattening.
    pub(crate) aliases: Vec<(FieldId, Value)>,
    /// Typical field count of the last record (capacity hint).
    pub(crate) field_hint: usize,
}

impl<'r> Ctx<'r> {
    pub(crate) fn new(registry: &'r FieldRegistry) -> Self {
        let mut names = Interner::new(registry);
        let ecs = Resolved::new(&mut names);
        Self {
            names,
            ecs,
            path: String::with_capacity(128),
            aliases: Vec::new(),
            field_hint: 32,
        }
    }
}
