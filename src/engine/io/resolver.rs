//! DNS off the I/O thread: a small thread that resolves host names and
//! hands the addresses back to rig-io as a command. IP literals never come
//! here (rig-io uses them directly).

use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::engine::shared::command::{Command, CommandQueue};
use crate::engine::shared::failure::ConnectionError;
use crate::engine::shared::ids::SocketKey;
use crate::transport::{WsUrl, resolve};

/// A lookup for one connect attempt.
#[derive(Debug)]
pub(crate) struct Lookup {
    pub(crate) socket: SocketKey,
    pub(crate) generation: u64,
    pub(crate) url: WsUrl,
}

/// Starts the resolver thread. It exits when the returned sender is
/// dropped (rig-io exits) or the command queue is gone. `alive` is dropped
/// when it exits.
pub(crate) fn spawn(
    commands: CommandQueue,
    alive: Sender<()>,
) -> std::io::Result<(Sender<Lookup>, JoinHandle<()>)> {
    let (tx, rx) = crossbeam_channel::unbounded::<Lookup>();
    let thread = std::thread::Builder::new().name("rig-dns".to_owned()).spawn(move || {
        let _alive = alive;
        for lookup in rx {
            let addrs = resolve(&lookup.url).map_err(|e| ConnectionError::from_transport(&e));
            let done =
                Command::Resolved { socket: lookup.socket, generation: lookup.generation, addrs };
            if commands.send(done).is_err() {
                return;
            }
        }
    })?;
    Ok((tx, thread))
}
