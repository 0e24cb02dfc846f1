//! Which certificates a `rediss://` connection trusts: the public CAs (webpki roots, as
//! reqwest and lettre trust), or only a private CA from a PEM file (managed Redis often
//! signs with its own; `MCPGATE_REDIS_CA_FILE`). There is no way to skip verification.

use std::path::Path;
use std::sync::Arc;

use redis::{ConnectionAddr, ConnectionInfo, TlsCertificates};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::StoreError;

/// The trust of every TLS connection to Redis; [`RedisTrust::default`] is the public CAs.
#[derive(Clone, Default)]
pub struct RedisTrust {
    /// PEM holding at least one certificate, all of which parse.
    private_ca: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for RedisTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.private_ca {
            Some(_) => "RedisTrust::PrivateCa",
            None => "RedisTrust::PublicRoots",
        })
    }
}

impl RedisTrust {
    /// Trusts only the CA certificates in `pem` (one or more `CERTIFICATE` blocks).
    pub fn private_ca(pem: Vec<u8>) -> Result<Self, StoreError> {
        let mut certificates = 0;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            certificate.map_err(|error| tls_error(format!("a CA certificate: {error}")))?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(tls_error("the CA file holds no PEM CERTIFICATE block"));
        }
        Ok(Self {
            private_ca: Some(pem.into()),
        })
    }

    /// [`RedisTrust::private_ca`] of the PEM file at `path`.
    pub fn private_ca_file(path: &Path) -> Result<Self, StoreError> {
        let pem = std::fs::read(path)
            .map_err(|error| tls_error(format!("reading {}: {error}", path.display())))?;
        Self::private_ca(pem)
    }

    /// Whether a private CA replaces the public ones.
    pub fn has_private_ca(&self) -> bool {
        self.private_ca.is_some()
    }

    /// A client for `info`, trusting what `self` trusts when `info` is a TLS address.
    pub(crate) fn client(&self, info: ConnectionInfo) -> Result<redis::Client, StoreError> {
        match (&info.addr, self.certificates()) {
            (ConnectionAddr::TcpTls { .. }, Some(certificates)) => {
                Ok(redis::Client::build_with_tls(info, certificates)?)
            }
            _ => Ok(redis::Client::open(info)?),
        }
    }

    /// The private CA as the redis crate takes it (a cluster client's `certs`).
    pub(crate) fn certificates(&self) -> Option<TlsCertificates> {
        self.private_ca.as_ref().map(|pem| TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.to_vec()),
        })
    }
}

fn tls_error(reason: impl Into<String>) -> StoreError {
    StoreError::RedisTls {
        reason: reason.into(),
    }
}

/// `error` as [`StoreError::RedisTls`] when it is the server's certificate being
/// refused: no retry can mend that, so connecting stops at once with a reason that
/// says what to trust. Any other error is returned as it is.
pub(crate) fn name_refused_certificate(error: StoreError) -> StoreError {
    let StoreError::Redis(redis_error) = &error else {
        return error;
    };
    let mut source = std::error::Error::source(redis_error);
    while let Some(cause) = source {
        // An I/O error's own `source` skips the error it wraps: look inside it.
        let inner = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map_or(cause, |inner| inner as &(dyn std::error::Error + 'static));
        if let Some(rustls::Error::InvalidCertificate(reason)) =
            inner.downcast_ref::<rustls::Error>()
        {
            return tls_error(format!(
                "the server's certificate was refused ({reason:?}); if a private CA signed it, \
                 trust that CA with MCPGATE_REDIS_CA_FILE"
            ));
        }
        source = inner.source();
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_with_the_reason() {
        let empty = RedisTrust::private_ca(b"not a certificate\n".to_vec()).unwrap_err();
        assert!(empty.to_string().contains("no PEM CERTIFICATE"), "{empty}");
        let missing = RedisTrust::private_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );
    }
}
