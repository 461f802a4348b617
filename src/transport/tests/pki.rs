//! Test certificates (rcgen) and a rustls WebSocket server thread.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::WebSocket;

use super::serve_tcp;
use crate::transport::{TlsConfig, TlsConnector};

/// The TLS stream a test server speaks WebSocket over.
pub(super) type TlsServerStream = StreamOwned<ServerConnection, TcpStream>;

/// A private certificate authority.
pub(super) struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// How the leaf certificate should be wrong, if at all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Validity {
    Current,
    Expired,
    NotYetValid,
}

impl Ca {
    pub(super) fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    /// A client connector that trusts only this CA.
    pub(super) fn client(&self) -> TlsConnector {
        TlsConfig::new().webpki_roots(false).ca_pem(self.pem()).build().unwrap()
    }

    /// The CA certificate in PEM.
    pub(super) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server configuration with a leaf for `names`, signed by this CA.
    pub(super) fn server(&self, names: &[&str], validity: Validity) -> Arc<ServerConfig> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        match validity {
            Validity::Current => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            Validity::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(4000, 1, 1);
                params.not_after = rcgen::date_time_ymd(4001, 1, 1);
            }
        }
        let key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> =
            vec![leaf.der().clone(), self.issuer.der().clone()];
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }
}

/// A `wss` server for one connection: TLS with `config`, then the upgrade,
/// then `handler`. A failed TLS or WebSocket handshake ends the thread.
pub(super) fn serve_wss(
    config: Arc<ServerConfig>,
    handler: impl FnOnce(WebSocket<TlsServerStream>) + Send + 'static,
) -> SocketAddr {
    serve_tcp(move |tcp| {
        let tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        if let Ok(ws) = tungstenite::accept(tls) {
            handler(ws);
        }
    })
}
