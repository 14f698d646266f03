#!/bin/busybox sh
# PID 1 of vessel's cgroup-v2 VM (`cargo xtask vm-conformance`).
#
# Sets the guest up the way a cgroup-v2 host with systemd looks to a container runtime:
# one unified hierarchy at /sys/fs/cgroup (the kernel command line has cgroup_no_v1=all),
# the memory, cpu, cpuset and pids controllers handed down from the root, and this init
# in a leaf cgroup of its own (/init.scope) — a non-root cgroup that holds processes may
# not hand controllers to children (the "no internal processes" rule). Then it runs
# /vm/main.sh (checks.sh, or bench.sh for vm-bench-peers) and prints its exit code as
# `VESSEL-VM-EXIT=<code>`, the line the host waits for, and powers off.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
# The guest has no nft binary and loads no veth or bridge module: vessel's CLI keeps the
# host network here, as dockerd --bridge=none would (the network issue's checks run on the host).
export VESSEL_DEFAULT_NETWORK=host

# ANCHOR: leave_initramfs
if [ ! -e /.on-tmpfs ]; then
    # The kernel unpacked the initramfs into "rootfs", which pivot_root(2) can never
    # leave (EINVAL): containers need a real mount as /. Copy into a tmpfs and move there.
    /bin/busybox mkdir -p /newroot
    /bin/busybox mount -t tmpfs -o mode=0755 tmpfs /newroot
    for entry in /*; do
        [ "$entry" = /newroot ] || /bin/busybox cp -a "$entry" /newroot/
    done
    /bin/busybox touch /newroot/.on-tmpfs
    exec /bin/busybox switch_root /newroot /init
fi
# ANCHOR_END: leave_initramfs

/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run /tmp /var/lib
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# / is a tmpfs already, so /run and /tmp need no mount of their own (one would hide a
# test binary's build path when the checkout lives below /tmp).
chmod 1777 /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname vessel-vm
ip link set lo up
# A host has routes, and net.no-host-routes checks that none of them reaches a container.
# The guest has no network card, so its routes point at lo (busybox's ip makes no veth).
ip route add 10.0.2.0/24 dev lo
ip route add default dev lo

say() { echo "vm: $*"; }
say "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
while read -r module; do
    insmod "/lib/modules/$(uname -r)/$module" || say "insmod $module failed"
done < /vm/modules.list

echo "+cpuset +cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/init.scope
echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
say "cgroup2 at /sys/fs/cgroup: root hands down [$(cat /sys/fs/cgroup/cgroup.subtree_control)]; init is in $(cut -d: -f3 /proc/self/cgroup)"

sh /vm/main.sh
code=$?
sync
echo "VESSEL-VM-EXIT=$code"
poweroff -f
