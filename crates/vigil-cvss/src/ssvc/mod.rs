//! SSVC placeholder.
