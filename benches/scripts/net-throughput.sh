#!/bin/sh
# TCP throughput of vessel's network paths with iperf3 (Debian's), each for $T seconds:
# loopback, a plain veth pair between two namespaces (no bridge), host -> container over
# the bridge, host -> container through a published port (DNAT from 127.0.0.1), and
# container <-> container on one bridge. The servers and clients are the host's iperf3
# run inside the containers' network namespaces (nsenter --net), so the container's
# rootfs needs no iperf3: the path measured is the network namespace's.
#
# Everything runs in a scratch network namespace of its own (unshare -n), where
# forwarding is turned on; the host's network is never touched. As root:
#   unshare -n sh benches/scripts/net-throughput.sh
SCRATCH=$(mktemp -d /tmp/vessel-net-throughput-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
set -e
ip link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
export VESSEL_NET_DIR=$SCRATCH/state VESSEL_RUN_DIR=$SCRATCH/run VESSEL_ROOT=$SCRATCH/root
V=${VESSEL_BIN:-$(dirname "$0")/../../target/release/vessel}
T=5
measure() { # label, server-netns-prefix, client-netns-prefix, address, [port]
  label=$1; srv=$2; cli=$3; addr=$4; port=${5:-5201}
  $srv iperf3 -s -1 -D -p 5201 -I $SCRATCH/srv.pid >/dev/null
  sleep 0.5
  r=$($cli iperf3 -c $addr -p $port -t $T -J | grep bits_per_second | tail -1 | cut -d: -f2 | tr -dc '0-9.')
  echo "$label: $(awk "BEGIN{printf \"%.1f\", $r/1e9}") Gbit/s"
}
measure "loopback (127.0.0.1)" "" "" 127.0.0.1
unshare -n sleep 1000 & U=$!; sleep 0.2
ip link add vp0 type veth peer name vp1 netns $U
ip addr add 192.0.2.1/24 dev vp0; ip link set vp0 up
nsenter --net=/proc/$U/ns/net sh -c 'ip addr add 192.0.2.2/24 dev vp1; ip link set vp1 up; ip link set lo up'
measure "host veth (no bridge)" "nsenter --net=/proc/$U/ns/net" "" 192.0.2.2
kill $U
$V run -d --name c1 -p 15201:5201 -- sleep 100000 >/dev/null
$V run -d --name c2 -- sleep 100000 >/dev/null
P1=$($V inspect c1 | grep '"pid"' | head -1 | tr -dc 0-9); P2=$($V inspect c2 | grep '"pid"' | head -1 | tr -dc 0-9)
measure "host -> container (bridge)" "nsenter --net=/proc/$P1/ns/net" "" 10.209.0.2
measure "host -> container (-p, DNAT via 127.0.0.1)" "nsenter --net=/proc/$P1/ns/net" "" 127.0.0.1 15201
measure "container <-> container (same bridge)" "nsenter --net=/proc/$P1/ns/net" "nsenter --net=/proc/$P2/ns/net" 10.209.0.2
$V rm -f c1 c2 >/dev/null
