//! vigil-store (in progress).
