//! TLS server configuration (RFC 5425) from a user-provided PEM certificate
//! chain and key, with rustls' ring provider.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{Error, Result};

/// Loads the chain and key and builds an acceptor (TLS 1.2 and 1.3, no
/// client authentication).
pub(crate) fn acceptor(listener: &str, cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let err = |msg: String| Error::Tls {
        listener: listener.to_owned(),
        msg,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| err(format!("cannot read tls_cert {}: {e}", cert.display())))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| err(format!("invalid PEM in tls_cert {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(err(format!(
            "no certificate in tls_cert {}",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        err(format!(
            "cannot read a private key from tls_key {}: {e}",
            key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            err(format!(
                "tls_cert and tls_key do not make a usable pair: {e}"
            ))
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
