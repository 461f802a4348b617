//! Where the pieces of a run go, given the open-files limit.
//!
//! Every client socket costs descriptors: one in the engine's process, one
//! at the server, two in the proxy (when there is one). This machine's hard
//! limit may be far below what 10,000 clients need in one process, and only
//! a process with `CAP_SYS_RESOURCE` can raise it; so the harness moves the
//! client half into a child process (a plain re-exec, `--role clients`)
//! when the host cannot hold everything, and leaves the proxy out when no
//! fault needs it (no `--latency`, `--jitter`, `--reset-every`,
//! `--stall-every`: server restarts need no proxy).
//!
//! ```text
//!   fds in the host  = clients × (1 server + 2 proxy? + 1 engine if in-process) + slack
//!   fds in the child = clients × 1 + slack
//! ```

use serde::Serialize;

/// Descriptors beyond the sockets: files, pipes, pollers, the listener.
const SLACK: u64 = 256;

/// Where the client half runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Placement {
    /// In this process, beside the server and the proxy.
    InProcess,
    /// In a child process (`--role clients`) on the same network.
    ChildProcess,
    /// In a child process inside the lossy network namespace.
    Namespace,
}

/// The layout of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Layout {
    pub(crate) clients: Placement,
    /// Whether the connections go through the fault proxy.
    pub(crate) proxy: bool,
}

/// Picks the layout for `clients` sockets under an open-files limit of
/// `limit`; `proxy` when a proxy fault was asked for, `loss` when the
/// clients must sit in the namespace.
pub(crate) fn plan(clients: u64, proxy: bool, loss: bool, limit: u64) -> Result<Layout, String> {
    let per_client_host = 1 + if proxy { 2 } else { 0 };
    let fits = |per_client: u64| clients.saturating_mul(per_client).saturating_add(SLACK) <= limit;
    if !fits(1) {
        return Err(format!(
            "{clients} clients need about {} open files in the engine's process, over the \
             limit of {limit} (raise the hard limit, e.g. `ulimit -Hn`, as a user with \
             CAP_SYS_RESOURCE)",
            clients + SLACK
        ));
    }
    if !fits(per_client_host) {
        let most = limit.saturating_sub(SLACK) / per_client_host;
        let direct = limit.saturating_sub(SLACK);
        return Err(format!(
            "{clients} clients need about {} open files for the server and the proxy, over the \
             limit of {limit}: at most {most} clients with proxy faults here (without \
             --latency, --jitter, --reset-every and --stall-every there is no proxy: up to \
             {direct})",
            clients.saturating_mul(per_client_host).saturating_add(SLACK)
        ));
    }
    let clients_at = if loss {
        Placement::Namespace
    } else if fits(per_client_host + 1) {
        Placement::InProcess
    } else {
        Placement::ChildProcess
    };
    Ok(Layout { clients: clients_at, proxy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_runs_stay_in_one_process() {
        let layout = plan(300, true, false, 20_000).unwrap();
        assert_eq!(layout, Layout { clients: Placement::InProcess, proxy: true });
        assert_eq!(plan(300, true, true, 20_000).unwrap().clients, Placement::Namespace);
    }

    #[test]
    fn big_runs_move_the_clients_to_a_child_then_need_no_proxy() {
        assert_eq!(plan(4_900, true, false, 20_000).unwrap().clients, Placement::InProcess);
        assert_eq!(plan(6_000, true, false, 20_000).unwrap().clients, Placement::ChildProcess);
        let ten_k = plan(10_000, false, false, 20_000).unwrap();
        assert_eq!(ten_k, Layout { clients: Placement::ChildProcess, proxy: false });
        let refused = plan(10_000, true, false, 20_000).unwrap_err();
        assert!(refused.contains("at most 6581 clients with proxy faults"), "{refused}");
        assert!(plan(30_000, false, false, 20_000).unwrap_err().contains("engine's process"));
    }
}
