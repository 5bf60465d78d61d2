//! vigil-ingest (in progress).
