use super::*;

#[test]
fn secret_names_cover_tokens_keys_passwords_codes_and_signatures() {
    let secret = [
        "token",
        "auth_token",
        "RIG_TOKEN",
        "client_secret",
        "x-api-key",
        "apikey",
        "api_id",
        "password",
        "passwd",
        "pwd",
        "authorization",
        "Proxy-Authorization",
        "cookie",
        "set-cookie",
        "jwt",
        "id_jwt",
        "bearer",
        "credential",
        "credentials",
        "code",
        "access_code",
        "sig",
        "url-sig",
        "session",
        "signature",
    ];
    for name in secret {
        assert!(is_secret_name(name), "{name} is a secret name");
    }
    for name in ["user_id", "vsn", "topic", "zipcode", "signal", "host", "origin", "user-agent"] {
        assert!(!is_secret_name(name), "{name} is not a secret name");
    }
}

#[test]
fn urls_lose_userinfo_and_secret_query_values_of_any_length() {
    assert_eq!(url("ws://user:pass@127.0.0.1:4000/socket"), "ws://***@127.0.0.1:4000/socket");
    assert_eq!(url("ws://user@h"), "ws://***@h");
    assert_eq!(
        url("ws://h/socket/websocket?token=a&jwt=bc&access_code=xyz&user_id=42&flag&vsn=2.0.0#f"),
        "ws://h/socket/websocket?token=***&jwt=***&access_code=***&user_id=42&flag&vsn=2.0.0#f"
    );
    assert_eq!(url("ws://h/socket"), "ws://h/socket");
    assert_eq!(url("not a url"), "not a url");
}

#[test]
fn header_values_of_secret_headers_are_hidden() {
    assert_eq!(header_value("authorization", "Bearer abc"), MASK);
    assert_eq!(header_value("Cookie", "a=b; c=d"), MASK);
    assert_eq!(header_value("x-api-key", "k"), MASK);
    assert_eq!(header_value("user-agent", "rig"), "rig");
    assert_eq!(
        header_value("Sec-WebSocket-Protocol", "phoenix,base64url.bearer.phx.YWI"),
        "phoenix, base64url.bearer.phx.***"
    );
}

#[test]
fn text_hides_secrets_by_position() {
    // tungstenite's request dump, as its `trace!("Request: {:?}", ..)` prints it.
    let dump = "Request: \"GET /socket/websocket?token=s3cret&vsn=2.0.0 HTTP/1.1\\r\\nHost: \
                127.0.0.1:4000\\r\\nauthorization: Bearer abc.def\\r\\ncookie: sid=1; theme=dark\\r\\n\
                x-api-key: k1\\r\\nSec-WebSocket-Protocol: phoenix, base64url.bearer.phx.YWI\\r\\n\\r\\n\"";
    let clean = text(dump);
    assert_eq!(
        clean,
        "Request: \"GET /socket/websocket?token=***&vsn=2.0.0 HTTP/1.1\\r\\nHost: \
         127.0.0.1:4000\\r\\nauthorization: ***\\r\\ncookie: ***\\r\\n\
         x-api-key: ***\\r\\nSec-WebSocket-Protocol: phoenix, base64url.bearer.phx.***\\r\\n\\r\\n\""
    );
    // Real newlines too.
    assert_eq!(text("Authorization: Basic dTpw\r\nHost: h"), "Authorization: ***\r\nHost: h");
    // JSON members, plain and escaped; numbers too.
    assert_eq!(
        text(r#"{"token":"a","n":1,"pin_code": 1234}"#),
        r#"{"token":"***","n":1,"pin_code": ***}"#
    );
    assert_eq!(
        text(r#"send "[\"1\",{\"password\":\"pw\"}]""#),
        r#"send "[\"1\",{\"password\":\"***\"}]""#
    );
    // Userinfo inside a sentence, query pairs in free text.
    assert_eq!(
        text("cannot connect to ws://ann:pw@h:1/s/websocket?sig=q (attempt 1)"),
        "cannot connect to ws://***@h:1/s/websocket?sig=*** (attempt 1)"
    );
    assert_eq!(text("--param access_code=7"), "--param access_code=***");
}

#[test]
fn text_leaves_ordinary_lines_alone() {
    for line in [
        "[DEBUG rig-io] socket 1: connecting (attempt 0)",
        "api:events joined",
        "room:a echo {\"n\":1}",
        "check the token (--token-env VAR or RIG_TOKEN) and --param",
        "upgrade refused: http status 403",
        "ws://127.0.0.1:4000/socket/websocket?user_id=42&vsn=2.0.0",
        "registering event source with poller: token=Token(1), interests=READABLE",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ] {
        assert_eq!(text(line), line);
    }
}

#[test]
fn redactor_hides_known_values_in_every_form() {
    let mut redactor = Redactor::default();
    redactor.add("s3cr et\"x");
    redactor.add_param("user_id", "ann");
    redactor.add_param("api_key", "k-123");
    redactor.add_userinfo("ws://ann:hunter2@h/socket");
    let text = "a s3cr et\"x b s3cr%20et%22x c s3cr et\\\"x d czNjciBldCJ4 e k-123 f hunter2 g ann";
    assert_eq!(redactor.apply(text), "a *** b *** c *** d *** e *** f *** g ann");
}

#[test]
fn short_values_are_hidden_where_their_position_says_so() {
    let mut redactor = Redactor::default();
    redactor.add("ab");
    assert_eq!(
        redactor.apply("ws://h/s?token=ab&vsn=2.0.0 cab"),
        "ws://h/s?token=***&vsn=2.0.0 cab"
    );
    assert_eq!(redactor.apply("authorization: Bearer ab"), "authorization: ***");
}
