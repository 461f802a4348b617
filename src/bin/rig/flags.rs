//! The flags every client command shares (token, TLS, engine policy), and
//! how they become the engine's checked [`SocketOptions`].
//!
//! argh has no flattening, so [`client_command!`] writes the shared flags
//! into each command's struct and [`ClientFlags`] gathers them again.

use std::path::PathBuf;
use std::time::Duration;

use rig::engine::SocketOptions;
use rig::protocol::{Backoff, Jitter, V1Serializer, V2Serializer};
use rig::transport::TlsConfig;

use crate::exit::Failure;
use crate::ranges::{MIN_HEARTBEAT_MS, Range};
use crate::target::{Redactor, parse_url, split_pair};

/// Declares a client subcommand: its own fields, then the shared client
/// flags, and a `client_flags()` accessor gathering the latter.
macro_rules! client_command {
    (
        $(#[$attr:meta])*
        pub(crate) struct $name:ident {
            $($fields:tt)*
        }
    ) => {
        #[derive(argh::FromArgs, Debug)]
        $(#[$attr])*
        pub(crate) struct $name {
            $($fields)*
            /// read the token from this environment variable (default RIG_TOKEN); sent as the `token` connect parameter, never printed
            #[argh(option)]
            token_env: Option<String>,
            /// extra connect parameter KEY=VALUE (repeatable)
            #[argh(option)]
            param: Vec<String>,
            /// trust the CA certificates of this PEM file (wss://)
            #[argh(option)]
            tls_ca: Option<std::path::PathBuf>,
            /// do not verify the server certificate (wss://; prints a warning)
            #[argh(switch)]
            insecure: bool,
            /// heartbeat interval in ms (default 30000)
            #[argh(option)]
            heartbeat_interval: Option<u64>,
            /// heartbeat reply timeout in ms (default: the interval)
            #[argh(option)]
            heartbeat_timeout: Option<u64>,
            /// connect, join and push timeout in ms (default 10000)
            #[argh(option)]
            timeout: Option<u64>,
            /// give up after this many reconnects in a row (default: never)
            #[argh(option)]
            max_reconnects: Option<u32>,
            /// reconnect jitter: none, full or decorrelated (default none)
            #[argh(option)]
            jitter: Option<String>,
            /// serializer version: 1 or 2 (default 2)
            #[argh(option)]
            vsn: Option<String>,
            /// extra HTTP header of the upgrade, 'Name: value' (repeatable)
            #[argh(option)]
            header: Vec<String>,
        }

        impl $name {
            /// The shared client flags.
            fn client_flags(&self) -> $crate::flags::ClientFlags {
                $crate::flags::ClientFlags {
                    token_env: self.token_env.clone(),
                    params: self.param.clone(),
                    tls_ca: self.tls_ca.clone(),
                    insecure: self.insecure,
                    heartbeat_interval: self.heartbeat_interval,
                    heartbeat_timeout: self.heartbeat_timeout,
                    timeout: self.timeout,
                    max_reconnects: self.max_reconnects,
                    jitter: self.jitter.clone(),
                    vsn: self.vsn.clone(),
                    headers: self.header.clone(),
                }
            }
        }
    };
}
pub(crate) use client_command;

/// The largest payload a client command sends: the frame limit of rig's own
/// decoders (a rig server refuses larger frames; the engine's output queue
/// could not hold many more either).
pub(crate) const MAX_PAYLOAD: usize = rig::protocol::serializer::DEFAULT_MAX_FRAME;

/// Refuses a payload of `len` bytes when it cannot go in one frame, saying
/// the limit.
pub(crate) fn check_payload_size(len: usize) -> Result<(), Failure> {
    if len <= MAX_PAYLOAD {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "the payload is over the frame limit of {MAX_PAYLOAD} bytes ({} MiB)",
        MAX_PAYLOAD >> 20
    ))
    .hint("send a smaller payload, or split it over several pushes"))
}

/// Splits `--header 'Name: value'`, checking both halves as HTTP allows
/// them: the name a token (letters, digits and ``!#$%&'*+-.^_`|~``), the
/// value visible ASCII, spaces and tabs.
/// The value is never echoed: it may be a credential.
fn split_header(header: &str) -> Result<(&str, &str), Failure> {
    let hint = "write it as 'Name: value', e.g. --header 'X-Client: rig'";
    let Some((name, value)) = header.split_once(':') else {
        return Err(Failure::usage("bad --header: no ':' after the name").hint(hint));
    };
    let (name, value) = (name.trim(), value.trim());
    let bad = |why: &str| Failure::usage(format!("bad --header {name:?}: {why}")).hint(hint);
    let is_token_byte = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if !name.bytes().all(is_token_byte) {
        return Err(bad("the name may hold only letters, digits and !#$%&'*+-.^_`|~"));
    }
    if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return Err(bad("the value may hold only visible ASCII, spaces and tabs"));
    }
    Ok((name, value))
}

