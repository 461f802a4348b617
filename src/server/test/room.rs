//! `room:*` and socket-level behaviour against a real server.

use std::time::Duration;

use super::util::{connect, server};

const SHORT: Duration = Duration::from_millis(200);

#[test]
fn heartbeat_replies_with_null_join_ref_and_empty_response() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    c.expect(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    c.send(r#"["9","2","phoenix","heartbeat",{"x":1}]"#);
    c.expect(r#"[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    c.send(r#"[null, 1, "phoenix", "heartbeat", {}]"#);
    c.expect(r#"[null,1,"phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
}

#[test]
fn join_variants_match_phoenix() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","room:lobby","phx_join",{"hello":"world"}]"#);
    c.expect(
        r#"["1","1","room:lobby","phx_reply",{"response":{"joined":"room:lobby"},"status":"ok"}]"#,
    );
    c.send(r#"["2","2","room:forbidden","phx_join",{}]"#);
    c.expect(r#"["2","2","room:forbidden","phx_reply",{"response":{"reason":"unauthorized"},"status":"error"}]"#);
    c.send(r#"["3","3","nope:1","phx_join",{}]"#);
    c.expect(r#"[null,"3","nope:1","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]"#);
    c.send(r#"["4","4","room:notjoined","echo",{"a":1}]"#);
    c.expect(r#"[null,"4","room:notjoined","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]"#);
    c.send(r#"["5","5","room:notjoined","phx_leave",{}]"#);
    c.expect(r#"["5","5","room:notjoined","phx_reply",{"response":{},"status":"ok"}]"#);
    c.send(r#"[null,null,"room:nullrefs","phx_join",{}]"#);
    c.expect(r#"[null,null,"room:nullrefs","phx_reply",{"response":{"joined":"room:nullrefs"},"status":"ok"}]"#);
    c.send(r#"["1","6","room:lobby","phx_leave",{}]"#);
    c.expect(r#"["1","6","room:lobby","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"["1","1","room:lobby","phx_close",{}]"#);
}

#[test]
fn echo_reply_push_and_broadcast_in_order() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","room:echo","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["1","2","room:echo","echo",{"n":1,"s":"h\u00e9llo \u2603","nested":{"l":[1,2.5,null,true]}}]"#);
    c.send(r#"["1","3","room:echo","echo_error",{"why":"x"}]"#);
    c.send(r#"["1","4","room:echo","noreply",{}]"#);
    c.send(r#"["1","5","room:echo","push_me",{"p":1}]"#);
    c.send(r#"["1","6","room:echo","shout",{"msg":"hi"}]"#);
    c.send(r#"["1","7","room:echo","echo","just a string"]"#);
    c.send(r#"["999","9","room:echo","echo",{"stale":true}]"#);
    c.expect(r#"["1","2","room:echo","phx_reply",{"response":{"n":1,"nested":{"l":[1,2.5,null,true]},"s":"héllo ☃"},"status":"ok"}]"#);
    c.expect(r#"["1","3","room:echo","phx_reply",{"response":{"why":"x"},"status":"error"}]"#);
    c.expect(r#"["1",null,"room:echo","pushed",{"p":1}]"#);
    c.expect(r#"["1","5","room:echo","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"[null,null,"room:echo","shout",{"msg":"hi"}]"#);
    c.expect(r#"["1","7","room:echo","phx_reply",{"response":"just a string","status":"ok"}]"#);
    c.expect(r#"["1","9","room:echo","phx_reply",{"response":{"stale":true},"status":"ok"}]"#);
    c.expect_silence(SHORT);
}

#[test]
fn crash_close_and_rejoin() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","room:crash","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["1","2","room:crash","boom",{}]"#);
    c.expect(r#"["1","1","room:crash","phx_error",{}]"#);
    c.send(r#"["1","3","room:crash","echo",{}]"#);
    c.expect(r#"[null,"3","room:crash","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]"#);
    c.send(r#"["4","4","room:crash","phx_join",{}]"#);
    c.send(r#"["4","5","room:crash","no_such_event",{}]"#);
    c.next_text();
    c.expect(r#"["4","4","room:crash","phx_error",{}]"#);
    c.send(r#"["5","5","room:close","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["5","6","room:close","close",{}]"#);
    c.expect(r#"["5","5","room:close","phx_close",{}]"#);
    c.send(r#"["7","7","room:close","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["7","8","room:close","close_reply",{"bye":1}]"#);
    c.expect(r#"["7","8","room:close","phx_reply",{"response":{"bye":1},"status":"ok"}]"#);
    c.expect(r#"["7","7","room:close","phx_close",{}]"#);
}

#[test]
fn duplicate_join_closes_the_old_channel_after_the_new_reply() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","room:dup","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["2","2","room:dup","phx_join",{}]"#);
    c.expect(
        r#"["2","2","room:dup","phx_reply",{"response":{"joined":"room:dup"},"status":"ok"}]"#,
    );
    c.expect(r#"["1","1","room:dup","phx_close",{}]"#);
    c.send(r#"["1","3","room:dup","echo",{"via":"old"}]"#);
    c.expect(r#"["2","3","room:dup","phx_reply",{"response":{"via":"old"},"status":"ok"}]"#);
    c.send(r#"["1","5","room:dup","phx_leave",{}]"#);
    c.expect_silence(SHORT);
    c.send(r#"["2","6","room:dup","phx_leave",{}]"#);
    c.expect(r#"["2","6","room:dup","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"["2","2","room:dup","phx_close",{}]"#);
}

#[test]
fn slow_queues_its_channel_but_not_heartbeats_or_other_channels() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","room:slow","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["2","2","room:other","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["1","3","room:slow","slow",{"x":1}]"#);
    c.send(r#"["1","4","room:slow","echo",{"after":"slow"}]"#);
    c.send(r#"[null,"5","phoenix","heartbeat",{}]"#);
    c.send(r#"["2","6","room:other","echo",{}]"#);
    c.expect(r#"[null,"5","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"["2","6","room:other","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"["1","3","room:slow","phx_reply",{"response":{"x":1},"status":"ok"}]"#);
    c.expect(r#"["1","4","room:slow","phx_reply",{"response":{"after":"slow"},"status":"ok"}]"#);
}

#[test]
fn broadcast_reaches_every_subscriber() {
    let server = server();
    let mut clients: Vec<_> = (0..20).map(|_| connect(&server, "vsn=2.0.0")).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(&format!(r#"["{i}","{i}","room:fan","phx_join",{{}}]"#));
        c.next_text();
    }
    clients[3].send(r#"["3","99","room:fan","shout",{"b":2,"a":1}]"#);
    for c in &mut clients {
        c.expect(r#"[null,null,"room:fan","shout",{"a":1,"b":2}]"#);
    }
}

#[test]
fn client_close_is_echoed() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.ws.close(None).unwrap();
    match c.next() {
        tungstenite::Message::Close(_) => {}
        other => panic!("expected the close reply, got {other:?}"),
    }
}
