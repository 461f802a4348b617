//! `wss://` with a throwaway rcgen certificate.

use std::net::TcpStream;
use std::sync::Arc;

use tungstenite::client::IntoClientRequest as _;

use super::util::WAIT;
use crate::server::{Server, ServerConfig, TlsConfig};

#[test]
fn serves_websockets_over_tls() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let tls = TlsConfig::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let server = Server::start(ServerConfig::builder().tls(tls).build()).unwrap();
    assert!(server.url().starts_with("wss://127.0.0.1:"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(server.local_addr()).unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let stream = rustls::StreamOwned::new(conn, sock);
    let url = format!("wss://localhost:{}/socket/websocket?vsn=2.0.0", server.local_addr().port());
    let (mut ws, response) =
        tungstenite::client(url.into_client_request().unwrap(), stream).unwrap();
    assert_eq!(response.status().as_u16(), 101);
    ws.send(tungstenite::Message::text(r#"["1","1","room:tls","phx_join",{}]"#)).unwrap();
    let reply = ws.read().unwrap();
    assert_eq!(
        reply.to_text().unwrap(),
        r#"["1","1","room:tls","phx_reply",{"response":{"joined":"room:tls"},"status":"ok"}]"#
    );
    // A burst bigger than the socket buffers crosses TLS intact and in order.
    ws.send(tungstenite::Message::text(
        r#"["2","2","stream:tls","phx_join",{"mode":"burst","count":3000}]"#,
    ))
    .unwrap();
    let _join_reply = ws.read().unwrap();
    for seq in 1..=3000 {
        let text = ws.read().unwrap().into_text().unwrap();
        assert!(
            text.starts_with(&format!(r#"["2",null,"stream:tls","event",{{"seq":{seq},"t":"#)),
            "{text}"
        );
    }
    let done = ws.read().unwrap().into_text().unwrap();
    assert!(done.starts_with(r#"["2",null,"stream:tls","done",{"count":3000,"#), "{done}");
}

#[test]
fn refuses_pem_without_a_key() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let err = TlsConfig::from_pem(certified.cert.pem().as_bytes(), b"").unwrap_err();
    assert!(err.to_string().contains("no usable private key"), "{err}");
}
