//! Real packet loss for a test: a network namespace joined to the host by a
//! veth pair, with an nftables rule that drops a share of the TCP packets
//! arriving in the namespace.
//!
//! A userspace proxy cannot lose packets (TCP below it repairs every loss
//! before the proxy sees a byte), so loss needs the kernel. The drop sits on
//! the *receiving* side (the namespace's input hook): a drop on the
//! sender's output hook is reported straight back to the sending TCP, which
//! resends at once, without the retransmission timeout a real loss causes.
//!
//! ```text
//!   host (this process)                       namespace rig-loss-K
//!   10.199.K.1  rig-lh-K  <───── veth ─────>  rig-ln-K  10.199.K.2
//!   servers bind here      host → ns TCP: input hook drops P % (counted)
//!                                              clients run here: LossyLink::command
//! ```
//!
//! Needs root (`CAP_NET_ADMIN`) and the `ip` and `nft` tools (`ethtool`
//! too, to switch segmentation offloads off so drops hit single segments;
//! without it the link works with coarser drops). [`LossyLink::create`]
//! says [`NetnsError::Unavailable`] when they are missing, so a test can
//! skip with the reason. Everything is removed on drop (`ip netns del`,
//! which also removes the veth pair and the rules). The drops come from the
//! kernel's random numbers: they are not seeded.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// Subnets `10.199.K.0/24` are tried for K in this range; the first whose
/// namespace name is free is taken (the `ip netns add` claims it).
const SUBNETS: std::ops::RangeInclusive<u8> = 100..=250;
const TABLE: &str = "rigloss";

/// Why a lossy link could not be made.
///
/// # Examples
///
/// ```
/// use rig::netsim::netns::NetnsError;
///
/// let skip = NetnsError::Unavailable("needs root".into());
/// assert_eq!(skip.to_string(), "network namespaces unavailable: needs root");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum NetnsError {
    /// Not root, or `ip` / `nft` missing: skip the test and say why.
    Unavailable(String),
    /// A setup command failed (its command line and standard error).
    Command {
        /// The command line that failed.
        command: String,
        /// What it wrote to standard error, or its exit status.
        stderr: String,
    },
    /// Every subnet of the range was taken by other lossy links.
    NoFreeSubnet,
    /// A command could not be started.
    Io(io::Error),
}

impl fmt::Display for NetnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "network namespaces unavailable: {why}"),
            Self::Command { command, stderr } => write!(f, "`{command}` failed: {stderr}"),
            Self::NoFreeSubnet => f.write_str("no free 10.199.K.0/24 subnet for a lossy link"),
            Self::Io(e) => write!(f, "io: {e}"),
        }
    }
}

impl std::error::Error for NetnsError {}

/// A namespace behind a veth pair that drops a share of arriving TCP
/// packets; removed on drop.
///
/// # Examples
///
/// ```
/// use rig::netsim::netns::{LossyLink, NetnsError};
///
/// match LossyLink::create(5) {
///     Ok(link) => {
///         assert_eq!(link.host_addr().octets()[..2], [10, 199]);
///         let out = link.command("ip").args(["-4", "addr", "show"]).output()?;
///         assert!(String::from_utf8_lossy(&out.stdout).contains(&link.inside_addr().to_string()));
///     } // the namespace, the veth pair and the rules are gone here
///     Err(NetnsError::Unavailable(why)) => eprintln!("skipped: {why}"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LossyLink {
    namespace: String,
    host_if: String,
    subnet: u8,
}

