//! The native-tls backend (OpenSSL here) against the same rustls server and
//! rcgen certificates as the rustls tests.

use std::sync::mpsc;

use super::pki::{Ca, Validity, serve_wss};
use super::{Driver, echo};
use crate::transport::{CertificateError, Data, Error, State, TlsConfig, TlsConnector};

fn native_client(ca: &Ca) -> TlsConnector {
    TlsConfig::new().webpki_roots(false).ca_pem(ca.pem()).build_native_tls().unwrap()
}

fn certificate_error(names: &[&str], validity: Validity, trust: &Ca, ca: &Ca) -> Error {
    let addr = serve_wss(ca.server(names, validity), echo);
    let client = native_client(trust);
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    let err = d.open().unwrap_err();
    assert_eq!(d.conn.state(), State::Closed);
    err
}

#[test]
fn native_wss_echo_and_large_message() {
    let ca = Ca::new("rig test ca");
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let addr = serve_wss(ca.server(&["localhost"], Validity::Current), move |ws| {
        if go_rx.recv_timeout(super::DEADLINE).is_ok() {
            echo(ws);
        }
    });
    let client = native_client(&ca);
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    d.open().unwrap();
    let big: Vec<u8> = (0..6 << 20).map(|i: u32| (i % 241) as u8).collect();
    d.conn.send_text("small first").unwrap();
    d.conn.send_binary(big.clone()).unwrap();
    d.conn.flush().unwrap();
    d.after_call();
    assert!(d.blocked_on_write, "6 MiB must not fit the socket buffers");
    go_tx.send(()).unwrap();
    d.run_until(|d| d.frames.len() == 2).unwrap();
    assert_eq!(d.frames[0], Data::from("small first"));
    assert!(d.frames[1].as_bytes() == big.as_slice(), "echo differs");
}

#[test]
fn native_unknown_issuer() {
    let (ca, other) = (Ca::new("server ca"), Ca::new("other ca"));
    let err = certificate_error(&["localhost"], Validity::Current, &other, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::UnknownIssuer)), "{err:?}");
}

#[test]
fn native_wrong_hostname() {
    let ca = Ca::new("rig test ca");
    let err = certificate_error(&["elsewhere.test"], Validity::Current, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::NotValidForName)), "{err:?}");
}

#[test]
fn native_expired_and_not_yet_valid() {
    let ca = Ca::new("rig test ca");
    let err = certificate_error(&["localhost"], Validity::Expired, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::Expired)), "{err:?}");
    let err = certificate_error(&["localhost"], Validity::NotYetValid, &ca, &ca);
    assert!(matches!(err, Error::Certificate(CertificateError::NotYetValid)), "{err:?}");
}

#[test]
fn native_without_roots_is_a_config_error() {
    let err = TlsConfig::new().webpki_roots(false).build_native_tls().unwrap_err();
    assert!(matches!(err, Error::TlsConfig(_)), "{err:?}");
}
