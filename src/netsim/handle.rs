//! Starting a proxy on its own thread, and the handle that controls it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use mio::{Interest, Poll, Waker};

use super::config::ProxyConfig;
use super::error::Error;
use super::event_loop::{Hub, LISTENER, WAKER};
use super::faults::Faults;
use super::stats::{Counters, ProxyStats};
use crate::listener;

/// A command for the proxy thread, answered on `done` once carried out.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) command: Command,
    pub(crate) done: Sender<()>,
}

#[derive(Debug)]
pub(crate) enum Command {
    SetFaults(Box<Faults>),
    ResetAll,
    Blackhole(bool),
    StallFor(Duration),
    Shutdown,
}

/// The loopback TCP fault proxy.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// use rig::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig};
///
/// // A one-shot upstream that answers "pong".
/// let upstream = TcpListener::bind("127.0.0.1:0")?;
/// let config = ProxyConfig::builder(upstream.local_addr()?)
///     .faults(Faults::default().both(DirectionFaults::default().latency(Duration::from_millis(5))))
///     .build();
/// let proxy = Proxy::start(config)?;
/// let mut client = TcpStream::connect(proxy.local_addr())?;
/// client.write_all(b"ping")?;
/// let (mut server, _) = upstream.accept()?;
/// let mut got = [0; 4];
/// server.read_exact(&mut got)?;
/// assert_eq!(&got, b"ping");
/// server.write_all(b"pong")?;
/// client.read_exact(&mut got)?;
/// assert_eq!(&got, b"pong");
/// proxy.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Proxy {
    _private: (),
}

impl Proxy {
    /// Binds the listening socket and starts forwarding on a new thread
    /// (`rig-netsim`). Upstream connections are opened per accepted client.
    ///
    /// # Errors
    ///
    /// [`Error::Bind`] when the listening address cannot be bound;
    /// [`Error::Io`] when the poller or the thread cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Proxy, ProxyConfig};
    ///
    /// let proxy = Proxy::start(ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// assert_ne!(proxy.local_addr().port(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(config: ProxyConfig) -> Result<ProxyHandle, Error> {
        let addr = config.listen();
        let mut listener = listener::bind(addr).map_err(|reason| Error::Bind { addr, reason })?;
        let local_addr = listener.local_addr()?;
        let poll = Poll::new()?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (commands, inbox) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let upstream = config.upstream();
        let seed = config.seed();
        let hub = Hub::new(poll, listener, local_addr, config, inbox, Arc::clone(&counters));
        let thread =
            std::thread::Builder::new().name("rig-netsim".into()).spawn(move || hub.run())?;
        log::info!("netsim proxying {local_addr} -> {upstream} (seed {seed})");
        Ok(ProxyHandle {
            local_addr,
            upstream,
            seed,
            commands,
            waker,
            counters,
            thread: Some(thread),
        })
    }
}

/// A running proxy. Dropping it shuts the proxy down.
///
/// Every control call returns once the proxy thread has carried it out, so
/// what follows the call sees its effect.
///
/// # Examples
///
/// ```
/// use rig::netsim::{Proxy, ProxyConfig};
///
/// let proxy = Proxy::start(ProxyConfig::builder("127.0.0.1:9".parse()?).seed(3).build())?;
/// assert_eq!(proxy.seed(), 3);
/// proxy.blackhole(true)?;
/// proxy.blackhole(false)?;
/// drop(proxy); // stops the thread and closes every socket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ProxyHandle {
    local_addr: SocketAddr,
    upstream: SocketAddr,
    seed: u64,
    commands: Sender<Request>,
    waker: Arc<Waker>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl ProxyHandle {
    /// The address clients connect to (the real port when 0 was asked for).
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// assert!(proxy.local_addr().ip().is_loopback());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address connections are forwarded to.
    ///
    /// # Examples
    ///
    /// ```
    /// let up = "127.0.0.1:9".parse()?;
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder(up).build())?;
    /// assert_eq!(proxy.upstream(), up);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// The seed of every random choice (print it to repeat a run).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).seed(11).build();
    /// assert_eq!(rig::netsim::Proxy::start(config)?.seed(), 11);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn seed(&self) -> u64 {
        self.seed
    }

    /// The counters now.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// assert_eq!(proxy.stats().open_connections, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> ProxyStats {
        self.counters.snapshot()
    }

    /// Replaces the faults. Bytes already held keep their release times;
    /// stall and reset schedules start again from now.
    ///
    /// # Errors
    ///
    /// [`Error::Stopped`] when the proxy thread is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig};
    ///
    /// let proxy = Proxy::start(ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// proxy.set_faults(Faults::default().both(DirectionFaults::default().latency(Duration::from_millis(30))))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_faults(&self, faults: Faults) -> Result<(), Error> {
        self.send(Command::SetFaults(Box::new(faults)))
    }

    /// Resets every open connection now: both ends get an RST
    /// (`ECONNRESET`); bytes held are lost. New connections are unaffected.
    ///
    /// # Errors
    ///
    /// [`Error::Stopped`] when the proxy thread is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// proxy.reset_all()?;
    /// assert_eq!(proxy.stats().resets, 0); // nothing was open
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset_all(&self) -> Result<(), Error> {
        self.send(Command::ResetAll)
    }

    /// Blackholes every connection (`true`): nothing is forwarded either
    /// way and no socket is closed, as on a path that silently drops
    /// everything. Bytes still read are held up to the buffer limit and go
    /// on, intact, when the blackhole is lifted (`false`).
    ///
    /// # Errors
    ///
    /// [`Error::Stopped`] when the proxy thread is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// proxy.blackhole(true)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn blackhole(&self, on: bool) -> Result<(), Error> {
        self.send(Command::Blackhole(on))
    }

    /// Forwards nothing in either direction for `length` from now, then
    /// resumes with every byte intact (counted as one stall per direction).
    ///
    /// # Errors
    ///
    /// [`Error::Stopped`] when the proxy thread is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// proxy.stall_for(Duration::from_millis(200))?;
    /// assert_eq!(proxy.stats().stalls, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stall_for(&self, length: Duration) -> Result<(), Error> {
        self.send(Command::StallFor(length))
    }

    /// Stops the proxy: every socket is closed and the thread is joined.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = rig::netsim::Proxy::start(rig::netsim::ProxyConfig::builder("127.0.0.1:9".parse()?).build())?;
    /// proxy.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn send(&self, command: Command) -> Result<(), Error> {
        let (done, answer) = mpsc::channel();
        self.commands.send(Request { command, done }).map_err(|_| Error::Stopped)?;
        self.waker.wake().map_err(|_| Error::Stopped)?;
        // The thread answers after the command; a dead thread drops `done`.
        answer.recv().map_err(|_| Error::Stopped)
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        if self.send(Command::Shutdown).is_err() {
            log::debug!("the netsim thread had already stopped");
        }
        if thread.join().is_err() {
            log::error!("the netsim thread panicked");
        }
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