impl LossyLink {
    /// Makes the namespace, the veth pair and the rule dropping
    /// `loss_percent` % (at most 100) of the TCP packets that arrive in the
    /// namespace from the host.
    ///
    /// # Errors
    ///
    /// [`NetnsError::Unavailable`] when not root or a tool is missing;
    /// [`NetnsError::Command`] when a step fails (what was made is removed);
    /// [`NetnsError::NoFreeSubnet`] when every subnet is in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::netns::{LossyLink, NetnsError};
    ///
    /// match LossyLink::create(0) {
    ///     Ok(link) => assert_eq!(link.dropped_packets()?, 0),
    ///     Err(NetnsError::Unavailable(why)) => eprintln!("skipped: {why}"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(loss_percent: u8) -> Result<Self, NetnsError> {
        check_available()?;
        let link = claim_subnet()?;
        link.setup()?;
        link.set_loss(loss_percent)?;
        Ok(link)
    }

    /// The host side's address: bind servers here.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::LossyLink;
    /// # let Ok(link) = LossyLink::create(1) else { return };
    /// assert_eq!(link.host_addr().octets()[3], 1);
    /// ```
    #[must_use]
    pub fn host_addr(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 199, self.subnet, 1)
    }

    /// The namespace side's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::LossyLink;
    /// # let Ok(link) = LossyLink::create(1) else { return };
    /// assert_eq!(link.inside_addr().octets()[3], 2);
    /// ```
    #[must_use]
    pub fn inside_addr(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 199, self.subnet, 2)
    }

    /// The namespace's name (`rig-loss-K`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::LossyLink;
    /// # let Ok(link) = LossyLink::create(1) else { return };
    /// assert!(link.namespace().starts_with("rig-loss-"));
    /// ```
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`):
    /// clients there reach servers on [`host_addr`](Self::host_addr)
    /// through the loss.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::LossyLink;
    /// # let Ok(link) = LossyLink::create(1) else { return Ok(()) };
    /// let status = link.command("true").status()?;
    /// assert!(status.success());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.namespace, program]);
        command
    }

    /// Drops `loss_percent` % (at most 100) of the TCP packets arriving in
    /// the namespace from now on.
    ///
    /// # Errors
    ///
    /// [`NetnsError::Command`] when `nft` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::{LossyLink, NetnsError};
    /// # let Ok(link) = LossyLink::create(1) else { return Ok(()) };
    /// link.set_loss(20)?;
    /// # Ok::<(), NetnsError>(())
    /// ```
    pub fn set_loss(&self, loss_percent: u8) -> Result<(), NetnsError> {
        let percent = loss_percent.min(100).to_string();
        let host = self.host_addr().to_string();
        self.nft(&["flush", "chain", "inet", TABLE, "input"])?;
        self.nft(&[
            "add", "rule", "inet", TABLE, "input", "ip", "saddr", &host, "meta", "l4proto", "tcp",
            "numgen", "random", "mod", "100", "<", &percent, "counter", "drop",
        ])
    }

    /// Packets dropped so far (the rule's counter since the last
    /// [`set_loss`](Self::set_loss)).
    ///
    /// # Errors
    ///
    /// [`NetnsError::Command`] when `nft` fails or prints no counter.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::netsim::netns::{LossyLink, NetnsError};
    /// # let Ok(link) = LossyLink::create(1) else { return Ok(()) };
    /// assert_eq!(link.dropped_packets()?, 0); // no traffic yet
    /// # Ok::<(), NetnsError>(())
    /// ```
    pub fn dropped_packets(&self) -> Result<u64, NetnsError> {
        let listing = self.nft_output(&["list", "chain", "inet", TABLE, "input"])?;
        let mut words = listing.split_whitespace();
        while let Some(word) = words.next() {
            if word == "packets"
                && let Some(Ok(n)) = words.next().map(str::parse)
            {
                return Ok(n);
            }
        }
        Err(NetnsError::Command { command: "nft list chain".into(), stderr: listing })
    }

    fn setup(&self) -> Result<(), NetnsError> {
        let ns = self.namespace.as_str();
        let inside_if = format!("rig-ln-{}", self.subnet);
        let host_cidr = format!("{}/24", self.host_addr());
        let inside_cidr = format!("{}/24", self.inside_addr());
        let host_if = self.host_if.as_str();
        run("ip", &["link", "add", host_if, "type", "veth", "peer", "name", &inside_if])?;
        run("ip", &["link", "set", &inside_if, "netns", ns])?;
        run("ip", &["addr", "add", &host_cidr, "dev", host_if])?;
        run("ip", &["link", "set", host_if, "up"])?;
        let inside = |args: &[&str]| {
            let mut full = vec!["netns", "exec", ns];
            full.extend_from_slice(args);
            run("ip", &full)
        };
        inside(&["ip", "addr", "add", &inside_cidr, "dev", &inside_if])?;
        inside(&["ip", "link", "set", &inside_if, "up"])?;
        inside(&["ip", "link", "set", "lo", "up"])?;
        self.nft(&["add", "table", "inet", TABLE])?;
        self.nft(&[
            "add", "chain", "inet", TABLE, "input", "{", "type", "filter", "hook", "input",
            "priority", "0", ";", "policy", "accept", ";", "}",
        ])?;
        // Offloads off, so a drop loses one segment and not a 64 KiB
        // super-packet; without ethtool the loss is only coarser.
        let offloads = ["tso", "off", "gso", "off", "gro", "off"];
        let mut host_args = vec!["-K", host_if];
        host_args.extend_from_slice(&offloads);
        let mut inside_args = vec!["ethtool", "-K", &inside_if];
        inside_args.extend_from_slice(&offloads);
        if let Err(e) = run("ethtool", &host_args).and_then(|_| inside(&inside_args)) {
            log::warn!("lossy link {ns}: offloads stay on ({e})");
        }
        Ok(())
    }

    fn nft(&self, args: &[&str]) -> Result<(), NetnsError> {
        self.nft_output(args).map(drop)
    }

    fn nft_output(&self, args: &[&str]) -> Result<String, NetnsError> {
        let mut full = vec!["netns", "exec", self.namespace.as_str(), "nft"];
        full.extend_from_slice(args);
        run("ip", &full)
    }
}

