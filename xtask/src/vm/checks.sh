#!/bin/sh
# What `cargo xtask vm-conformance` runs inside the cgroup-v2 VM (as /vm/main.sh, started by /init).
#
# 1. vessel's own cgroup-v2 smoke checks: the `vessel` CLI with each limit, from a leaf
#    cgroup as on a systemd host, placing containers with `--cgroup-parent /vessel`; the
#    cgroup lessons, which use vessel's default place (under the caller's own cgroup),
#    from the root cgroup — the one cgroup that may both hold processes and delegate.
# 2. vessel's own cgroup tests (core/tests/cgroups_*), from the root cgroup too, and the
#    conformance suite, from the leaf with --cgroup-parent.
# Prints `ok - NAME` or `not ok - NAME: why` per check and exits non-zero on a failure.

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
# check NAME COMMAND...: ok when the command succeeds.
check() {
    name=$1
    shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$(echo "$out" | tail -n 5)"; fi
}
# json_number KEY TEXT: the number after "KEY": in a one-line JSON object.
json_number() { echo "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | tail -n 1; }
# No cgroup of a container may outlive it: between checks, below the root there is only
# init's leaf and vessel's shared parent `vessel` (made once under the caller's cgroup, the
# root here, and kept, so two starts never race to remove it), with nothing inside it.
no_container_cgroups() {
    left=$(find /sys/fs/cgroup -mindepth 1 -type d ! -path /sys/fs/cgroup/init.scope ! -path /sys/fs/cgroup/vessel)
    [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

V="vessel run --cgroup-parent /vessel"
echo "vm: vessel checks, from $(cut -d: -f3 /proc/self/cgroup)"

# A default placement under a cgroup that holds processes cannot work on v2: vessel must
# say so and name the fix instead of failing obscurely.
out=$(vessel run -m 32m /bin/true 2>&1)
code=$?
case "$code:$out" in
    125:*--cgroup-parent*) ok "v2: default placement under a busy leaf cgroup explains --cgroup-parent" ;;
    *) not_ok "v2: default placement under a busy leaf cgroup explains --cgroup-parent" "exit $code: $out" ;;
esac
check "v2: no cgroup left after the refused start" no_container_cgroups

# Inside, /proc/self/cgroup has the one unified line, under --cgroup-parent, and no v1
# hierarchy at all.
out=$($V -m 48m /bin/cat /proc/self/cgroup 2>&1)
code=$?
lines=$(echo "$out" | grep -c '^[0-9]*:')
if [ "$code" = 0 ] && [ "$lines" = 1 ] && echo "$out" | grep -q '^0::/vessel/[0-9a-f]*$'; then
    ok "v2: a container with -m starts in the unified hierarchy only ($out)"
else
    not_ok "v2: a container with -m starts in the unified hierarchy only" "exit $code: $out"
fi

# memory.max: a shell that keeps 200 MB in a variable under a 32 MiB limit is OOM-killed;
# vessel reads memory.events and says so with docker's exit code 137.
out=$($V -m 32m --stats --json /bin/sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived ${#x}' 2>&1)
code=$?
kills=$(json_number oom_kills "$out")
if [ "$code" = 137 ] && [ "${kills:-0}" -ge 1 ] && echo "$out" | grep -q "OOM-killed"; then
    ok "v2: memory.max is enforced by an OOM kill, counted in memory.events, exit 137"
else
    not_ok "v2: memory.max is enforced by an OOM kill, counted in memory.events, exit 137" "exit $code: $out"
fi
check "v2: no cgroup left after the OOM kill" no_container_cgroups

# cpu.max: 0.2 CPUs for a busy loop of ~1 s: the cgroup's own counters show throttling.
out=$($V --cpus 0.2 --stats --json /bin/sh -c 'end=$(( $(date +%s) + 2 )); while [ "$(date +%s)" -lt $end ]; do :; done' 2>&1)
code=$?
throttled=$(json_number cpu_throttled_periods "$out")
periods=$(json_number cpu_periods "$out")
if [ "$code" = 0 ] && [ "${throttled:-0}" -ge 1 ] && [ "${periods:-0}" -ge 1 ]; then
    ok "v2: cpu.max throttles a busy loop ($throttled of $periods periods throttled)"
else
    not_ok "v2: cpu.max throttles a busy loop" "exit $code: $out"
fi

# pids.max: with 6 allowed, starting 10 sleepers must fail part-way; pids.events counts it.
out=$($V --pids-limit 6 --stats --json /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 30 & done; kill $(jobs -p) 2>/dev/null; wait' 2>&1)
hits=$(json_number pids_limit_hits "$out")
if [ "${hits:-0}" -ge 1 ] && echo "$out" | grep -qi "fork"; then
    ok "v2: pids.max refuses forks past the limit and pids.events counts them ($hits)"
else
    not_ok "v2: pids.max refuses forks past the limit and pids.events counts them" "$out"
fi
check "v2: no cgroup left after the limited containers" no_container_cgroups

# A detached container keeps its cgroup while it runs (its process in it, the limit
# readable from the host), and `vessel rm -f` removes it.
detached() {
    id=$($V -d -m 40m /bin/sleep 600) || return 1
    dir=/sys/fs/cgroup/vessel/$id
    [ "$(cat "$dir/memory.max")" = 41943040 ] || { echo "memory.max: $(cat "$dir/memory.max" 2>&1)"; return 1; }
    [ "$(cat "$dir/cgroup.procs")" != "" ] || { echo "$dir holds no process"; return 1; }
    vessel rm -f "$id" || return 1
    [ ! -e "$dir" ] || { echo "$dir is still there"; return 1; }
}
check "v2: a detached container keeps its cgroup and memory.max; rm -f removes it" detached
check "v2: no cgroup left after the detached container" no_container_cgroups

# The cgroup lessons check their own claims (exit non-zero on a ✘). They use vessel's
# default place, <own cgroup>/vessel/<id>, so they run from the root cgroup.
for demo in demo-oom demo-cpu-quota demo-pids demo-cgroupns; do
    echo "vm: \$ $demo"
    if sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs && exec "$0"' "$demo" 2>&1; then
        ok "lesson $demo: every claim holds on cgroup v2"
    else
        not_ok "lesson $demo" "see its ✘ lines above"
    fi
done
check "v2: no cgroup left after the lessons" no_container_cgroups

# vessel's own cgroup and exec tests, on a real v2 kernel for once (the host is v1).
# They too use the default place, so they run from the root cgroup; one thread, so the
# CPU-quota test is not measured while another test competes for the two vCPUs.
for test in /vm/tests/*; do
    [ -x "$test" ] || continue
    name=${test##*/}
    echo "vm: \$ $name --test-threads=1"
    if VESSEL_REQUIRE_PRIVILEGED=1 sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs && exec "$0" --test-threads=1' "$test" 2>&1; then
        ok "core test $name passes on cgroup v2"
    else
        not_ok "core test $name" "see its failures above"
    fi
done
check "v2: no cgroup left after the core tests" no_container_cgroups

# The conformance suite (its probe sits beside it in /usr/local/bin), run as on a
# systemd host: from init's leaf cgroup, with the containers' cgroups under an absolute
# --cgroup-parent below the root.
suite="vessel-conformance --work-dir /tmp --cgroup-parent /conformance"
echo "vm: \$ $suite"
if $suite 2>&1; then
    ok "the conformance suite passes on cgroup v2"
else
    not_ok "the conformance suite" "see its 'not ok' lines above"
fi
check "v2: no cgroup left after the conformance suite" no_container_cgroups

# With --peers: the same checks against crun and runc (crun refuses the hybrid host), for
# the runtime x check table. For comparison only: a peer's failure fails nothing here.
peers=""
for peer in crun runc; do
    command -v "$peer" >/dev/null && peers="$peers --runtime $peer"
done
if [ -n "$peers" ]; then
    echo "vm: \$ $suite$peers   (for comparison; does not gate)"
    $suite $peers 2>&1
    echo "vm: the peers' run exited $?"
    check "v2: no cgroup left after the peers' run" no_container_cgroups
fi

echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
