//! `wss://` against a rustls server with rcgen certificates: success, and
//! each certificate problem as a typed error.

use std::sync::mpsc;

use super::pki::{Ca, Validity, serve_wss};
use super::{Driver, echo};
use crate::transport::{CertificateError, Data, Error, State};

fn certificate_error(server_names: &[&str], validity: Validity, trust: &Ca, ca: &Ca) -> Error {
    let addr = serve_wss(ca.server(server_names, validity), echo);
    let client = trust.client();
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    let err = d.open().unwrap_err();
    assert_eq!(d.conn.state(), State::Closed);
    err
}

#[test]
fn wss_echo_through_a_private_ca() {
    let ca = Ca::new("rig test ca");
    let addr = serve_wss(ca.server(&["localhost"], Validity::Current), echo);
    let client = ca.client();
    let mut d =
        Driver::connect(addr, &format!("wss://localhost:{}/socket", addr.port()), Some(&client));
    assert_eq!(d.open().unwrap().status(), 101);
    d.conn.send_text("secret").unwrap();
    d.conn.send_binary(vec![1_u8, 2, 3]).unwrap();
    d.conn.flush().unwrap();
    d.run_until(|d| d.frames.len() == 2).unwrap();
    assert_eq!(d.frames, vec![Data::from("secret"), Data::from(vec![1_u8, 2, 3])]);
}

#[test]
fn wss_large_message_through_the_tls_buffer_limit() {
    // rustls takes 64 KiB of plaintext at a time: the rest waits in
    // tungstenite's buffer and goes out on writable events.
    let ca = Ca::new("rig test ca");
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let addr = serve_wss(ca.server(&["localhost"], Validity::Current), move |ws| {
        if go_rx.recv_timeout(super::DEADLINE).is_ok() {
            echo(ws);
        }
    });
    let client = ca.client();
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    d.open().unwrap();
    let big: Vec<u8> = (0..6 << 20).map(|i: u32| (i % 253) as u8).collect();
    d.conn.send_binary(big.clone()).unwrap();
    d.conn.flush().unwrap();
    d.after_call();
    assert!(d.blocked_on_write);
    go_tx.send(()).unwrap();
    d.run_until(|d| !d.frames.is_empty()).unwrap();
    assert!(d.frames[0].as_bytes() == big.as_slice(), "echo differs");
}

#[test]
fn unknown_issuer_is_a_typed_error() {
    let (ca, other) = (Ca::new("server ca"), Ca::new("some other ca"));
    let err = certificate_error(&["localhost"], Validity::Current, &other, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::UnknownIssuer)), "{err:?}");
    assert!(!err.is_retryable());
}

#[test]
fn wrong_hostname_is_a_typed_error() {
    let ca = Ca::new("rig test ca");
    let err = certificate_error(&["elsewhere.test"], Validity::Current, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::NotValidForName)), "{err:?}");
}

#[test]
fn expired_certificate_is_a_typed_error() {
    let ca = Ca::new("rig test ca");
    let err = certificate_error(&["localhost"], Validity::Expired, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::Expired)), "{err:?}");
    assert_eq!(err.to_string(), "tls: invalid peer certificate: expired");
}

#[test]
fn not_yet_valid_certificate_is_a_typed_error() {
    let ca = Ca::new("rig test ca");
    let err = certificate_error(&["localhost"], Validity::NotYetValid, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::NotYetValid)), "{err:?}");
}

#[test]
fn ip_address_urls_verify_against_ip_names() {
    let ca = Ca::new("rig test ca");
    let addr = serve_wss(ca.server(&["127.0.0.1"], Validity::Current), echo);
    let client = ca.client();
    let mut d = Driver::connect(addr, &format!("wss://{addr}/"), Some(&client));
    d.open().unwrap();
}

#[test]
fn wss_without_a_connector_is_refused_at_start() {
    let url = crate::transport::WsUrl::parse("wss://localhost:1/").unwrap();
    let request = crate::transport::ConnectRequest::new(url);
    let err = crate::transport::Connection::start("127.0.0.1:1".parse().unwrap(), &request, None)
        .unwrap_err();
    assert!(matches!(err, Error::TlsRequired));
}

#[test]
fn tls_config_errors_are_typed() {
    use crate::transport::TlsConfig;
    let err = TlsConfig::new().ca_pem("not a certificate").build().unwrap_err();
    assert!(matches!(err, Error::TlsConfig(ref m) if m.contains("no certificate")), "{err:?}");
    let err = TlsConfig::new().ca_file("/nonexistent/ca.pem").build().unwrap_err();
    assert!(matches!(err, Error::TlsConfig(ref m) if m.contains("/nonexistent/ca.pem")), "{err:?}");
    assert!(TlsConfig::new().native_roots(true).webpki_roots(true).build().is_ok());
}