/// The raw shared client flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientFlags {
    pub(crate) token_env: Option<String>,
    pub(crate) params: Vec<String>,
    pub(crate) tls_ca: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) heartbeat_interval: Option<u64>,
    pub(crate) heartbeat_timeout: Option<u64>,
    pub(crate) timeout: Option<u64>,
    pub(crate) max_reconnects: Option<u32>,
    pub(crate) jitter: Option<String>,
    pub(crate) vsn: Option<String>,
    pub(crate) headers: Vec<String>,
}

/// The default connect, join and push timeout.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A checked client setup: the socket options and what printing needs.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) options: SocketOptions,
    /// `ws://host:4000/socket`: no query, no `/websocket`.
    pub(crate) endpoint: String,
    /// Connect parameters (URL query, --param, the token), in order.
    pub(crate) params: Vec<(String, String)>,
    /// `--vsn 1`.
    pub(crate) vsn1: bool,
    /// Extra upgrade headers.
    pub(crate) headers: Vec<(String, String)>,
    /// `--tls-ca`.
    pub(crate) tls_ca: Option<PathBuf>,
    /// `--insecure`.
    pub(crate) insecure: bool,
    pub(crate) redactor: Redactor,
    /// Connect, join and push timeout.
    pub(crate) timeout: Duration,
}

impl ClientFlags {
    /// Checks the flags and builds the socket options for `url`.
    pub(crate) fn client(&self, url: &str) -> Result<Client, Failure> {
        let mut redactor = Redactor::default();
        // Userinfo is always secret, even in a URL that does not parse.
        redactor.add_userinfo(url);
        let url = parse_url(url)?;
        let mut params = url.params.clone();
        for pair in &self.params {
            let (key, value) = split_pair("--param", pair)?;
            params.push((key.to_owned(), value.to_owned()));
        }
        if let Some(token) = self.token()? {
            redactor.add(&token);
            params.push(("token".to_owned(), token));
        }
        for (key, value) in &params {
            redactor.add_param(key, value);
        }
        let timeout = match self.timeout {
            Some(ms) => Range::ms(1).millis("--timeout", ms)?,
            None => DEFAULT_TIMEOUT,
        };
        let mut headers = Vec::new();
        let mut builder = SocketOptions::builder(url.endpoint.clone())
            .params(params.clone())
            .timeout(timeout)
            .connect_timeout(timeout)
            .max_reconnect_attempts(self.max_reconnects);
        let heartbeat = Range::ms(MIN_HEARTBEAT_MS);
        if let Some(ms) = self.heartbeat_interval {
            builder = builder.heartbeat_interval(heartbeat.millis("--heartbeat-interval", ms)?);
        }
        if let Some(ms) = self.heartbeat_timeout {
            builder = builder.heartbeat_timeout(heartbeat.millis("--heartbeat-timeout", ms)?);
        }
        builder = builder.reconnect_backoff(Backoff::reconnect().jitter(self.jitter_kind()?));
        builder = match self.vsn.as_deref() {
            None | Some("2" | "2.0.0") => builder.serializer(V2Serializer::default()),
            Some("1" | "1.0.0") => builder.serializer(V1Serializer::default()),
            Some(other) => {
                return Err(Failure::usage(format!("bad --vsn {other:?}")).hint("use 1 or 2"));
            }
        };
        for header in &self.headers {
            let (name, value) = split_header(header)?;
            redactor.add_param(name, value);
            if rig::redact::is_secret_name(name) {
                // `Bearer <token>`, `Basic <credentials>`: the credential
                // alone may be printed apart from its scheme.
                if let Some((_, credential)) = value.split_once(' ') {
                    redactor.add(credential.trim());
                }
            }
            builder = builder.header(name, value);
            headers.push((name.to_owned(), value.to_owned()));
        }
        if let Some(connector) = self.tls()? {
            builder = builder.tls(connector);
        }
        // From here on, every log record and printed failure hides them.
        crate::logger::set_redactor(&redactor);
        let options = builder.build().map_err(|e| {
            Failure::usage(format!("bad settings: {}", redactor.apply(&e.to_string())))
        })?;
        let vsn1 = matches!(self.vsn.as_deref(), Some("1" | "1.0.0"));
        Ok(Client {
            options,
            endpoint: url.endpoint,
            params,
            vsn1,
            headers,
            tls_ca: self.tls_ca.clone(),
            insecure: self.insecure,
            redactor,
            timeout,
        })
    }

