//! The server's [`IntelSink`]: STIX objects posted over TAXII go through
//! the same importer as `vigil intel import` (indicators merged with every
//! provenance kept), and the detectors are rebuilt when indicators changed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Notify;
use vigil_intel::IndicatorSet;
use vigil_intel::stix::ImportOptions;
use vigil_model::{Clock, TenantId};
use vigil_server::{IntelImport, IntelSink};
use vigil_store::Store;

use crate::commands::intel::{InputFormat, parse_bytes, store_parsed};

/// Imports posted objects into the intel store.
pub struct StoreSink {
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Notified when indicators changed (the detectors are rebuilt).
    pub changed: Arc<Notify>,
}

impl StoreSink {
    async fn run(
        &self,
        tenant: TenantId,
        objects: Vec<Value>,
        source: String,
    ) -> anyhow::Result<IntelImport> {
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": objects,
        });
        let bytes = serde_json::to_vec(&bundle)?;
        let (inds, objs, report) = tokio::task::spawn_blocking(move || {
            parse_bytes(
                &bytes,
                &source,
                InputFormat::Stix,
                &ImportOptions::default(),
            )
        })
        .await??;
        let mut set = IndicatorSet::new();
        set.merge(inds);
        let (ind, _) = store_parsed(&self.store, tenant, &set, &objs, self.clock.now()).await?;
        if ind.added + ind.updated > 0 {
            self.changed.notify_one();
        }
        Ok(IntelImport {
            added: ind.added,
            updated: ind.updated,
            errors: report
                .errors
                .into_iter()
                .map(|e| (e.id, e.reason))
                .collect(),
        })
    }
}

impl IntelSink for StoreSink {
    fn import(
        &self,
        tenant: TenantId,
        objects: Vec<Value>,
        source: String,
    ) -> Pin<Box<dyn Future<Output = Result<IntelImport, String>> + Send + '_>> {
        Box::pin(async move {
            self.run(tenant, objects, source)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }
}
