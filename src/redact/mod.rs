//! Hiding secrets in anything rig formats: log records, `Display` and
//! `Debug` of URLs and requests, error messages, and the CLI's output.
//!
//! Two kinds of rules, both applied by [`text`] and [`Redactor::apply`]:
//!
//! - **By position** (any length, even one character): URL userinfo
//!   (`ws://user:pass@host` → `ws://***@host`), the value of a `key=value`
//!   pair, a `"key": "value"` JSON member or a `Name: value` header line whose
//!   name [`is_secret_name`], the token in phoenix.js's bearer subprotocol
//!   (`base64url.bearer.phx.<token>`), and the word after `Bearer `.
//! - **By value**: secrets a [`Redactor`] was told about, wherever they show,
//!   as written, percent-encoded, `Debug`-escaped or base64-encoded (the
//!   forms rig itself puts them in). Values under [`MIN_LITERAL_LEN`]
//!   characters are left to the positional rules: a two-letter token cannot
//!   be told apart from ordinary text.
//!
//! In scope: text. Out of scope: deciding what to log (payloads are logged at
//! trace level only, and run through the same rules).
//!
//! rig's own log records go through these rules. Of the crates under it,
//! tungstenite logs at trace level: rig writes the upgrade request itself,
//! so tungstenite never sees the URL or headers to log them, but its
//! records of each frame and message (`Received message ...`, `Sending
//! frame: ...`) hold the payloads as sent, join params included. The `rig`
//! CLI's logger runs every record through a [`Redactor`]; a program with
//! its own logger that enables `tungstenite=trace` should do the same.
//!
//! # Examples
//!
//! ```
//! use rig::redact;
//!
//! let url = "ws://ann:pw@h/socket/websocket?jwt=x&access_code=42&user=ann&vsn=2.0.0";
//! assert_eq!(redact::url(url), "ws://***@h/socket/websocket?jwt=***&access_code=***&user=ann&vsn=2.0.0");
//! assert_eq!(redact::header_value("x-api-key", "k1"), "***");
//! ```

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;

mod scan;

pub use scan::text;

/// What a hidden value is replaced with.
pub const MASK: &str = "***";

/// The shortest secret a [`Redactor`] hides wherever it shows; shorter ones
/// are hidden only where their position says they are secret.
pub const MIN_LITERAL_LEN: usize = 3;

/// Parts of a name that make it secret wherever they appear in it.
const SECRET_PARTS: [&str; 11] = [
    "token",
    "secret",
    "key",
    "pass",
    "auth",
    "session",
    "signature",
    "credential",
    "jwt",
    "bearer",
    "cookie",
];

/// Words that make a name secret when they stand alone between separators
/// (`access_code`, `sig`), but not inside a longer word (`zipcode`, `signal`).
const SECRET_WORDS: [&str; 4] = ["code", "sig", "pwd", "sid"];

/// Whether a query parameter, header, or JSON member named `name` carries a
/// secret: names containing `token`, `secret`, `key`, `pass`, `auth`,
/// `session`, `signature`, `credential`, `jwt`, `bearer` or `cookie`, names
/// starting with `api`, and names with a separate word `code`, `sig`, `pwd`
/// or `sid`. Case does not matter. `Sec-WebSocket-Key` is not secret: it
/// is the upgrade's public nonce.
///
/// # Examples
///
/// ```
/// use rig::redact::is_secret_name;
///
/// for name in ["token", "X-Api-Key", "authorization", "Cookie", "jwt", "access_code", "sig", "apiKey"] {
///     assert!(is_secret_name(name), "{name}");
/// }
/// for name in ["user_id", "vsn", "zipcode", "signal", "host", "Sec-WebSocket-Key"] {
///     assert!(!is_secret_name(name), "{name}");
/// }
/// ```
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower == "sec-websocket-key" {
        return false;
    }
    SECRET_PARTS.iter().any(|part| lower.contains(part))
        || lower.starts_with("api")
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| SECRET_WORDS.contains(&word))
}

