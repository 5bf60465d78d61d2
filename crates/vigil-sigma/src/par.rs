//! A parallel map over a slice with std threads (no pool): rule files are
//! parsed and automata built on up to eight threads at load time.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item on up to eight threads (one per core), in the
/// order of `items`. Items are handed out one at a time in `order` (indexes
/// into `items`; the largest first balances the threads), or in slice order.
pub(crate) fn map<T, R, F>(items: &[T], order: Option<&[usize]>, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let pick = |k: usize| match order {
        Some(o) => o.get(k).copied(),
        None => (k < items.len()).then_some(k),
    };
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(i) = pick(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Some(item) = items.get(i) {
                            mine.push((i, f(item)));
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out: Vec<(usize, R)> = done.into_iter().flatten().collect();
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_and_every_item() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            super::map(&items, None, |x| x * 2),
            (0..1000).map(|x| x * 2).collect::<Vec<_>>()
        );
        let order: Vec<usize> = (0..1000).rev().collect();
        assert_eq!(super::map(&items, Some(&order), |x| *x), items);
        assert!(super::map(&[] as &[u32], None, |x| *x).is_empty());
    }
}
