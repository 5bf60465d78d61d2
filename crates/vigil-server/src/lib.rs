//! vigil-server (in progress).
