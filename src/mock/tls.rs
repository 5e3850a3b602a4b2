//! TLS for HTTPS mocks: a per-run certificate authority and the leaf certificates it issues.
//!
//! [`RunCa`] is generated fresh for every run (never stored outside the run's temporary folder);
//! [`RunCa::issue`] gives a mock a [`TlsIdentity`] naming `127.0.0.1`, `localhost` and the mock's
//! name, which the edge ([`crate::mock::server`]) serves with rustls. The identity is plain DER
//! bytes, so it can travel to a mock in a container as easily as to one in-process.
//!
//! Crypto is rustls with the `ring` provider (see `docs/decisions.md`); reqwest is built without
//! a provider of its own, so `install_crypto_provider` must run before any reqwest client is
//! built in this package (`crate::run::http_client` does it).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

/// Why TLS material could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating a key or a certificate failed.
    #[error("failed to generate {what}")]
    Generate {
        /// The CA or a mock's certificate.
        what: String,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// rustls refused the certificate or key.
    #[error("failed to set up TLS")]
    Config(#[source] rustls::Error),
    /// A PEM certificate chain or key did not read.
    #[error("failed to read {0}")]
    Pem(String),
}

/// One PEM block: `label` around `der` in base64, 64 characters a line.
fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// Install rustls' `ring` provider as the process default, once; later calls do nothing.
///
/// reqwest is built with `rustls-no-provider`, so building a reqwest client in this package
/// before this ran panics.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing the same provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A certificate authority that lives as long as one run.
pub struct RunCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl fmt::Debug for RunCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunCa").finish_non_exhaustive()
    }
}

/// A certificate chain and its private key, as DER, ready to serve.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsIdentity {
    /// The leaf certificate, then the CA certificate.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's private key, PKCS#8.
    pub key: Vec<u8>,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field(
                "chain",
                &format_args!("{} certificate(s)", self.chain.len()),
            )
            .field("key", &"[redacted]")
            .finish()
    }
}

fn generate(what: &str) -> impl FnOnce(rcgen::Error) -> TlsError + '_ {
    move |source| TlsError::Generate {
        what: what.to_owned(),
        source,
    }
}

impl RunCa {
    /// A new CA with a fresh key.
    ///
    /// ```
    /// let ca = reenact::mock::tls::RunCa::generate()?;
    /// assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// let identity = ca.issue("xero")?;
    /// assert_eq!(identity.chain.len(), 2);
    /// # Ok::<(), reenact::mock::tls::TlsError>(())
    /// ```
    pub fn generate() -> Result<RunCa, TlsError> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "reenact per-run CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().map_err(generate("the CA key"))?;
        let issuer =
            CertifiedIssuer::self_signed(params, key).map_err(generate("the CA certificate"))?;
        Ok(RunCa { issuer })
    }

    /// The CA certificate as PEM, for clients to trust.
    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate as DER.
    pub fn ca_der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A leaf certificate for mock `name`: SANs `127.0.0.1`, `localhost` and `name`.
    pub fn issue(&self, name: &str) -> Result<TlsIdentity, TlsError> {
        self.issue_with_names(name, &[])
    }

    /// A leaf certificate for mock `name` that also names `hostnames` (the mock's `hostnames:`,
    /// under which a container target reaches it on the run's network).
    ///
    /// ```
    /// let ca = reenact::mock::tls::RunCa::generate()?;
    /// let identity = ca.issue_with_names("xero", &["api.xero.com".to_owned()])?;
    /// assert_eq!(identity.chain.len(), 2);
    /// # Ok::<(), reenact::mock::tls::TlsError>(())
    /// ```
    pub fn issue_with_names(
        &self,
        name: &str,
        hostnames: &[String],
    ) -> Result<TlsIdentity, TlsError> {
        let what = format!("the certificate of mock `{name}`");
        let mut dns_names = vec!["localhost".to_owned(), name.to_owned()];
        dns_names.extend(hostnames.iter().cloned());
        let mut params = CertificateParams::new(dns_names).map_err(generate(&what))?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(generate(&what))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(generate(&what))?;
        Ok(TlsIdentity {
            chain: vec![cert.der().to_vec(), self.ca_der()],
            key: key.serialize_der(),
        })
    }
}

impl TlsIdentity {
    /// The chain and the key as PEM (`CERTIFICATE` blocks, then one `PRIVATE KEY` block), e.g.
    /// to put them into a mock container.
    pub fn to_pem(&self) -> (String, String) {
        let chain = self
            .chain
            .iter()
            .map(|der| pem_block("CERTIFICATE", der))
            .collect();
        (chain, pem_block("PRIVATE KEY", &self.key))
    }

    /// Read an identity back from [`TlsIdentity::to_pem`]'s two texts.
    ///
    /// ```
    /// use reenact::mock::tls::{RunCa, TlsIdentity};
    /// let identity = RunCa::generate()?.issue("xero")?;
    /// let (chain, key) = identity.to_pem();
    /// assert_eq!(TlsIdentity::from_pem(chain.as_bytes(), key.as_bytes())?, identity);
    /// # Ok::<(), reenact::mock::tls::TlsError>(())
    /// ```
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<TlsIdentity, TlsError> {
        use rustls::pki_types::pem::PemObject;
        let chain = CertificateDer::pem_slice_iter(chain)
            .map(|cert| cert.map(|der| der.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem(format!("the certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(TlsError::Pem(
                "the certificate chain has no certificate".into(),
            ));
        }
        let key = PrivatePkcs8KeyDer::from_pem_slice(key)
            .map_err(|e| TlsError::Pem(format!("the private key: {e}")))?;
        Ok(TlsIdentity {
            chain,
            key: key.secret_pkcs8_der().to_vec(),
        })
    }

    /// A rustls server configuration serving this identity over HTTP/1.1.
    pub(crate) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain: Vec<CertificateDer<'static>> = self
            .chain
            .iter()
            .map(|der| CertificateDer::from(der.clone()))
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Config)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_identities_make_a_server_config() {
        let ca = RunCa::generate().unwrap();
        let identity = ca.issue("accounting").unwrap();
        identity.server_config().unwrap();
        assert!(format!("{identity:?}").contains("[redacted]"));
    }

    #[test]
    fn hostnames_become_subject_alternative_names() {
        let ca = RunCa::generate().unwrap();
        let identity = ca
            .issue_with_names("xero", &["api.xero.com".to_owned()])
            .unwrap();
        let leaf = &identity.chain[0];
        let contains = |needle: &[u8]| leaf.windows(needle.len()).any(|w| w == needle);
        // DNS SANs are IA5Strings in the DER as they are: each name appears verbatim.
        assert!(contains(b"api.xero.com"));
        assert!(contains(b"xero"));
        let plain = ca.issue("xero").unwrap();
        assert!(!plain.chain[0].windows(12).any(|w| w == b"api.xero.com"));
    }
}
