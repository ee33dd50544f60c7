#!/usr/bin/env bash
# The one benchmark command. It runs, in one go on this machine:
#
#   1. synack beside smoltcp 0.14, Linux loopback TCP and memcpy
#      (cargo bench -p synack-bench): bulk at MTU 1500 and 65535 with
#      checksums on and off, connection rate, memory per idle connection;
#   2. goodput under loss in the simulator, next to the Mathis bound
#      (synack bench goodput);
#   3. when run as root with /dev/net/tun: kernel -> synack and
#      synack -> kernel through a TUN device, next to kernel <-> kernel over
#      veth (scripts/bench-tun.sh; skipped, and said so, otherwise);
#
# and writes each output, as printed, into BENCHMARKS.md between its
# markers (<!-- NAME:start --> ... <!-- NAME:end -->) with the machine, the
# command and the date.
#
#   ./scripts/bench.sh            everything, full size (some minutes)
#   ./scripts/bench.sh --quick    the comparison at tiny sizes, to try the
#                                 script (its figures mean nothing;
#                                 BENCHMARKS.md is left alone)
#
# Run it on an otherwise idle machine: the ratios come from one run, but a
# busy machine makes every figure noisy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

compare=(cargo bench -p synack-bench --bench compare --)
if [[ "${1:-}" == "--quick" ]]; then
    "${compare[@]}" --quick
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writes $work/NAME.out into BENCHMARKS.md between NAME's markers (or
# appends a section headed $2 if the markers are not there yet).
put_section() {
    local name=$1 heading=$2 command=$3
    {
        echo "<!-- $name:start (written by scripts/bench.sh; do not edit by hand) -->"
        echo
        echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown): \`$command\`, $(rustc --version), $(uname -sr), $(nproc) CPUs."
        echo
        cat "$work/$name.out"
        echo
        echo "<!-- $name:end -->"
    } >"$work/$name.section"
    python3 - "$name" "$heading" "$work/$name.section" <<'EOF'
import re, sys
name, heading, section_path = sys.argv[1:4]
section = open(section_path).read().rstrip("\n")
path = "BENCHMARKS.md"
text = open(path).read()
pattern = re.compile(r"<!-- " + re.escape(name) + r":start.*?<!-- " + re.escape(name) + r":end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n## " + heading + "\n\n" + section + "\n"
open(path, "w").write(text)
EOF
}

echo "bench.sh: 1/3 synack beside smoltcp, Linux loopback and memcpy"
"${compare[@]}" | tee "$work/compare.out"
put_section compare "Against smoltcp, Linux loopback and memcpy" "${compare[*]}"

echo "bench.sh: 2/3 goodput under loss (simulator)"
cargo build --release --bin synack
./target/release/synack bench goodput | tee "$work/goodput.out"
put_section goodput "Goodput under loss and delay" "synack bench goodput"

echo "bench.sh: 3/3 through a TUN device"
if [[ "$(id -u)" -eq 0 && -c /dev/net/tun ]]; then
    ./scripts/bench-tun.sh | tee "$work/tun.out"
    put_section tun "Through a TUN device, next to the kernel" "sudo ./scripts/bench-tun.sh"
else
    echo "bench.sh: not root or no /dev/net/tun: the TUN benchmark is skipped (run as root for it)"
fi
echo "bench.sh: BENCHMARKS.md updated"
