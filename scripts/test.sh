#!/usr/bin/env bash
# The one command that installs what the tests need and runs them all:
#
#   scripts/test.sh
#
# Works on a fresh Debian machine that has only the Rust toolchain (rustup
# with the default profile). It installs what is missing of the kernel-side
# tools the tests drive (curl, netcat-openbsd, socat, openssl, nmap,
# hping3, tshark, iproute2, nftables, python3, ping, procps, and chromium
# for the HTML pages; with apt) and
# cargo-fuzz (cargo install), then runs, in order:
#
#   1. cargo fmt --check
#   2. cargo clippy on every target, warnings denied
#   3. cargo test --workspace --release, with debug assertions and overflow
#      checks on (SYNACK_REQUIRE_TOOLS=1: the tshark and chromium tests fail
#      instead of skipping when their tool is missing)
#   4. the benchmarks once in quick mode (cargo bench -p synack-bench --
#      --quick): the harness must run; no figure is checked
#   5. every fuzz target for FUZZ_SECONDS (default 60) seconds each
#
# Environment:
#   FUZZ_SECONDS           seconds per fuzz target (default 60)
#   SYNACK_REQUIRE_NETNS   passed through to the tests (.ci/run sets it to 1)
#
# Any failing step fails the script; a fuzzer crash fails it too (the
# crashing input is kept under fuzz/artifacts/<target>/).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TARGETS=(wire_parse engine_segments host_packets)

script_start=$SECONDS
step_name=""
step_start=$SECONDS
timings=()

# Prints a section header and closes the timing of the previous section.
section() {
    end_section
    step_name="$1"
    step_start=$SECONDS
    printf '\n==== test.sh: %s ====\n' "$step_name"
}

end_section() {
    if [[ -n "$step_name" ]]; then
        timings+=("$(printf '%5d s  %s' "$((SECONDS - step_start))" "$step_name")")
        step_name=""
    fi
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        printf '\ntest.sh: FAILED (exit %d) in step "%s" after %d s\n' \
            "$rc" "${step_name:-setup}" "$((SECONDS - script_start))" >&2
    fi
}
trap on_exit EXIT

# Root runs apt-get directly; anyone else needs sudo.
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "test.sh: need root or sudo to run: $*" >&2
        return 1
    fi
}

# ---------------------------------------------------------------------------
section "install tools"

if command -v rustup >/dev/null 2>&1; then
    # Part of rustup's default profile; a minimal profile lacks them.
    for component in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
            rustup component add "$component"
        fi
    done
fi

# The interop tests (crates/synack-cli/tests/) drive these kernel-side tools
# inside network namespaces: package, then the command that shows it is
# there. netcat-openbsd is checked by package, since another netcat also
# installs an `nc` (without the -N the tests need).
apt_tools=(
    "curl curl"
    "netcat-openbsd nc"
    "socat socat"
    "openssl openssl"
    "nmap nmap"
    "hping3 hping3"
    "tshark tshark"
    "tcpdump tcpdump"
    "iproute2 ip"
    "nftables nft"
    "python3 python3"
    "iputils-ping ping"
    "procps pgrep"
    "chromium chromium"
)
missing_pkgs=()
for entry in "${apt_tools[@]}"; do
    read -r pkg cmd <<<"$entry"
    if [[ "$pkg" == netcat-openbsd ]] && command -v dpkg-query >/dev/null 2>&1; then
        if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
            continue
        fi
    elif command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    missing_pkgs+=("$pkg")