    /// The token from `--token-env VAR` (which must be set) or `RIG_TOKEN`.
    fn token(&self) -> Result<Option<String>, Failure> {
        match &self.token_env {
            Some(var) => match std::env::var(var) {
                Ok(token) if !token.is_empty() => Ok(Some(token)),
                _ => Err(Failure::usage(format!("--token-env {var}: the variable is not set"))
                    .hint(format!("export {var}=... before running rig"))),
            },
            None => Ok(std::env::var("RIG_TOKEN").ok().filter(|t| !t.is_empty())),
        }
    }

    fn jitter_kind(&self) -> Result<Jitter, Failure> {
        match self.jitter.as_deref() {
            None | Some("none") => Ok(Jitter::None),
            Some("full") => Ok(Jitter::Full),
            Some("decorrelated") => Ok(Jitter::Decorrelated),
            Some(other) => Err(Failure::usage(format!("bad --jitter {other:?}"))
                .hint("use none, full or decorrelated")),
        }
    }

    fn tls(&self) -> Result<Option<rig::transport::TlsConnector>, Failure> {
        if self.insecure {
            eprintln!("rig: warning: --insecure: the server certificate is NOT verified");
            return crate::insecure::connector().map(Some);
        }
        let Some(ca) = &self.tls_ca else { return Ok(None) };
        TlsConfig::new().ca_file(ca).build().map(Some).map_err(|e| {
            Failure::usage(format!("bad --tls-ca {}: {e}", ca.display()))
                .hint("give a PEM file holding the CA certificate")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        let flags = ClientFlags {
            params: vec!["user=ann".into()],
            heartbeat_interval: Some(500),
            timeout: Some(2000),
            max_reconnects: Some(3),
            jitter: Some("full".into()),
            vsn: Some("1".into()),
            headers: vec!["X-Client: rig".into()],
            ..ClientFlags::default()
        };
        let client = flags.client("ws://h:4000/socket/websocket").unwrap();
        let session = client.options.session();
        assert_eq!(session.endpoint(), "ws://h:4000/socket");
        assert_eq!(session.heartbeat_interval(), Duration::from_millis(500));
        assert_eq!(session.timeout(), Duration::from_millis(2000));
        assert_eq!(session.max_reconnect_attempts(), Some(3));
        assert_eq!(session.reconnect_backoff().jitter_kind(), Jitter::Full);
        assert_eq!(client.options.connect_timeout(), Duration::from_millis(2000));
    }

    #[test]
    fn header_names_are_tokens_and_values_never_show_in_errors() {
        assert_eq!(split_header(" X-Client :  rig 1 ").unwrap(), ("X-Client", "rig 1"));
        let bad_value = split_header("Authorization: Bearer s\u{e9}cret").unwrap_err();
        assert_eq!(bad_value.code, crate::exit::USAGE);
        assert!(!bad_value.message.contains("cret"), "{}", bad_value.message);
        let no_colon = split_header("Bearer secret").unwrap_err();
        assert!(!no_colon.message.contains("secret"), "{}", no_colon.message);
        assert!(split_header("Bad Name: v").unwrap_err().message.contains("\"Bad Name\""));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let bad = |flags: ClientFlags| flags.client("ws://h/socket").unwrap_err().code;
        let usage = crate::exit::USAGE;
        assert_eq!(bad(ClientFlags { jitter: Some("x".into()), ..Default::default() }), usage);
        assert_eq!(bad(ClientFlags { vsn: Some("3".into()), ..Default::default() }), usage);
        assert_eq!(bad(ClientFlags { headers: vec!["x".into()], ..Default::default() }), usage);
        assert_eq!(bad(ClientFlags { params: vec!["x".into()], ..Default::default() }), usage);
        let unset =
            ClientFlags { token_env: Some("RIG_TEST_UNSET_VAR".into()), ..Default::default() };
        assert_eq!(bad(unset), usage);
        let missing =
            ClientFlags { tls_ca: Some("/nonexistent/ca.pem".into()), ..Default::default() };
        assert_eq!(bad(missing), usage);
    }
}
