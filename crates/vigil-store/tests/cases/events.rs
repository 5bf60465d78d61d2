//! Event log cases.

use vigil_model::{TenantId, Timestamp};
use vigil_store::{Error, Store};

use super::{OTHER, event, t};

pub async fn append_assigns_ascending_seqs(s: Store) {
    assert_eq!(s.max_event_seq().await.expect("max"), 0);
    // 1,234 events: crosses the 500-row statement chunks.
    let mut batch: Vec<_> = (0..1234)
        .map(|n| event(TenantId::DEFAULT, 100 + n as i64, n))
        .collect();
    s.append_events(&mut batch).await.expect("append");
    assert!(batch[0].seq > 0);
    assert!(
        batch.windows(2).all(|w| w[0].seq < w[1].seq),
        "ascending in slice order"
    );

    let stored = s.events_after(0, 10_000).await.expect("after 0");
    assert_eq!(stored.len(), batch.len());
    for (e, st) in batch.iter().zip(&stored) {
        assert_eq!(st.seq, e.seq);
        assert_eq!(st.id, e.id);
        assert_eq!(st.tenant, e.tenant);
        assert_eq!(st.received_at, e.received_at);
        assert_eq!(st.time, e.time);
        assert_eq!(st.host.as_deref(), e.host.as_deref());
        assert_eq!(st.format, "json");
        assert_eq!(st.source, "test");
        assert_eq!(st.raw, &e.raw[..]);
    }
    let page = s.events_after(batch[599].seq, 10).await.expect("page");
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        batch[600..610].iter().map(|e| e.seq).collect::<Vec<_>>()
    );

    let mut more = vec![
        event(TenantId::DEFAULT, 5000, 1),
        event(TenantId::DEFAULT, 5001, 2),
    ];
    s.append_events(&mut more).await.expect("second batch");
    assert!(more[0].seq > batch[1233].seq && more[1].seq > more[0].seq);
    assert_eq!(s.max_event_seq().await.expect("max"), more[1].seq);
    assert_eq!(s.count_events(None).await.expect("count"), 1236);
    assert_eq!(
        s.count_events(Some(TenantId::DEFAULT))
            .await
            .expect("count"),
        1236
    );
    assert_eq!(s.count_events(Some(OTHER)).await.expect("count"), 0);
    s.append_events(&mut [])
        .await
        .expect("empty batch is a no-op");
}

pub async fn append_is_all_or_nothing(s: Store) {
    let mut ok = vec![event(TenantId::DEFAULT, 1, 0)];
    s.append_events(&mut ok).await.expect("first");

    // Unknown tenant in the middle of a batch bigger than one statement.
    let mut batch: Vec<_> = (0..700).map(|n| event(TenantId::DEFAULT, 10, n)).collect();
    batch[650].tenant = TenantId::from_uuid(uuid::Uuid::from_u128(0xdead));
    let err = s
        .append_events(&mut batch)
        .await
        .expect_err("unknown tenant");
    assert!(matches!(err, Error::Constraint { .. }), "{err}");
    assert!(
        batch.iter().all(|e| e.seq == 0),
        "no seq assigned on failure"
    );
    assert_eq!(
        s.count_events(None).await.expect("count"),
        1,
        "nothing of the batch stored"
    );

    // Duplicate id: a conflict, nothing stored.
    let mut dup = vec![
        event(TenantId::DEFAULT, 11, 1),
        event(TenantId::DEFAULT, 11, 2),
    ];
    dup[1].id = dup[0].id;
    let err = s.append_events(&mut dup).await.expect_err("duplicate id");
    assert!(err.is_conflict(), "{err}");
    let mut again = ok.clone();
    assert!(
        s.append_events(&mut again)
            .await
            .expect_err("re-append")
            .is_conflict()
    );
    assert_eq!(s.count_events(None).await.expect("count"), 1);

    // The store is still usable and seqs keep ascending.
    let mut next = vec![event(TenantId::DEFAULT, 12, 3)];
    s.append_events(&mut next).await.expect("after failure");
    assert!(next[0].seq > ok[0].seq);
}

pub async fn list_events_pages_newest_first(s: Store) {
    s.create_tenant(OTHER, "acme", t(0)).await.expect("tenant");
    let mut batch: Vec<_> = (0..25usize)
        .map(|n| {
            event(
                if n.is_multiple_of(5) {
                    OTHER
                } else {
                    TenantId::DEFAULT
                },
                100 + n as i64,
                n,
            )
        })
        .collect();
    s.append_events(&mut batch).await.expect("append");
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .list_events(TenantId::DEFAULT, 7, before)
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        before = page.last().map(|e| e.seq);
        seen.extend(page);
    }
    let expected: Vec<i64> = batch
        .iter()
        .rev()
        .filter(|e| e.tenant == TenantId::DEFAULT)
        .map(|e| e.seq)
        .collect();
    assert_eq!(seen.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
    assert_eq!(
        s.list_events(OTHER, 100, None).await.expect("other").len(),
        5
    );
}

pub async fn purge_events_by_retention(s: Store) {
    let mut batch: Vec<_> = (1..=100)
        .map(|n| event(TenantId::DEFAULT, n as i64, n))
        .collect();
    s.append_events(&mut batch).await.expect("append");
    let max = s.max_event_seq().await.expect("max");
    assert_eq!(
        s.purge_events(Timestamp::from_secs(51))
            .await
            .expect("purge"),
        50
    );
    assert_eq!(s.count_events(None).await.expect("count"), 50);
    let rest = s.events_after(0, 1000).await.expect("rest");
    assert_eq!(rest[0].received_at, Timestamp::from_secs(51));
    assert_eq!(
        s.purge_events(Timestamp::from_secs(51))
            .await
            .expect("again"),
        0
    );
    assert_eq!(
        s.purge_events(Timestamp::from_secs(1000))
            .await
            .expect("all"),
        50
    );
    let mut next = vec![event(TenantId::DEFAULT, 2000, 1)];
    s.append_events(&mut next)
        .await
        .expect("append after purge");
    assert!(next[0].seq > max, "log positions are never reused");
}

pub async fn two_servers_append_events_concurrently(a: Store, b: Store) {
    let mut tasks = Vec::new();
    for (i, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for round in 0..5 {
                let mut batch: Vec<_> = (0..50)
                    .map(|n| event(TenantId::DEFAULT, (i * 1000 + round * 50 + n) as i64, n))
                    .collect();
                s.append_events(&mut batch).await.expect("append");
                assert!(batch.windows(2).all(|w| w[0].seq < w[1].seq));
                seqs.extend(batch.iter().map(|e| e.seq));
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 1000, "every event got its own seq");
    assert_eq!(a.count_events(None).await.expect("count"), 1000);
    let read = b.events_after(0, 2000).await.expect("read");
    assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), all);
}
