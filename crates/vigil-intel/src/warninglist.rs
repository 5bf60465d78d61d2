//! warninglist
