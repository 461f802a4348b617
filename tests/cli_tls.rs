//! Server certificates the client commands refuse, and the one they now
//! trust: each refusal says why in words, with a hint for that cause.

use rcgen::{BasicConstraints, CertificateParams, IsCa, date_time_ymd};

use crate::cli_util::{Run, TlsServer, rig, run};

fn localhost() -> CertificateParams {
    CertificateParams::new(vec!["localhost".to_owned()]).unwrap()
}

fn push(url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["push", url, "room:a", "echo", r#"{"tls":1}"#, "--timeout", "5000"];
    args.extend_from_slice(extra);
    let mut command = rig(&args);
    command.env("RIG_TOKEN", "secret");
    run(command, "")
}

fn hint(done: &Run) -> &str {
    done.stderr.lines().find(|l| l.starts_with("hint: ")).unwrap_or_default()
}

#[test]
fn a_self_signed_ca_certificate_given_with_tls_ca_is_trusted() {
    let mut params = localhost();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let tls = TlsServer::start_with("tls-ca-true", params);
    let trusted = push(&tls.url(), &["--tls-ca", tls.ca()]);
    assert_eq!(trusted.code, Some(0), "{trusted:?}");
    assert_eq!(trusted.stdout, "{\"tls\":1}\n");

    let untrusted = push(&tls.url(), &[]);
    assert_eq!(untrusted.code, Some(3), "{untrusted:?}");
    assert!(
        untrusted.stderr.contains("a CA certificate (CA:TRUE) used as the server's own"),
        "{}",
        untrusted.stderr
    );
    assert!(!untrusted.stderr.contains("OtherError"), "{}", untrusted.stderr);
    assert!(hint(&untrusted).contains("--tls-ca"), "{}", untrusted.stderr);

    let mut command = rig(&["diagnose", &tls.url(), "--tls-ca", tls.ca()]);
    command.env("RIG_TOKEN", "secret");
    let diagnosed = run(command, "");
    assert_eq!(diagnosed.code, Some(0), "{diagnosed:?}");
    assert!(diagnosed.stdout.contains("verified"), "{}", diagnosed.stdout);
}

#[test]
fn each_certificate_refusal_says_why_and_only_an_unknown_issuer_suggests_tls_ca() {
    let mut expired = localhost();
    expired.not_before = date_time_ymd(2000, 1, 1);
    expired.not_after = date_time_ymd(2001, 1, 1);
    let mut not_yet = localhost();
    not_yet.not_before = date_time_ymd(2100, 1, 1);
    not_yet.not_after = date_time_ymd(2101, 1, 1);
    let cases = [
        ("tls-expired", expired, "invalid peer certificate: expired", "renewed"),
        ("tls-not-yet", not_yet, "invalid peer certificate: not valid yet", "clock"),
    ];
    for (name, params, why, advice) in cases {
        let tls = TlsServer::start_with(name, params);
        let done = push(&tls.url(), &["--tls-ca", tls.ca()]);
        assert_eq!(done.code, Some(3), "{done:?}");
        assert!(done.stderr.contains(why), "{name}: {}", done.stderr);
        assert!(hint(&done).contains(advice), "{name}: {}", done.stderr);
        assert!(!hint(&done).contains("--tls-ca"), "{name}: {}", done.stderr);
    }

    let tls = TlsServer::start("tls-name");
    let by_ip = tls.url().replace("localhost", "127.0.0.1");
    let done = push(&by_ip, &["--tls-ca", tls.ca()]);
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(done.stderr.contains("not valid for the server name"), "{}", done.stderr);
    assert!(hint(&done).contains("names another host"), "{}", done.stderr);
    assert!(!hint(&done).contains("--tls-ca"), "{}", done.stderr);

    let unknown = push(&tls.url(), &[]);
    assert_eq!(unknown.code, Some(3), "{unknown:?}");
    assert!(unknown.stderr.contains("unknown issuer"), "{}", unknown.stderr);
    assert!(hint(&unknown).contains("--tls-ca"), "{}", unknown.stderr);
}