done
if [[ ${#missing_pkgs[@]} -eq 0 ]]; then
    echo "apt tools: all there (tshark: $(tshark --version 2>/dev/null | head -n 1))"
else
    echo "missing: ${missing_pkgs[*]}; installing with apt-get"
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: no apt-get here; install by hand: ${missing_pkgs[*]}" >&2
        exit 1
    fi
    as_root apt-get update
    # Never ask whether non-root users may capture (the only question
    # tshark's package asks); noninteractive would pick the default anyway.
    if command -v debconf-set-selections >/dev/null 2>&1; then
        echo "wireshark-common wireshark-common/install-setuid boolean false" |
            as_root debconf-set-selections
    fi
    # The lock timeout waits out an unattended upgrade instead of failing.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends \
        "${missing_pkgs[@]}"
    tshark --version | head -n 1
fi

if cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz: $(cargo fuzz --version)"
else
    echo "cargo-fuzz missing: installing it with cargo install"
    cargo install --locked cargo-fuzz
    cargo fuzz --version
fi

# ---------------------------------------------------------------------------
section "cargo fmt --check"
cargo fmt --all -- --check

# ---------------------------------------------------------------------------
section "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

# ---------------------------------------------------------------------------
section "cargo test --workspace --release (with debug assertions and overflow checks)"
# Optimized, but with debug assertions and overflow checks switched back on
# (for this command only), so wrapping sequence arithmetic done wrong still
# panics as it would in a debug build. Measured on 2 cores, from scratch:
#
#                              build   run   total
#   debug (cargo test)          14 s   12 s   26 s
#   release                     25 s    2 s   27 s
#   release + checks (this)     27 s    3 s   30 s
#
# The run time is almost all the simulated-network tests (the 200-seed
# sweep of 1 MiB transfers over impaired links takes 10 s in debug, under
# 1 s optimized); they are the tests that grow, so the optimized build wins
# as the suite does, at no cost in checking.
export SYNACK_REQUIRE_TOOLS=1
# The network-namespace tests (the TUN test, the interop suite) skip when they
# cannot run unless SYNACK_REQUIRE_NETNS=1 (set by .ci/run).
if [[ -n "${SYNACK_REQUIRE_NETNS+set}" ]]; then
    export SYNACK_REQUIRE_NETNS
fi
test_log=$(mktemp)
CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
    CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
    cargo test --workspace --release 2>&1 | tee "$test_log"
# Totals over every test binary, for the closing line.
tests_passed=$(grep -Eo '[0-9]+ passed' "$test_log" | awk '{s += $1} END {print s + 0}')
tests_failed=$(grep -Eo '[0-9]+ failed' "$test_log" | awk '{s += $1} END {print s + 0}')
rm -f "$test_log"

# ---------------------------------------------------------------------------
section "benchmarks, quick mode (proves the harness runs; no timing checked)"
# The side-by-side comparison with smoltcp, Linux loopback and memcpy, at
# tiny sizes. The real run is scripts/bench.sh (see BENCHMARKS.md).
cargo bench -p synack-bench --bench compare -- --quick

# ---------------------------------------------------------------------------
section "fuzz: build targets"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets stable accept them.
export RUSTC_BOOTSTRAP=1
# AddressSanitizer by default; if the toolchain cannot build with it, fall
# back to no sanitizer (libFuzzer still catches panics, the code is safe
# Rust).
fuzz_flags=()
if ! cargo fuzz build; then
    echo "test.sh: fuzz build with the default sanitizer failed; retrying with -s none" >&2
    fuzz_flags=(-s none)
    cargo fuzz build "${fuzz_flags[@]}"
fi

for target in "${FUZZ_TARGETS[@]}"; do
    section "fuzz: $target for ${FUZZ_SECONDS} s"
    # Corpus in fuzz/corpus/<target>, crashes in fuzz/artifacts/<target>
    # (both gitignored). A crash makes libFuzzer, and so cargo fuzz, exit
    # non-zero, which fails the script.
    cargo fuzz run "${fuzz_flags[@]}" "$target" -- \
        -max_total_time="$FUZZ_SECONDS" -print_final_stats=1
done

end_section
printf '\n==== test.sh: timings ====\n'
printf '%s\n' "${timings[@]}"
echo "test.sh: all steps passed in $((SECONDS - script_start)) s"
echo "tests: ${tests_passed} passed, ${tests_failed} failed"
