//! `rig push`: join a topic, push one event, print the reply's `response`.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use rig::engine::{PushError, Status};
use rig::protocol::{AbandonReason, ErrorCause, Payload};

use crate::connect::{self, payload_text};
use crate::exit::{self, CONNECTION, Failure, OK, REFUSED, TIMEOUT};
use crate::flags::{MAX_PAYLOAD, check_payload_size, client_command};
use crate::target::join_payload;

client_command! {
    /// Join a topic, push one event and print the reply's response as JSON.
    ///
    /// Exit codes: 0 ok reply, 1 error reply or join refused (reason on
    /// stderr), 2 usage error, 3 connection, TLS or authentication failure,
    /// 4 timeout (no reply within --timeout).
    #[argh(subcommand, name = "push", example = "rig push ws://localhost:4000/socket room:lobby echo '{{\"n\":1}}'")]
    pub(crate) struct PushArgs {
        /// socket URL, e.g. ws://localhost:4000/socket (wss:// for TLS)
        #[argh(positional)]
        url: String,
        /// channel topic, e.g. room:lobby
        #[argh(positional)]
        topic: String,
        /// event name
        #[argh(positional)]
        event: String,
        /// JSON payload (default {}); - reads it from stdin
        #[argh(positional)]
        payload: Option<String>,
        /// join parameter KEY=VALUE, JSON when it parses as JSON (repeatable)
        #[argh(option)]
        join_param: Vec<String>,
    }
}

/// What `main` passes for a lone `-` argument (argh would take it for a flag).
pub(crate) const STDIN_ARG: &str = "<stdin>";

/// Runs `rig push`.
pub(crate) fn main(args: PushArgs) -> ExitCode {
    exit::finish(run(&args))
}

fn run(args: &PushArgs) -> Result<u8, Failure> {
    let client = args.client_flags().client(&args.url)?;
    let payload = read_payload(args.payload.as_deref())?;
    let join_params = join_payload(&args.join_param)?;
    let redactor = client.redactor.clone();
    let timeout = client.timeout;
    let connected = connect::start(client.options)?;
    connected
        .socket
        .connect()
        .map_err(|e| Failure::new(CONNECTION, format!("cannot connect: {e}")))?;
    let (channel, _) =
        connect::join(&connected, &args.topic, Payload::json(join_params), timeout, &redactor)?;
    let push = channel.push(args.event.as_str(), Payload::json(payload));
    let outcome = connect::wait_outcome(&connected, push.receiver(), timeout, &redactor)?;
    // Any reply is printed, an `error` one too (it is an `Err` of the outcome).
    let outcome = outcome.or_else(|err| match err {
        PushError::Reply(reply) => Ok(*reply),
        other => Err(other),
    });
    let code = match outcome {
        Ok(reply) => {
            print_line(&payload_text(&reply.response))?;
            if reply.is_ok() {
                OK
            } else {
                eprintln!(
                    "rig: {} {} got an {:?} reply: {}",
                    args.topic,
                    args.event,
                    &*reply.status,
                    payload_text(&reply.response)
                );
                REFUSED
            }
        }
        Err(PushError::Timeout) => {
            return Err(Failure::new(
                TIMEOUT,
                format!(
                    "{} {}: no reply within {} ms",
                    args.topic,
                    args.event,
                    timeout.as_millis()
                ),
            )
            .hint("raise --timeout, or check that the channel replies to this event"));
        }
        Err(PushError::Abandoned(AbandonReason::ChannelError(ErrorCause::Transport(_)))) => {
            // The connection went down under the push; the status that
            // follows says how (a close code and reason, e.g. 1009 for a
            // message over the server's limit, or the failed write).
            return Err(connection_lost(&connected, &args.topic, &args.event, &redactor));
        }
        Err(error) => return Err(push_failure(&args.topic, &args.event, &error)),
    };
    connected.engine.shutdown();
    Ok(code)
}

/// The failure for a push whose connection went down: the close or
/// failure the engine reports right after the push ended, if it comes
/// within [`LOST_STATUS_WAIT`].
fn connection_lost(
    connected: &connect::Connected,
    topic: &str,
    event: &str,
    redactor: &crate::target::Redactor,
) -> Failure {
    let deadline = crossbeam_channel::after(LOST_STATUS_WAIT);
    loop {
        crossbeam_channel::select! {
            recv(connected.status) -> status => {
                let Ok(status) = status else { break };
                if let Status::Closed { code: Some(code), reason } = &status {
                    return closed_under_push(topic, event, *code, &redactor.apply(reason));
                }
                if let Some(failure) = connect::fatal_status(&status, redactor) {
                    return failure;
                }
            }
            recv(deadline) -> _ => break,
        }
    }
    Failure::new(CONNECTION, format!("{topic} {event}: the connection went down before a reply"))
        .hint("run `rig diagnose <url>` to see which step fails")
}

