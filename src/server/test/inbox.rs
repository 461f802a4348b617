//! `inbox:*` and the [`PushLog`](crate::server::PushLog) against a real server.

use std::sync::Arc;

use super::util::{connect, server, server_with};
use crate::outbox::OutboxId;
use crate::server::{PushLog, ServerConfig};

#[test]
fn first_push_is_recorded_and_a_repeat_is_acked_as_dup() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","inbox:a","phx_join",{}]"#);
    c.expect(r#"["1","1","inbox:a","phx_reply",{"response":{"joined":"inbox:a"},"status":"ok"}]"#);
    let id = OutboxId::from_parts(0xab, 1);
    let push = |r: u32| format!(r#"["1","{r}","inbox:a","msg",{{"_rig_id":"{id}","n":1}}]"#);
    c.send(&push(2));
    c.expect(r#"["1","2","inbox:a","phx_reply",{"response":{"dup":false},"status":"ok"}]"#);
    c.send(&push(3));
    c.expect(r#"["1","3","inbox:a","phx_reply",{"response":{"dup":true},"status":"ok"}]"#);
    let log = Arc::clone(server.push_log());
    assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (1, 1, 0));
    assert!(log.contains(id));
    let entries = log.entries("inbox:a");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, id);
    assert!(entries[0].1.contains(r#""n":1"#), "{}", entries[0].1);
}

#[test]
fn push_without_an_id_is_acked_and_counted_untagged() {
    let log = Arc::new(PushLog::new());
    let server = server_with(ServerConfig::builder().push_log(Arc::clone(&log)).build());
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","inbox:b","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["1","2","inbox:b","msg",{"n":1}]"#);
    c.expect(r#"["1","2","inbox:b","phx_reply",{"response":{"dup":false},"status":"ok"}]"#);
    c.send(r#"["1","3","inbox:b","other","text"]"#);
    c.expect(r#"["1","3","inbox:b","phx_reply",{"response":{"dup":false},"status":"ok"}]"#);
    assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (0, 0, 2));
    assert!(log.topics().is_empty());
}

#[test]
fn a_shared_log_deduplicates_across_a_server_restart() {
    let log = Arc::new(PushLog::new());
    let config = ServerConfig::builder().push_log(Arc::clone(&log)).build();
    let (a, b) = (OutboxId::from_parts(5, 1), OutboxId::from_parts(5, 2));
    let push = |r: u32, id: OutboxId| format!(r#"["1","{r}","inbox:r","m",{{"_rig_id":"{id}"}}]"#);
    {
        let server = server_with(config.clone());
        let mut c = connect(&server, "vsn=2.0.0");
        c.send(r#"["1","1","inbox:r","phx_join",{}]"#);
        c.next_text();
        c.send(&push(2, a));
        c.expect(r#"["1","2","inbox:r","phx_reply",{"response":{"dup":false},"status":"ok"}]"#);
        server.shutdown();
    }
    let server = server_with(config);
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","inbox:r","phx_join",{}]"#);
    c.next_text();
    c.send(&push(2, a));
    c.expect(r#"["1","2","inbox:r","phx_reply",{"response":{"dup":true},"status":"ok"}]"#);
    c.send(&push(3, b));
    c.expect(r#"["1","3","inbox:r","phx_reply",{"response":{"dup":false},"status":"ok"}]"#);
    let ids: Vec<OutboxId> = log.entries("inbox:r").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [a, b]);
    assert_eq!((log.recorded(), log.duplicates()), (2, 1));
}

#[test]
fn leave_and_control_events_are_not_recorded() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","inbox:c","phx_join",{}]"#);
    c.next_text();
    c.send(r#"["1","2","inbox:c","phx_leave",{}]"#);
    c.expect(r#"["1","2","inbox:c","phx_reply",{"response":{},"status":"ok"}]"#);
    c.expect(r#"["1","1","inbox:c","phx_close",{}]"#);
    let log = Arc::clone(server.push_log());
    assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (0, 0, 0));
}
