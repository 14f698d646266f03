//! dockerd (→ its containerd → containerd-shim-runc-v2 → the runtime, a daemon.json
//! `runtimes` entry): every scenario with runc (the control) and with vessel. dockerd
//! has no way to join a network namespace by path (only `container:NAME`), so that
//! scenario is podman's and containerd's.

use vessel_clients::docker::Docker;
use vessel_clients::scenarios::{
    detached_exec_logs_stop_rm, exit_codes, hostname_and_pid_1, network_none, run_and_print,
    terminal_through_the_console_socket,
};

vessel_clients::each_runtime!(Docker::new =>
    run_and_print,
    exit_codes,
    hostname_and_pid_1,
    detached_exec_logs_stop_rm,
    memory_and_swap_limits_in_the_cgroup,
    network_none,
    terminal_through_the_console_socket,
);

/// docker asks for as much swap as memory: `memory.swap` is twice the limit.
fn memory_and_swap_limits_in_the_cgroup(docker: &Docker) {
    vessel_clients::scenarios::memory_limit_in_the_cgroup(
        docker,
        &[("memory.memsw.limit_in_bytes", 128 << 20)],
    );
}
