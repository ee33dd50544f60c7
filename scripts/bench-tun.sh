#!/usr/bin/env bash
# Bulk throughput through a TUN device, next to kernel <-> kernel over a
# veth pair, in one run: kernel -> synack, synack -> kernel, and both again
# with 1% loss (synack's own pump drops 1% each way; for veth, nftables
# drops 1% at each end's ingress: this kernel has no netem).
#
#   sudo ./scripts/bench-tun.sh [MIB]        (default 256 MiB per transfer)
#
# Needs root, /dev/net/tun, iproute2, netcat-openbsd and nftables (the
# test command installs them). Everything happens in network namespaces
# this script makes and deletes, even when it fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MIB="${1:-256}"
BYTES=$((MIB * 1024 * 1024))
SYNACK="$PWD/target/release/synack"
[[ -x "$SYNACK" ]] || cargo build --release --bin synack >&2

NS="synack-bench-$$"
NS2="synack-bench2-$$"
cleanup() {
    for ns in "$NS" "$NS2"; do
        if ip netns list | grep -qw "$ns"; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
            sleep 0.2
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
ip netns add "$NS"
ip netns add "$NS2"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns2() { ip netns exec "$NS2" "$@"; }
in_ns ip link set lo up
in_ns2 ip link set lo up

now() { date +%s.%N; }
# Waits until something in namespace $1 listens on TCP port $2.
wait_listen() {
    for _ in $(seq 1 100); do
        if ip netns exec "$1" ss -Htln "sport = :$2" | grep -q .; then return 0; fi
        sleep 0.05
    done
    echo "bench-tun: nothing listens on :$2 in $1" >&2
    return 1
}
# Waits until the synack serve on TUN $1 answers netstat.
wait_serve() {
    for _ in $(seq 1 100); do
        if in_ns "$SYNACK" netstat --tun "$1" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    echo "bench-tun: synack serve on $1 did not come up" >&2
    return 1
}

# kernel -> synack: synack discards; nc -N ends when synack has it all.
kernel_to_synack() { # loss
    local tun="skb$1" log
    log=$(mktemp)
    in_ns "$SYNACK" serve --tun "$tun" --addr 10.77.$2.2/24 --port 9 --discard \
        --loss "$3" --seed 7 2>"$log" &
    local pid=$!
    wait_serve "$tun"
    local t0 t1
    t0=$(now)
    head -c "$BYTES" /dev/zero | in_ns timeout 600 nc -N 10.77.$2.2 9
    t1=$(now)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    grep -q "$BYTES bytes in" "$log" || { echo "bench-tun: synack did not get $BYTES bytes" >&2; cat "$log" >&2; return 1; }
    rm -f "$log"
    RESULT=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

# synack -> kernel: nc listens and discards; synack connect ends when the
# kernel has it all and closed.
synack_to_kernel() { # tunidx subnet loss
    local tun="skb$1"
    # On every address: the kernel's side of the TUN appears only when
    # synack makes the device.
    in_ns timeout 600 nc -l 9000 >/dev/null &
    local nc=$!
    wait_listen "$NS" 9000
    local t0 t1
    t0=$(now)
    head -c "$BYTES" /dev/zero |
        in_ns timeout 600 "$SYNACK" connect --tun "$tun" --addr 10.77.$2.2/24 \
            --loss "$3" --seed 7 10.77.$2.1:9000
    t1=$(now)
    wait "$nc" 2>/dev/null || true
    RESULT=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

# The veth pair between the two namespaces, with optional 1% loss.
in_ns ip link add vb0 type veth peer name vb1 netns "$NS2"
in_ns ip addr add 10.88.0.1/24 dev vb0
in_ns2 ip addr add 10.88.0.2/24 dev vb1
in_ns ip link set vb0 up
in_ns2 ip link set vb1 up
veth_loss() { # on|off
    for n in "$NS" "$NS2"; do
        local dev=vb0
        [[ "$n" == "$NS2" ]] && dev=vb1
        ip netns exec "$n" nft delete table netdev benchloss 2>/dev/null || true
        if [[ "$1" == on ]]; then
            ip netns exec "$n" nft add table netdev benchloss
            ip netns exec "$n" nft add chain netdev benchloss in "{ type filter hook ingress device $dev priority 0; }"
            ip netns exec "$n" nft add rule netdev benchloss in meta l4proto tcp numgen random mod 100 '<' 1 drop
        fi
    done
}
kernel_to_kernel() {
    in_ns2 timeout 600 nc -l 10.88.0.2 9000 >/dev/null &
    local nc=$!
    wait_listen "$NS2" 9000
    local t0 t1
    t0=$(now)
    head -c "$BYTES" /dev/zero | in_ns timeout 600 nc -N 10.88.0.2 9000
    t1=$(now)
    wait "$nc" 2>/dev/null || true
    RESULT=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
}

row() { # name seconds baseline
    local gbps ratio
    gbps=$(awk -v n="$BYTES" -v t="$2" 'BEGIN { printf "%.6f", n * 8 / t / 1e9 }')
    ratio=$(echo "$2" "$3" | awk '{printf "%.2f", $2 / $1}')
    printf '| %s | %d MiB | %.3f s | %.2f Gbit/s | %s× |\n' "$1" "$MIB" "$2" "$gbps" "$ratio"
}

# Each measurement leaves its time in RESULT (no subshells: the cleanup
# trap must belong to this shell alone).
RESULT=
veth_loss off
kernel_to_kernel; v0=$RESULT
kernel_to_synack 0 10 0; ks0=$RESULT
synack_to_kernel 1 11 0; sk0=$RESULT
veth_loss on
kernel_to_kernel; v1=$RESULT
veth_loss off
kernel_to_synack 2 12 0.01; ks1=$RESULT
synack_to_kernel 3 13 0.01; sk1=$RESULT

echo "bench-tun: $MIB MiB per transfer, $(nproc) CPUs; the ratio is to kernel <-> kernel over veth with the same loss"
echo
echo "| path | size | time | throughput | × veth |"
echo "|---|---|---|---|---|"
row "kernel → kernel (veth)" "$v0" "$v0"
row "kernel → synack (TUN)" "$ks0" "$v0"
row "synack → kernel (TUN)" "$sk0" "$v0"
row "kernel → kernel (veth), 1% loss" "$v1" "$v1"
row "kernel → synack (TUN), 1% loss" "$ks1" "$v1"
row "synack → kernel (TUN), 1% loss" "$sk1" "$v1"
