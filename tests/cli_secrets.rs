//! Secrets are never printed: the client commands run against `rig serve`
//! with `RIG_LOG=trace` (every record of rig and of the crates under it),
//! with a token, secret params, URL userinfo and auth headers, and none of
//! their values shows in stdout or stderr.

use crate::cli_util::{Run, rig, run, socket_url};
use crate::util::RigServer;

const TOKEN: &str = "tok-SECRET-1";
/// A token too short to be hidden by value: only its position hides it.
/// `~` is in no base64 key, port or hex dump, so it cannot show by chance.
const SHORT_TOKEN: &str = "q~";
const JWT: &str = "jwt-SECRET-2";
const CODE: &str = "code-SECRET-3";
const BEARER: &str = "bearer-SECRET-4";
const COOKIE: &str = "cookie-SECRET-5";
const API_KEY: &str = "apikey-SECRET-6";
const USER: &str = "user-SECRET-7";
const PASSWORD: &str = "pass-SECRET-8";
const JOIN_TOKEN: &str = "join-SECRET-9";

const SECRETS: [&str; 10] =
    [TOKEN, SHORT_TOKEN, JWT, CODE, BEARER, COOKIE, API_KEY, USER, PASSWORD, JOIN_TOKEN];

/// The secret flags every command gets, after its own arguments.
fn secret_flags() -> Vec<String> {
    vec![
        "--param".into(),
        format!("access_code={CODE}"),
        "--param".into(),
        "user_id=42".into(),
        "--header".into(),
        format!("authorization: Bearer {BEARER}"),
        "--header".into(),
        format!("cookie: sid={COOKIE}"),
        "--header".into(),
        format!("x-api-key: {API_KEY}"),
    ]
}

/// `rig <args> <secret flags>` with `RIG_TOKEN=token` at trace level.
fn traced(args: &[&str], token: &str) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(secret_flags());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut command = rig(&refs);
    command.env("RIG_TOKEN", token).env("RIG_LOG", "trace");
    run(command, "")
}

fn assert_no_secret(what: &str, done: &Run) {
    let printed = format!("{}\n{}", done.stdout, done.stderr);
    for secret in SECRETS {
        assert!(!printed.contains(secret), "{what}: {secret:?} was printed:\n{printed}");
    }
}

#[test]
fn no_command_prints_a_secret_at_any_log_level() {
    let server = RigServer::try_start_with_env(&["--token", TOKEN], &[("RIG_LOG", "trace")])
        .expect("rig serve starts");
    let url = socket_url(&server);
    let with_jwt = format!("{url}?jwt={JWT}");
    let with_userinfo = format!("ws://{USER}:{PASSWORD}@127.0.0.1:{}/socket", server.addr().port());

    let join_param = format!("session_token={JOIN_TOKEN}");
    let push = traced(
        &["push", &with_jwt, "room:a", "echo", r#"{"n":1}"#, "--join-param", &join_param],
        TOKEN,
    );
    assert_eq!(push.code, Some(0), "{push:?}");
    assert!(push.stderr.contains("connecting to"), "trace records were printed: {push:?}");
    assert!(push.stderr.contains("user_id=42"), "ordinary params still show: {push:?}");
    assert_no_secret("push", &push);

    let monitor = traced(
        &["monitor", &with_jwt, "-t", "stream:s", "--join-param", "count=2", "--count", "2"],
        TOKEN,
    );
    assert_eq!(monitor.code, Some(0), "{monitor:?}");
    assert_no_secret("monitor", &monitor);

    let diagnose = traced(&["diagnose", &with_jwt, "--topic", "room:d"], TOKEN);
    assert_eq!(diagnose.code, Some(0), "{diagnose:?}");
    assert!(diagnose.stderr.contains("Request:"), "tungstenite's request dump: {diagnose:?}");
    assert_no_secret("diagnose", &diagnose);

    let json = traced(&["diagnose", &with_jwt, "--json"], TOKEN);
    assert_eq!(json.code, Some(0), "{json:?}");
    assert_no_secret("diagnose --json", &json);

    // A token under three characters: refused by the server, never printed.
    let short = traced(&["diagnose", &url], SHORT_TOKEN);
    assert_eq!(short.code, Some(3), "{short:?}");
    assert!(short.stdout.contains("token=***"), "{short:?}");
    assert_no_secret("diagnose, short token", &short);
    let short_push = traced(&["push", &url, "room:a", "echo", "{}"], SHORT_TOKEN);
    assert_eq!(short_push.code, Some(3), "{short_push:?}");
    assert_no_secret("push, short token", &short_push);

    // Userinfo is always secret: such a URL is refused as a usage error
    // before anything connects, and the refusal hides it too.
    let userinfo = traced(&["diagnose", &with_userinfo], TOKEN);
    assert_eq!(userinfo.code, Some(2), "{userinfo:?}");
    assert!(userinfo.stderr.contains("ws://***@127.0.0.1"), "{userinfo:?}");
    assert_no_secret("diagnose, userinfo", &userinfo);
    let push = traced(&["push", &with_userinfo, "room:a", "echo", "{}"], TOKEN);
    assert_eq!(push.code, Some(2), "{push:?}");
    assert_no_secret("push, userinfo", &push);
    let monitor = traced(&["monitor", &with_userinfo, "-t", "room:a", "--duration", "0.5"], TOKEN);
    assert_eq!(monitor.code, Some(2), "{monitor:?}");
    assert!(monitor.stderr.contains("user:password@ is not supported"), "{monitor:?}");
    assert_no_secret("monitor, userinfo", &monitor);

    // The server's own records (at trace: every message it reads) too.
    let served = Run { code: None, stdout: String::new(), stderr: server.stderr_text() };
    assert!(served.stderr.contains("phx_join"), "the server traced its input: {served:?}");
    assert_no_secret("rig serve", &served);
}
