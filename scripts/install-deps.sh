#!/usr/bin/env bash
# Installs the Debian 12 packages virttax needs, and only those that are missing.
# Why a script: `make run` and `make test` must work on a fresh clone, and CI runs
# on a clean machine. Idempotent and silent when nothing is missing.
# Several developers and CI may install at the same time: apt waits up to 10 min for
# the dpkg lock (DPkg::Lock::Timeout); `apt-get update`, which ignores that option for
# its lists lock, is retried for as long.
# Exit: 0 installed (or nothing missing); 1 cannot install (not root and no sudo, or
# apt failed: the missing packages are named so they can be installed by hand).
set -euo pipefail
PKGS=(
  build-essential      # gcc, make
  pkg-config           # flags of the libraries below (the Makefile's $(DEPS_MK))
  clang                # libFuzzer targets (make fuzz, make test's fuzz-smoke)
  libclang-rt-14-dev   # sanitizer/fuzzer runtimes for clang
  clang-format         # make format
  libjansson-dev       # all JSON reading and writing
  libpfm4-dev          # perf event names -> perf_event_attr
  linux-libc-dev       # linux/kvm.h, linux/perf_event.h
  libhwloc-dev         # topology and pinning plans
  libcriterion-dev     # unit and integration tests
  libseccomp-dev       # vmm-lite's per-thread seccomp allow-lists
  fio                  # block I/O baseline
  iperf3               # network throughput baseline
  qemu-system-x86      # peer VMM (-M microvm); the emulator of make test-hwvirt, whose
                       # busybox-static and kernel .debs are downloaded, not installed
                       # (scripts/hwvirt/fetch.sh)
  iproute2             # ip: veth/netns/tap for network baselines and tests
  chromium             # renders the HTML report in its test (headless)
  libxml2-utils        # xmllint: the gate test checks the JUnit XML
  python3              # tests/check_layers.py (make check-layers, part of unit-tests)
  python3-scipy        # reference values for the statistics tests (tests/unit/stats_reference.py)
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null; then
  AS_ROOT=(sudo)
else
  echo "install-deps: not root and no sudo here; as root run: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# apt-get ARGS..., retried while another apt/dpkg holds a lock, for up to 600 s.
apt_wait() {
  local deadline=$((SECONDS + 600))
  while :; do
    if "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -q -o DPkg::Lock::Timeout=600 "$@" >"$log" 2>&1; then
      return 0
    fi
    grep -q 'Could not get lock' "$log" && [ $SECONDS -lt $deadline ] || return 1
    sleep 5
  done
}
if ! apt_wait update || ! apt_wait install -y --no-install-recommends "${missing[@]}"; then
  tail -n 15 "$log" >&2
  echo "install-deps: apt-get failed (above); as root run: apt-get install ${missing[*]}" >&2
  exit 1
fi
