//! Scheduler cases.

use std::collections::HashSet;

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{JobSpec, Store};

use super::t;

const LEASE: i64 = 60_000_000;

fn spec(name: &str, interval: Option<i64>, next_secs: i64) -> JobSpec {
    JobSpec {
        name: name.to_owned(),
        kind: "refresh".to_owned(),
        interval_secs: interval,
        next_run: t(next_secs),
        payload: json!({ "feed": name }),
        tenant: TenantId::DEFAULT,
    }
}

pub async fn two_servers_claim_disjoint_jobs(a: Store, b: Store) {
    for i in 0..40 {
        a.upsert_job(&spec(&format!("job-{i:02}"), Some(300), 100))
            .await
            .expect("upsert");
    }
    let now = t(1000);
    let (ca, cb) = tokio::join!(
        async {
            let mut got = Vec::new();
            for _ in 0..4 {
                got.extend(
                    a.claim_due_jobs("server-a", now, LEASE, 6)
                        .await
                        .expect("claim a"),
                );
            }
            got
        },
        async {
            let mut got = Vec::new();
            for _ in 0..4 {
                got.extend(
                    b.claim_due_jobs("server-b", now, LEASE, 6)
                        .await
                        .expect("claim b"),
                );
            }
            got
        },
    );
    let na: HashSet<_> = ca.iter().map(|l| l.name.clone()).collect();
    let nb: HashSet<_> = cb.iter().map(|l| l.name.clone()).collect();
    assert_eq!(na.len(), ca.len());
    assert_eq!(nb.len(), cb.len());
    assert!(na.is_disjoint(&nb), "no job claimed twice");
    assert_eq!(na.len() + nb.len(), 40);
    assert!(
        a.claim_due_jobs("server-a", now, LEASE, 100)
            .await
            .expect("claim")
            .is_empty()
    );
    let jobs = b.list_jobs().await.expect("list");
    assert!(
        jobs.iter()
            .all(|j| j.lease_owner.is_some() && j.attempts == 1)
    );
}

pub async fn jobs_lease_expiry_and_stale_completion(s: Store) {
    s.upsert_job(&spec("feed", Some(300), 100))
        .await
        .expect("upsert");
    s.upsert_job(&spec("later", Some(300), 5000))
        .await
        .expect("upsert");
    let now = t(1000);
    let first = s.claim_due_jobs("a", now, LEASE, 10).await.expect("claim");
    assert_eq!(first.len(), 1, "only the due job");
    let lease = &first[0];
    assert_eq!(
        (lease.name.as_str(), lease.kind.as_str(), lease.attempts),
        ("feed", "refresh", 1)
    );
    assert_eq!(lease.payload, json!({ "feed": "feed" }));
    assert_eq!(lease.lease_until, now.add_micros(LEASE));
    assert!(
        s.claim_due_jobs("b", now.add_micros(LEASE - 1), LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        s.renew_lease(lease, now.add_micros(30_000_000), LEASE)
            .await
            .expect("renew")
    );

    // Owner "a" stalls; its renewed lease expires; "b" takes over.
    let later = now.add_micros(30_000_000 + LEASE + 1);
    let taken = s
        .claim_due_jobs("b", later, LEASE, 10)
        .await
        .expect("claim b");
    assert_eq!(taken.len(), 1);
    assert_ne!(taken[0].lease_token, lease.lease_token);
    assert_eq!(taken[0].attempts, 2);
    assert!(
        !s.renew_lease(lease, later, LEASE)
            .await
            .expect("stale renew")
    );
    assert!(
        !s.complete_job(lease, later, Ok(()))
            .await
            .expect("stale complete")
    );
    assert!(
        s.complete_job(&taken[0], later, Err("feed down".into()))
            .await
            .expect("complete")
    );
    assert!(
        !s.complete_job(&taken[0], later, Ok(()))
            .await
            .expect("twice"),
        "lease cleared"
    );

    let info = s.list_jobs().await.expect("list");
    let feed = info.iter().find(|j| j.name == "feed").expect("feed");
    assert_eq!(feed.last_error.as_deref(), Some("feed down"));
    assert_eq!(feed.last_run, Some(later));
    assert_eq!(feed.next_run, later.add_micros(300_000_000));
    assert_eq!((feed.lease_owner.as_ref(), feed.lease_until), (None, None));
    assert!(feed.enabled);

    let again = s
        .claim_due_jobs("a", feed.next_run, LEASE, 1)
        .await
        .expect("claim");
    assert_eq!(again[0].attempts, 3);
    assert!(
        s.complete_job(&again[0], feed.next_run, Ok(()))
            .await
            .expect("ok")
    );
    let feed = s
        .list_jobs()
        .await
        .expect("list")
        .into_iter()
        .find(|j| j.name == "feed")
        .expect("feed");
    assert_eq!((feed.attempts, feed.last_error), (0, None));
}

pub async fn jobs_one_shot_and_upsert_keeps_schedule(s: Store) {
    s.upsert_job(&spec("once", None, 10)).await.expect("upsert");
    let l = s.claim_due_jobs("a", t(10), LEASE, 5).await.expect("claim");
    assert!(
        s.complete_job(&l[0], t(11), Err("boom".into()))
            .await
            .expect("fail")
    );
    let j = s.list_jobs().await.expect("list").remove(0);
    assert_eq!(
        j.next_run,
        t(11).add_micros(30_000_000),
        "retried with backoff"
    );
    let l = s
        .claim_due_jobs("a", t(41), LEASE, 5)
        .await
        .expect("claim retry");
    assert!(s.complete_job(&l[0], t(42), Ok(())).await.expect("done"));
    let j = s.list_jobs().await.expect("list").remove(0);
    assert!(!j.enabled);
    assert!(
        s.claim_due_jobs("a", t(100_000), LEASE, 5)
            .await
            .expect("claim")
            .is_empty(),
        "one-shot runs once"
    );

    // Re-registering enables a finished one-shot job with the new time...
    s.upsert_job(&spec("once", None, 500))
        .await
        .expect("re-upsert");
    assert_eq!(s.list_jobs().await.expect("list")[0].next_run, t(500));
    // ...but keeps an enabled job's schedule.
    s.upsert_job(&JobSpec {
        payload: json!({ "v": 2 }),
        ..spec("once", None, 900)
    })
    .await
    .expect("update");
    let j = s.list_jobs().await.expect("list").remove(0);
    assert_eq!((j.next_run, j.payload), (t(500), json!({ "v": 2 })));
    assert!(s.upsert_job(&spec("", None, 1)).await.is_err());
    assert!(s.upsert_job(&spec("bad", Some(0), 1)).await.is_err());
}
