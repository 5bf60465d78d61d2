//! vigil-pipeline (in progress).
