//! TLS for the client (feature `client`): rustls with the system's root certificates
//! (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), plus a private CA when one is given
//! ([`trust_ca_file`], or the `ROULETTE_CA_FILE` variable). `https://` and `wss://` servers use
//! it; `http://` stays for loopback and the LAN.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A private CA to trust besides the system's roots, set once before connecting.
static EXTRA_CA: Mutex<Option<PathBuf>> = Mutex::new(None);
/// The client configuration, built on first use.
static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();

/// Trusts the CA certificates in the PEM file at `path` too (a private CA, or a TLS proxy's
/// own root). Call it before the first connection.
pub fn trust_ca_file(path: impl Into<PathBuf>) {
    if let Ok(mut extra) = EXTRA_CA.lock() {
        *extra = Some(path.into());
    }
}

/// The client's TLS configuration, or why it could not be made (a CA file that cannot be
/// read, no root certificate at all).
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    CONFIG.get_or_init(build).clone()
}

fn build() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    // The system's roots; SSL_CERT_FILE and SSL_CERT_DIR replace them when set. Files that
    // fail to parse are skipped: one bad file must not cost every other root.
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    let extra = EXTRA_CA
        .lock()
        .ok()
        .and_then(|e| e.clone())
        .or_else(|| std::env::var_os("ROULETTE_CA_FILE").map(PathBuf::from));
    if let Some(path) = extra {
        for cert in read_pem(&path)? {
            roots.add(cert).map_err(|e| {
                format!(
                    "{} holds a certificate that cannot be a CA: {e}",
                    path.display()
                )
            })?;
        }
    }
    if roots.is_empty() {
        return Err(
            "no root certificate was found to check servers with: install the system's CA \
             certificates (Debian: ca-certificates), or pass --ca-file"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "the CA file {} holds no certificate",
            path.display()
        ));
    }
    Ok(certs)
}