/// The server closed the connection while the push was out.
fn closed_under_push(topic: &str, event: &str, code: u16, reason: &str) -> Failure {
    let meaning = match code {
        1009 => " (message too big)",
        1011 => " (server error)",
        1001 => " (going away)",
        1008 => " (policy violation)",
        _ => "",
    };
    let reason = if reason.is_empty() { String::new() } else { format!(": {reason}") };
    let failure = Failure::new(
        CONNECTION,
        format!("{topic} {event}: the server closed the connection with {code}{meaning}{reason}"),
    );
    if code == 1009 {
        failure.hint("the server refuses messages this large (rig serve --max-frame-size, Bandit's max_frame_size)")
    } else {
        failure.hint("run `rig diagnose <url>` to see which step fails")
    }
}

/// How long a push whose connection went down waits for the status saying
/// how (rig-io reports it in the same turn; this only bounds the wait).
const LOST_STATUS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One sentence, an exit code and a hint for a push that got no reply
/// (other than a timeout). The engine ends a push at once when its channel
/// crashes or closes, so these come without waiting for `--timeout`.
fn push_failure(topic: &str, event: &str, error: &PushError) -> Failure {
    match error {
        PushError::Abandoned(AbandonReason::ChannelError(ErrorCause::Server { .. })) => {
            Failure::new(REFUSED, format!("{topic} {event}: the channel crashed on the server"))
                .hint("the channel process died handling this event; on Phoenix an event the channel does not handle does this")
        }
        PushError::Abandoned(AbandonReason::ChannelError(cause)) => Failure::new(
            CONNECTION,
            format!("{topic} {event}: the connection went down before a reply ({cause})"),
        )
        .hint("run `rig diagnose <url>` to see which step fails"),
        PushError::Abandoned(AbandonReason::ChannelClosed) => {
            Failure::new(REFUSED, format!("{topic} {event}: channel closed by the server"))
        }
        PushError::Abandoned(reason) => Failure::new(REFUSED, format!("{topic} {event}: {reason}")),
        other => Failure::new(REFUSED, format!("{topic} {event}: {other}")),
    }
}

/// The payload argument, checked to be JSON (`-`: read from stdin).
fn read_payload(arg: Option<&str>) -> Result<String, Failure> {
    let text = match arg {
        None => return Ok("{}".to_owned()),
        Some(STDIN_ARG) => {
            let mut text = String::new();
            // One byte past the limit is enough to refuse it: never hold more.
            let most = u64::try_from(MAX_PAYLOAD).unwrap_or(u64::MAX).saturating_add(1);
            std::io::stdin()
                .take(most)
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("cannot read the payload from stdin: {e}")))?;
            text
        }
        Some(text) => text.to_owned(),
    };
    check_payload_size(text.len())?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(_) => Ok(text.trim().to_owned()),
        Err(e) => Err(Failure::usage(format!("the payload is not JSON: {e}"))
            .hint(r#"quote it for the shell, e.g. '{"n":1}'"#)),
    }
}

/// Prints one line on stdout; a closed pipe is not an error worth a message.
pub(crate) fn print_line(line: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(REFUSED, format!("cannot write to stdout: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use argh::FromArgs as _;

    use super::*;

    #[test]
    fn payload_must_be_json() {
        assert_eq!(read_payload(None).unwrap(), "{}");
        assert_eq!(read_payload(Some(r#" {"n":1} "#)).unwrap(), r#"{"n":1}"#);
        assert_eq!(read_payload(Some("{")).unwrap_err().code, exit::USAGE);
    }

    #[test]
    fn a_crashed_or_closed_channel_is_named_as_such() {
        let crashed = PushError::Abandoned(AbandonReason::ChannelError(ErrorCause::Server {
            payload: Payload::json("{}"),
        }));
        let failure = push_failure("room:lobby", "boom", &crashed);
        assert_eq!(failure.code, REFUSED);
        assert_eq!(failure.message, "room:lobby boom: the channel crashed on the server");
        let closed = PushError::Abandoned(AbandonReason::ChannelClosed);
        let failure = push_failure("room:lobby", "close", &closed);
        assert_eq!(failure.message, "room:lobby close: channel closed by the server");
    }

    #[test]
    fn a_close_under_the_push_names_the_code() {
        let failure = closed_under_push("room:a", "echo", 1009, "");
        assert_eq!(failure.code, CONNECTION);
        assert_eq!(
            failure.message,
            "room:a echo: the server closed the connection with 1009 (message too big)"
        );
        let failure = closed_under_push("room:a", "echo", 4000, "bye");
        assert_eq!(failure.message, "room:a echo: the server closed the connection with 4000: bye");
    }

    #[test]
    fn flags_parse() {
        let args = PushArgs::from_args(
            &["rig", "push"],
            &["ws://h/socket", "room:a", "echo", "{}", "--join-param", "a=1", "--timeout", "50"],
        )
        .unwrap();
        assert_eq!(args.join_param, vec!["a=1".to_owned()]);
        assert_eq!(args.client_flags().timeout, Some(50));
    }
}