impl Drop for LossyLink {
    fn drop(&mut self) {
        // Deleting the namespace removes its end of the veth pair, which
        // removes the pair; the link delete covers a setup that failed
        // before the pair was moved in.
        if let Err(e) = run("ip", &["netns", "del", &self.namespace]) {
            log::warn!("lossy link cleanup: {e}");
        }
        let _ = run("ip", &["link", "del", &self.host_if]);
    }
}

/// Root, `ip` and `nft`, or the reason they are missing.
fn check_available() -> Result<(), NetnsError> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(NetnsError::Io)?;
    let effective_uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if effective_uid != Some("0") {
        return Err(NetnsError::Unavailable("needs root (CAP_NET_ADMIN)".into()));
    }
    for tool in ["ip", "nft"] {
        match Command::new(tool).arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status() {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(NetnsError::Unavailable(format!(
                    "`{tool}` is not installed (apt-get install iproute2 nftables)"
                )));
            }
            Err(e) => return Err(NetnsError::Io(e)),
        }
    }
    Ok(())
}

/// Takes the first subnet whose namespace does not exist yet.
fn claim_subnet() -> Result<LossyLink, NetnsError> {
    for subnet in SUBNETS {
        let namespace = format!("rig-loss-{subnet}");
        // `ip netns add` fails when the name exists: an atomic claim, even
        // against other processes.
        match run("ip", &["netns", "add", &namespace]) {
            Ok(_) => {
                return Ok(LossyLink { namespace, host_if: format!("rig-lh-{subnet}"), subnet });
            }
            Err(NetnsError::Command { stderr, .. }) if stderr.contains("exists") => {}
            Err(e) => return Err(e),
        }
    }
    Err(NetnsError::NoFreeSubnet)
}

/// Runs a command to completion; its standard output, or why it failed.
fn run(program: &str, args: &[&str]) -> Result<String, NetnsError> {
    let output = match Command::new(program).args(args).stdin(Stdio::null()).output() {
        Ok(output) => output,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(NetnsError::Unavailable(format!("`{program}` is not installed")));
        }
        Err(e) => return Err(NetnsError::Io(e)),
    };
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    Err(NetnsError::Command {
        command: format!("{program} {}", args.join(" ")),
        stderr: if stderr.is_empty() { output.status.to_string() } else { stderr },
    })
}
