//! Builds the `redis::Client` for one server, reading the TLS files of a `rediss://` target at
//! start so a missing or malformed file is an error naming it, not a failed handshake later.
//! Trust roots: `--redis-ca`, else `SSL_CERT_FILE`, else the system store (rustls-native-certs).

use std::path::Path;

use redis::{ClientTlsConfig, ConnectionAddr, ConnectionInfo, TlsCertificates};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::target::TlsFiles;
use crate::error::{Error, Result};

/// A client for `info`; TLS material is attached only to a `rediss://` address.
pub(crate) fn client(info: ConnectionInfo, files: &TlsFiles) -> Result<redis::Client> {
    if !matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
        return Ok(redis::Client::open(info)?);
    }
    let ca = match &files.ca {
        Some(p) => Some((p.clone(), "--redis-ca")),
        None => std::env::var_os("SSL_CERT_FILE")
            .filter(|v| !v.is_empty())
            .map(|v| (v.into(), "SSL_CERT_FILE")),
    };
    let root_cert = match ca {
        Some((path, what)) => Some(read_certs(&path, what)?),
        None => None,
    };
    let client_tls = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => Some(ClientTlsConfig {
            client_cert: read_certs(cert, "--redis-cert")?,
            client_key: read_key(key)?,
        }),
        _ => None,
    };
    if root_cert.is_none() && client_tls.is_none() {
        return Ok(redis::Client::open(info)?);
    }
    redis::Client::build_with_tls(
        info,
        TlsCertificates {
            client_tls,
            root_cert,
        },
    )
    .map_err(|e| Error::Invalid(format!("TLS settings: {e}")))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::Invalid(format!("cannot read {what} {}: {e}", path.display())))
}

/// The file's bytes, once checked to hold at least one PEM certificate.
fn read_certs(path: &Path, what: &str) -> Result<Vec<u8>> {
    let bytes = read(path, what)?;
    let certs: std::result::Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    match certs {
        Ok(c) if !c.is_empty() => Ok(bytes),
        Ok(_) => Err(Error::Invalid(format!(
            "{what} {}: no PEM certificate in the file",
            path.display()
        ))),
        Err(e) => Err(Error::Invalid(format!(
            "{what} {}: not a PEM certificate file: {e}",
            path.display()
        ))),
    }
}

fn read_key(path: &Path) -> Result<Vec<u8>> {
    let bytes = read(path, "--redis-key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        Error::Invalid(format!(
            "--redis-key {}: no PEM private key in the file: {e}",
            path.display()
        ))
    })?;
    Ok(bytes)
}

/// Rewrites a connection failure that is the user's to fix (TLS trust, certificate, password,
/// a Cluster) into `Error::Invalid` with a sentence naming it; other errors pass unchanged.
pub fn explain(e: Error, shown: &str) -> Error {
    let Error::Redis(r) = &e else {
        return e;
    };
    let msg = r.to_string();
    let lower = msg.to_ascii_lowercase();
    let why = if lower.contains("certificate") || lower.contains("alert") || lower.contains("tls") {
        format!(
            "TLS with {shown} failed: {msg} (the server's certificate must be signed by \
             --redis-ca or SSL_CERT_FILE, be valid now and name the host; a server that \
             requires client certificates needs --redis-cert and --redis-key)"
        )
    } else if msg.contains("WRONGPASS") || msg.contains("NOAUTH") || lower.contains("auth") {
        format!("Redis at {shown} refused the credentials: {msg}")
    } else {
        return e;
    };
    Error::Invalid(why)
}
