//! Real loss through a namespace: TCP repairs it, the rule counts it, and
//! nothing is left behind. Skips (with the reason) when not root or when
//! `ip` / `nft` are missing.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::Stdio;

use super::util::{WAIT, pattern};
use crate::netsim::netns::{LossyLink, NetnsError};

fn link_or_skip(loss: u8) -> Option<LossyLink> {
    match LossyLink::create(loss) {
        Ok(link) => Some(link),
        Err(NetnsError::Unavailable(why)) => {
            eprintln!("skipping the namespace test: {why}");
            None
        }
        Err(e) => panic!("cannot make a lossy link: {e}"),
    }
}

fn namespaces() -> String {
    let out = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tcp_delivers_intact_through_real_loss_and_the_drops_are_counted() {
    let Some(link) = link_or_skip(5) else { return };
    let listener = TcpListener::bind((link.host_addr(), 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Inside the namespace, bash echoes the stream back (cat from the
    // socket to the socket), under a time limit so a hang cannot last.
    let script = format!("exec 3<>/dev/tcp/{}/{port}; cat <&3 >&3", link.host_addr());
    let mut client = link
        .command("timeout")
        .args(["60", "bash", "-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(WAIT * 6)).unwrap();
    let data = pattern(2 << 20, 0x33);
    let mut writer = server.try_clone().unwrap();
    let sent = data.clone();
    let sender = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    (&server).read_to_end(&mut echoed).unwrap();
    sender.join().unwrap();
    assert!(client.wait().unwrap().success());
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "the echo differs from what was sent");
    // ~1,450 segments went in at 5 %: some were dropped and resent.
    assert!(link.dropped_packets().unwrap() > 0);
}

#[test]
fn dropping_the_link_removes_the_namespace() {
    let Some(link) = link_or_skip(0) else { return };
    let name = link.namespace().to_owned();
    assert!(namespaces().contains(&name));
    assert!(link.command("true").status().unwrap().success());
    drop(link);
    assert!(!namespaces().lines().any(|line| line.split_whitespace().next() == Some(&name)));
}
