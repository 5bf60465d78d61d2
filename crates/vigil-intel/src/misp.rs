//! misp
