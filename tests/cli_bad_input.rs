//! Bad input on the command line: every command refuses it with exit 2 and a
//! sentence saying what is allowed, before it connects, listens or panics.

use std::net::TcpListener;

use crate::cli_util::{Run, rig, run};

/// Nothing listens here; a command that got this far would fail with 3.
const NOWHERE: &str = "ws://127.0.0.1:1/socket";

fn usage_error(args: &[&str], stdin: &str) -> Run {
    let done = run(rig(args), stdin);
    assert_eq!(done.code, Some(2), "rig {args:?} must be a usage error: {done:?}");
    assert!(done.stdout.is_empty(), "rig {args:?}: {done:?}");
    done
}

#[test]
fn numeric_flags_out_of_range_exit_2_naming_the_range() {
    let huge = "18446744073709551615";
    let cases: &[(&[&str], &str)] = &[
        (&["push", NOWHERE, "room:a", "echo", "--timeout", huge], "must be 1 to 86400000 ms"),
        (&["push", NOWHERE, "room:a", "echo", "--timeout", "0"], "must be 1 to 86400000 ms"),
        (&["push", NOWHERE, "room:a", "echo", "--heartbeat-interval", "0"], "must be 100 to"),
        (&["push", NOWHERE, "room:a", "echo", "--heartbeat-timeout", huge], "must be 100 to"),
        (&["monitor", NOWHERE, "-t", "room:a", "--duration", huge], "must be 0 to 31536000 s"),
        (&["monitor", NOWHERE, "-t", "room:a", "--duration", "-1"], "must be 0 to 31536000 s"),
        (&["monitor", NOWHERE, "-t", "room:a", "--heartbeat-interval", "0"], "must be 100 to"),
        (&["diagnose", NOWHERE, "--timeout", "0"], "must be 1 to 86400000 ms"),
        (&["demo", "--duration", "1e300"], "must be 0 to 31536000 s"),
        (&["demo", "--rate", huge], "must be 1 to 1000000 events/s"),
        (&["serve", "--addr", "127.0.0.1:0", "--idle-timeout", "0"], "must be 1 to 31536000 s"),
        (&["serve", "--addr", "127.0.0.1:0", "--idle-timeout", huge], "must be 1 to 31536000 s"),
        (&["proxy", "--upstream", "127.0.0.1:1", "--latency", huge], "must be 0 to 86400000 ms"),
        (&["proxy", "--upstream", "127.0.0.1:1", "--stall-every", huge, "--stall-for", "1"], "ms"),
    ];
    for (args, range) in cases {
        let done = usage_error(args, "");
        assert!(done.stderr.contains("is out of range"), "rig {args:?}: {}", done.stderr);
        assert!(done.stderr.contains(range), "rig {args:?}: {}", done.stderr);
        assert!(!done.stderr.contains("panicked"), "rig {args:?}: {}", done.stderr);
    }
}

#[test]
fn bad_urls_exit_2_before_connecting() {
    let cases = [
        ("ws://:4000/socket", "no host"),
        ("ws://127.0.0.1:99999/socket", "port \"99999\" is not a number from 1 to 65535"),
        ("ws://127.0.0.1:0/socket", "port \"0\" is not a number from 1 to 65535"),
        ("ws://[::1/socket", "has no closing ']'"),
        ("ws://bücher.example/socket", "is not ASCII"),
    ];
    for (url, why) in cases {
        for args in [
            vec!["push", url, "room:a", "echo"],
            vec!["monitor", url, "-t", "room:a"],
            vec!["diagnose", url],
        ] {
            let done = usage_error(&args, "");
            assert!(done.stderr.contains(why), "rig {args:?}: {}", done.stderr);
            assert!(!done.stderr.contains("cannot connect"), "rig {args:?}: {}", done.stderr);
        }
    }
}

#[test]
fn bad_headers_exit_2_saying_what_is_wrong() {
    let cases = [
        ("Bad Name: v", "the name may hold only"),
        (": v", "the name is empty"),
        ("X-Ok: caf\u{e9}", "the value may hold only visible ASCII"),
        ("no colon", "no ':' after the name"),
    ];
    for (header, why) in cases {
        let done = usage_error(&["push", NOWHERE, "room:a", "echo", "--header", header], "");
        assert!(done.stderr.contains(why), "--header {header:?}: {}", done.stderr);
    }
}

#[test]
fn a_payload_over_the_frame_limit_exits_2_saying_the_limit() {
    let big = format!("\"{}\"", "a".repeat(9 << 20));
    let done = usage_error(&["push", NOWHERE, "room:a", "echo", "-"], &big);
    assert!(
        done.stderr.contains("over the frame limit of 8388608 bytes (8 MiB)"),
        "{}",
        done.stderr
    );
}

#[test]
fn serve_and_proxy_usage_errors_exit_2_and_failures_to_run_exit_1() {
    let usage: &[&[&str]] = &[
        &["serve", "--addr", "not an address"],
        &["serve", "--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem"],
        &["serve", "--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent/c", "--tls-key", "/x/k"],
        &["proxy", "--upstream", "not an address"],
        &["proxy", "--upstream", "127.0.0.1:1", "--listen", "nowhere"],
        &["proxy", "--upstream", "127.0.0.1:1", "--direction", "sideways"],
        &["proxy", "--upstream", "127.0.0.1:1", "--stall-every", "10"],
        &["proxy", "--upstream", "127.0.0.1:1", "--reset-every", "0"],
    ];
    for args in usage {
        let done = usage_error(args, "");
        assert!(done.stderr.starts_with("rig: "), "rig {args:?}: {}", done.stderr);
    }
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for args in [
        vec!["serve", "--addr", addr.as_str()],
        vec!["proxy", "--upstream", "127.0.0.1:1", "--listen", addr.as_str()],
    ] {
        let done = run(rig(&args), "");
        assert_eq!(done.code, Some(1), "rig {args:?} cannot listen: {done:?}");
        assert!(done.stderr.starts_with("rig: cannot listen on "), "rig {args:?}: {done:?}");
        assert!(!done.stderr.contains("os error"), "in words: {}", done.stderr);
    }
}
