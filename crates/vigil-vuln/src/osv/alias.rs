//! Alias merging: records whose ids or aliases meet are one vulnerability
//! (union-find over `id` and `aliases`; `related` ids stay separate, since
//! the schema defines them as different vulnerabilities).

use std::collections::HashMap;

/// Union-find over vulnerability ids.
#[derive(Debug, Default, Clone)]
pub(crate) struct AliasGroups {
    ids: HashMap<String, usize>,
    names: Vec<String>,
    parent: Vec<usize>,
    /// Canonical id per node, filled by `finish`.
    canonical: Vec<usize>,
    /// Members per root, filled by `finish`.
    groups: Vec<Vec<usize>>,
}

impl AliasGroups {
    fn node(&mut self, id: &str) -> usize {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.names.len();
        self.ids.insert(id.to_owned(), n);
        self.names.push(id.to_owned());
        self.parent.push(n);
        n
    }

    fn find(&self, mut n: usize) -> usize {
        while self.parent[n] != n {
            n = self.parent[n];
        }
        n
    }

    fn find_compress(&mut self, n: usize) -> usize {
        let root = self.find(n);
        let mut m = n;
        while self.parent[m] != root {
            let next = self.parent[m];
            self.parent[m] = root;
            m = next;
        }
        root
    }

    /// Records that `id` and all of `aliases` are one vulnerability.
    pub(crate) fn add(&mut self, id: &str, aliases: &[String]) {
        let a = self.node(id);
        for alias in aliases {
            let b = self.node(alias);
            let (ra, rb) = (self.find_compress(a), self.find_compress(b));
            if ra != rb {
                let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
                self.parent[hi] = lo;
            }
        }
    }

    /// Chooses each group's canonical id: the lowest CVE id, else the lowest
    /// GHSA id, else the lowest id.
    pub(crate) fn finish(&mut self) {
        let n = self.names.len();
        for i in 0..n {
            self.find_compress(i);
        }
        let mut best: Vec<usize> = (0..n).collect();
        for i in 0..n {
            let r = self.parent[i];
            if rank(&self.names[i]) < rank(&self.names[best[r]]) {
                best[r] = i;
            }
        }
        self.canonical = (0..n).map(|i| best[self.parent[i]]).collect();
        self.groups = vec![Vec::new(); n];
        for i in 0..n {
            let r = self.parent[i];
            self.groups[r].push(i);
        }
    }

    /// The canonical id of `id`'s group (`id` itself when unknown).
    pub(crate) fn canonical<'a>(&'a self, id: &'a str) -> &'a str {
        match self.ids.get(id) {
            Some(&n) if n < self.canonical.len() => &self.names[self.canonical[n]],
            _ => id,
        }
    }

    /// Every id in `id`'s group, sorted.
    pub(crate) fn members(&self, id: &str) -> Vec<String> {
        let Some(&n) = self.ids.get(id) else {
            return vec![id.to_owned()];
        };
        let root = self.find(n);
        let mut out: Vec<String> = match self.groups.get(root) {
            Some(g) if !g.is_empty() => g.iter().map(|&i| self.names[i].clone()).collect(),
            _ => vec![id.to_owned()],
        };
        out.sort();
        out
    }

    /// Number of distinct vulnerabilities.
    pub(crate) fn group_count(&self) -> usize {
        (0..self.names.len())
            .filter(|&i| self.parent[i] == i)
            .count()
    }
}

/// Sort key for canonical ids: CVE first, then GHSA, then others; by
/// year and number within CVE.
fn rank(id: &str) -> (u8, u64, u64, &str) {
    if let Some(rest) = id.strip_prefix("CVE-")
        && let Some((y, n)) = rest.split_once('-')
        && let (Ok(y), Ok(n)) = (y.parse(), n.parse())
    {
        return (0, y, n, id);
    }
    if id.starts_with("GHSA-") {
        return (1, 0, 0, id);
    }
    (2, 0, 0, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_transitively() {
        let mut g = AliasGroups::default();
        g.add("PYSEC-1", &["GHSA-aaaa".into()]);
        g.add("GHSA-aaaa", &["CVE-2021-9999".into()]);
        g.add("DSA-1", &["CVE-2021-10000".into()]);
        g.add("OSV-2", &[]);
        g.finish();
        assert_eq!(g.canonical("PYSEC-1"), "CVE-2021-9999");
        assert_eq!(g.canonical("DSA-1"), "CVE-2021-10000");
        assert_eq!(g.canonical("OSV-2"), "OSV-2");
        assert_eq!(
            g.members("PYSEC-1"),
            ["CVE-2021-9999", "GHSA-aaaa", "PYSEC-1"]
        );
        assert_eq!(g.group_count(), 3);
    }
}