/// A URL with its userinfo and the values of secret query parameters
/// replaced by [`MASK`]; everything else is kept as written.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::redact::url("wss://h/s?token=ab&vsn=2.0.0"), "wss://h/s?token=***&vsn=2.0.0");
/// assert_eq!(rig::redact::url("ws://user:pass@h:4000/s"), "ws://***@h:4000/s");
/// ```
#[must_use]
pub fn url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
    let mut out = String::with_capacity(url.len());
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push_str("://");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            out.push_str(MASK);
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) =
        tail.split_once('#').map_or((tail, None), |(b, f)| (b, Some(f)));
    match before_fragment.split_once('?') {
        None => out.push_str(before_fragment),
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if is_secret_name(key) => {
                        out.push_str(key);
                        out.push('=');
                        out.push_str(MASK);
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// A header value as it may be shown: [`MASK`] for a secret header
/// (`authorization`, `cookie`, `x-api-key`, ... see [`is_secret_name`]), the
/// bearer token hidden in `sec-websocket-protocol`, the value itself otherwise.
///
/// # Examples
///
/// ```
/// use rig::redact::header_value;
///
/// assert_eq!(header_value("Authorization", "Bearer abc"), "***");
/// assert_eq!(header_value("sec-websocket-protocol", "phoenix, base64url.bearer.phx.YWI"),
///            "phoenix, base64url.bearer.phx.***");
/// assert_eq!(header_value("origin", "http://localhost"), "http://localhost");
/// ```
#[must_use]
pub fn header_value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if is_secret_name(name) {
        Cow::Borrowed(MASK)
    } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
        let items: Vec<String> =
            value.split(',').map(|p| subprotocol(p.trim()).into_owned()).collect();
        Cow::Owned(items.join(", "))
    } else {
        Cow::Borrowed(value)
    }
}

/// A subprotocol as it may be shown: phoenix.js's token subprotocol
/// `base64url.bearer.phx.<token>` loses its token.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::redact::subprotocol("base64url.bearer.phx.YWI"), "base64url.bearer.phx.***");
/// assert_eq!(rig::redact::subprotocol("phoenix"), "phoenix");
/// ```
#[must_use]
pub fn subprotocol(protocol: &str) -> Cow<'_, str> {
    match protocol.to_ascii_lowercase().find("bearer.") {
        Some(at) => {
            let prefix = protocol.get(..at).unwrap_or_default();
            let rest = protocol.get(at..).unwrap_or_default();
            let keep = rest.rfind('.').map_or(rest.len(), |dot| dot + 1);
            Cow::Owned(format!("{prefix}{}{MASK}", rest.get(..keep).unwrap_or_default()))
        }
        None => Cow::Borrowed(protocol),
    }
}

/// Secrets known by value (a token from the environment, a `--param`, a
/// header), hidden wherever they show, on top of the positional rules of
/// [`text`].
///
/// # Examples
///
/// ```
/// let mut redactor = rig::redact::Redactor::default();
/// redactor.add("s3cret");
/// redactor.add_param("user_id", "42");
/// assert_eq!(redactor.apply("refused s3cret for user 42"), "refused *** for user 42");
/// assert_eq!(redactor.apply("ws://h/s?token=xy"), "ws://h/s?token=***");
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Each secret in every form it is printed in, longest first.
    forms: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor").field("forms", &self.forms.len()).finish()
    }
}

impl Redactor {
    /// Hides `secret` from now on: as written, percent-encoded,
    /// `Debug`-escaped and base64-encoded. Values shorter than
    /// [`MIN_LITERAL_LEN`] are left to the positional rules.
    ///
    /// # Examples
    ///
    /// See [`Redactor`].
    pub fn add(&mut self, secret: &str) {
        if secret.chars().count() < MIN_LITERAL_LEN {
            return;
        }
        let base64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret);
        let forms =
            [secret.to_owned(), percent_encode(secret), secret.escape_debug().to_string(), base64];
        for form in forms {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        // Longest first, so a secret containing another is hidden whole.
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    /// Hides `value` when `name` [`is_secret_name`] (a query parameter or
    /// a header).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut redactor = rig::redact::Redactor::default();
    /// redactor.add_param("x-api-key", "k-123");
    /// assert_eq!(redactor.apply("sent k-123"), "sent ***");
    /// ```
    pub fn add_param(&mut self, name: &str, value: &str) {
        if is_secret_name(name) {
            self.add(value);
        }
    }

    /// Hides the userinfo of `url` and its password: they are always secret.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut redactor = rig::redact::Redactor::default();
    /// redactor.add_userinfo("ws://ann:hunter2@h/socket");
    /// assert_eq!(redactor.apply("login hunter2 failed"), "login *** failed");
    /// ```
    pub fn add_userinfo(&mut self, url: &str) {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            self.add(userinfo);
            // The user name alone may be an ordinary word: only the
            // password is hidden wherever it shows.
            if let Some((_, password)) = userinfo.split_once(':') {
                self.add(password);
            }
        }
    }

    /// `text` with every secret hidden: the positional rules of [`text`],
    /// then every known value.
    ///
    /// # Examples
    ///
    /// See [`Redactor`].
    #[must_use]
    pub fn apply(&self, text: &str) -> String {
        let mut out = scan::text(text);
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        out
    }
}

/// Percent-encodes like JavaScript's `encodeURIComponent` (the form a param
/// takes in a connect URL).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod log_capture;
