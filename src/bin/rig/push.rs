//! `rig push`: join a topic, push one event, print the reply's `response`.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use rig::engine::PushError;
use rig::protocol::Payload;

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
        Err(other) => {
            return Err(Failure::new(REFUSED, format!("{} {}: {other}", args.topic, args.event)));
        }
    };
    connected.engine.shutdown();
    Ok(code)
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
