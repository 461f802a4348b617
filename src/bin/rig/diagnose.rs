//! `rig diagnose`: check each layer between here and a Phoenix socket, and
//! say which one fails, why, and what to try.

use std::process::ExitCode;

use rig::time::Clock;
use rig::transport::{Scheme, WsUrl};
use serde_json::{Value, json};

use crate::exit::{self, CONNECTION, Failure, OK};
use crate::flags::{Client, client_command};
use crate::probe::{self, Deadline, Step};
use crate::probe_ws;
use crate::push::print_line;

client_command! {
    /// Check DNS, TCP, TLS and the certificate, the WebSocket upgrade,
    /// heartbeat round trips and (with --topic) a join, step by step.
    /// Exits 0 when every step passes, 3 otherwise.
    #[argh(subcommand, name = "diagnose", example = "rig diagnose wss://example.org/socket --topic room:lobby")]
    pub(crate) struct DiagnoseArgs {
        /// socket URL, e.g. ws://localhost:4000/socket (wss:// for TLS)
        #[argh(positional)]
        url: String,
        /// also join this topic
        #[argh(option)]
        topic: Option<String>,
        /// print one JSON object instead of lines
        #[argh(switch)]
        json: bool,
    }
}

/// Runs `rig diagnose`.
pub(crate) fn main(args: DiagnoseArgs) -> ExitCode {
    exit::finish(run(&args))
}

fn run(args: &DiagnoseArgs) -> Result<u8, Failure> {
    let client = args.client_flags().client(&args.url)?;
    let connect_url = connect_url(&client);
    let redacted = client.redactor.apply(&connect_url);
    let steps = probe_all(&client, &connect_url, &redacted, args.topic.as_deref());
    let all_ok = steps.iter().all(|s| s.ok);
    if args.json {
        let list: Vec<Value> = steps
            .iter()
            .map(|s| {
                let mut v =
                    json!({"step": s.name, "ok": s.ok, "detail": client.redactor.apply(&s.detail)});
                if let Some(hint) = s.hint {
                    v["hint"] = hint.into();
                }
                if let (Some(obj), Value::Object(data)) = (v.as_object_mut(), &s.data) {
                    for (k, d) in data {
                        obj.insert(k.clone(), d.clone());
                    }
                }
                v
            })
            .collect();
        print_line(&json!({"url": redacted, "ok": all_ok, "steps": list}).to_string())?;
    } else {
        print_line(&format!("diagnose {redacted}"))?;
        for step in &steps {
            let status = if step.ok { "ok" } else { "FAILED" };
            print_line(&format!(
                "  {:<12} {status:<6} {}",
                step.name,
                client.redactor.apply(&step.detail)
            ))?;
            if let Some(hint) = step.hint {
                print_line(&format!("  {:<12} hint: {hint}", ""))?;
            }
        }
    }
    Ok(if all_ok { OK } else { CONNECTION })
}

/// The URL the engine would open: `<endpoint>/websocket?<params>&vsn=..`.
fn connect_url(client: &Client) -> String {
    rig::protocol::connect_url(
        &client.endpoint,
        &client.params,
        if client.vsn1 { "1.0.0" } else { "2.0.0" },
    )
}

/// Runs the steps in order; the first failure skips the rest. `--timeout`
/// bounds the whole run: every step gets what is left of it.
fn probe_all(client: &Client, url: &str, redacted: &str, topic: Option<&str>) -> Vec<Step> {
    let clock = Clock::real();
    let deadline = Deadline::new(&clock, client.timeout);
    let mut steps = Vec::new();
    let parsed = match WsUrl::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => {
            steps.push(Step::failed("url", e.to_string(), "use ws://host:port/socket"));
            return steps;
        }
    };
    let (step, addrs) = probe::dns(&parsed, &clock, &deadline);
    steps.push(step);
    if addrs.is_empty() {
        return steps;
    }
    let (step, tcp) = probe::tcp(&addrs, &deadline, &clock);
    steps.push(step);
    let Some(tcp) = tcp else { return steps };
    let host = parsed.host().to_string();
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let stream = if parsed.scheme() == Scheme::Wss {
        let (step, tls) = probe::tls(tcp, &host, &deadline);
        steps.push(step);
        let Some((stream, chain)) = tls else { return steps };
        let step = probe::certificate(&chain, &host, client.tls_ca.as_deref(), client.insecure);
        let trusted = step.ok;
        steps.push(step);
        if !trusted {
            return steps;
        }
        stream
    } else {
        probe::Stream::plain(tcp, &deadline)
    };
    let (step, socket) = probe_ws::upgrade(stream, url, &client.headers, redacted);
    steps.push(step);
    let Some(mut socket) = socket else { return steps };
    let step = probe_ws::heartbeats(&mut socket, client.vsn1, &clock);
    let alive = step.ok;
    steps.push(step);
    if alive && let Some(topic) = topic {
        steps.push(probe_ws::join(&mut socket, client.vsn1, topic, &clock));
    }
    probe_ws::close(socket);
    steps
}
