//! `rig push` against `rig serve`: every exit code of the contract.

use crate::cli_util::{TlsServer, rig, run, socket_url};
use crate::util::RigServer;

fn push(server: &RigServer, args: &[&str], stdin: &str) -> crate::cli_util::Run {
    let url = socket_url(server);
    let mut all = vec!["push", url.as_str()];
    all.extend_from_slice(args);
    let mut command = rig(&all);
    command.env("RIG_TOKEN", "secret");
    run(command, stdin)
}

#[test]
fn ok_reply_prints_the_response_and_exits_0() {
    let server = RigServer::start_secret();
    let done = push(&server, &["room:a", "echo", r#"{"n":1}"#, "--join-param", "user=ann"], "");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.stdout, "{\"n\":1}\n");
    assert!(!done.stderr.contains("secret"), "the token never shows: {}", done.stderr);
}

#[test]
fn payload_from_stdin_and_full_websocket_url() {
    let server = RigServer::start_secret();
    let url = format!("{}/websocket", socket_url(&server));
    let mut command = rig(&["push", &url, "room:a", "echo", "-", "--token-env", "MY_TOKEN"]);
    command.env("MY_TOKEN", "secret");
    let done = run(command, r#"{"from":"stdin"}"#);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.stdout, "{\"from\":\"stdin\"}\n");
}

#[test]
fn error_reply_exits_1() {
    let server = RigServer::start_secret();
    let done = push(&server, &["room:a", "echo_error", r#"{"n":2}"#], "");
    assert_eq!(done.code, Some(1), "{done:?}");
    assert_eq!(done.stdout, "{\"n\":2}\n");
    assert!(done.stderr.contains("\"error\" reply"), "{}", done.stderr);
}

#[test]
fn refused_join_exits_1_with_the_reason() {
    let server = RigServer::start_secret();
    let done = push(&server, &["room:forbidden", "echo"], "");
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stdout.is_empty());
    assert!(done.stderr.contains(r#"{"reason":"unauthorized"}"#), "{}", done.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let server = RigServer::start_secret();
    let bad_json = push(&server, &["room:a", "echo", "{"], "");
    assert_eq!(bad_json.code, Some(2), "{bad_json:?}");
    assert!(bad_json.stderr.contains("not JSON"), "{}", bad_json.stderr);
    let missing = run(rig(&["push", "ws://127.0.0.1:1/socket"]), "");
    assert_eq!(missing.code, Some(2), "{missing:?}");
    let bad_url = run(rig(&["push", "ftp://h/socket", "room:a", "echo"]), "");
    assert_eq!(bad_url.code, Some(2), "{bad_url:?}");
    let bad_flag = push(&server, &["room:a", "echo", "--jitter", "sometimes"], "");
    assert_eq!(bad_flag.code, Some(2), "{bad_flag:?}");
}

#[test]
fn refused_token_and_closed_port_exit_3() {
    let server = RigServer::start_secret();
    let url = socket_url(&server);
    let mut command = rig(&["push", &url, "room:a", "echo"]);
    command.env("RIG_TOKEN", "wrong-token");
    let refused = run(command, "");
    assert_eq!(refused.code, Some(3), "{refused:?}");
    assert!(refused.stderr.contains("authentication failed"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("wrong-token"), "{}", refused.stderr);
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed =
        run(rig(&["push", &format!("ws://127.0.0.1:{port}/socket"), "room:a", "echo"]), "");
    assert_eq!(closed.code, Some(3), "{closed:?}");
    assert!(closed.stderr.contains("hint:"), "{}", closed.stderr);
}

#[test]
fn no_reply_exits_4() {
    let server = RigServer::start_secret();
    let done = push(&server, &["room:a", "noreply", "{}", "--timeout", "300"], "");
    assert_eq!(done.code, Some(4), "{done:?}");
    assert!(done.stderr.contains("no reply within 300 ms"), "{}", done.stderr);
}

#[test]
fn wss_needs_a_trusted_certificate_or_insecure() {
    let tls = TlsServer::start("push");
    let url = tls.url();
    let with = |extra: &[&str]| {
        let mut args =
            vec!["push", url.as_str(), "room:a", "echo", r#"{"tls":1}"#, "--timeout", "5000"];
        args.extend_from_slice(extra);
        let mut command = rig(&args);
        command.env("RIG_TOKEN", "secret");
        run(command, "")
    };
    let trusted = with(&["--tls-ca", tls.ca()]);
    assert_eq!(trusted.code, Some(0), "{trusted:?}");
    assert_eq!(trusted.stdout, "{\"tls\":1}\n");
    let untrusted = with(&[]);
    assert_eq!(untrusted.code, Some(3), "{untrusted:?}");
    assert!(untrusted.stderr.contains("--tls-ca"), "{}", untrusted.stderr);
    let insecure = with(&["--insecure"]);
    assert_eq!(insecure.code, Some(0), "{insecure:?}");
    assert!(insecure.stderr.contains("warning: --insecure"), "{}", insecure.stderr);
}

#[test]
fn serializer_v1_and_extra_headers_work() {
    let server = RigServer::start_secret();
    let args = ["room:a", "echo", r#"{"v":1}"#, "--vsn", "1", "--header", "X-Client: rig-test"];
    let done = push(&server, &args, "");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.stdout, "{\"v\":1}\n");
}

/// A push whose channel crashes (`boom`; on Phoenix any unhandled event)
/// exits 1 as soon as `phx_error` arrives, long before `--timeout`.
#[test]
fn a_channel_that_crashes_on_the_push_exits_1_at_once() {
    let server = RigServer::start_secret();
    for event in ["boom", "no_such_event"] {
        let done = push(&server, &["room:lobby", event, "--timeout", "30000"], "");
        assert_eq!(done.code, Some(1), "{done:?}");
        assert!(done.stdout.is_empty(), "{done:?}");
        let want = format!("rig: room:lobby {event}: the channel crashed on the server");
        assert!(done.stderr.contains(&want), "{}", done.stderr);
    }
}

/// A push whose channel the server closes (`close`: `{:stop, ...}` with no
/// reply) says so, not "abandoned: ChannelClosed".
#[test]
fn a_channel_closed_by_the_server_on_the_push_exits_1() {
    let server = RigServer::start_secret();
    let done = push(&server, &["room:lobby", "close", "--timeout", "30000"], "");
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.stderr.contains("rig: room:lobby close: channel closed by the server"),
        "{}",
        done.stderr
    );
}

/// `--token` is no flag of the client commands: the usage error points to
/// `RIG_TOKEN` and `--token-env`.
#[test]
fn a_token_flag_is_a_usage_error_that_points_to_the_environment() {
    for flag in [&["--token", "x"][..], &["--token=x"][..]] {
        let mut args = vec!["push", "ws://127.0.0.1:1/socket", "room:a", "echo"];
        args.extend_from_slice(flag);
        let done = run(rig(&args), "");
        assert_eq!(done.code, Some(2), "{done:?}");
        assert!(done.stderr.contains("RIG_TOKEN"), "{}", done.stderr);
        assert!(done.stderr.contains("--token-env"), "{}", done.stderr);
    }
}

/// A push over the server's message limit: the server closes with 1009
/// while rig is still writing it. rig names the close, not the failed write
/// ("broken pipe").
#[test]
fn a_push_over_the_server_limit_reports_close_1009() {
    let server = RigServer::start(&["--token", "secret", "--max-frame-size", "65536"]);
    let payload = format!(r#"{{"s":"{}"}}"#, "a".repeat(8_000_000));
    let done = push(&server, &["room:lobby", "echo", "-"], &payload);
    assert_eq!(done.code, Some(3), "{:?} {}", done.code, done.stderr);
    assert!(
        done.stderr.contains(
            "rig: room:lobby echo: the server closed the connection with 1009 (message too big)"
        ),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("--max-frame-size"), "{}", done.stderr);
}
