#!/bin/sh
# What `cargo xtask vm-bench-peers` runs inside the cgroup-v2 VM (as /vm/main.sh, started
# by /init): bench-peers itself, from init's leaf cgroup. The containers' cgroup is
# /vessel-peers/bench below the root, which xtask makes and hands the memory and pids
# controllers before the timed rounds, so no runtime pays for it. xtask prints the table
# between two marker lines; the host copies it out of the console.
runs=$(cat /vm/bench-runs)
echo "vm: \$ xtask bench-peers-in-vm $runs, from $(cut -d: -f3 /proc/self/cgroup)"
xtask bench-peers-in-vm "$runs"
