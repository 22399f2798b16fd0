#!/usr/bin/env bash
# Installs the Debian 12 packages virttax needs, and only those that are missing.
# Why a script: `make run` and `make test` must work on a fresh clone, and CI runs
# on a clean machine. Idempotent and silent when nothing is missing.
set -euo pipefail
PKGS=(
  build-essential      # gcc, make
  pkg-config
  clang                # libFuzzer and the sanitizer build
  libclang-rt-14-dev   # sanitizer/fuzzer runtimes for clang
  libjansson-dev       # all JSON reading and writing
  libpfm4-dev          # perf event names -> perf_event_attr
  linux-libc-dev       # linux/kvm.h, linux/perf_event.h
  libhwloc-dev         # topology and pinning plans
  libcriterion-dev     # unit and integration tests
  libseccomp-dev       # vmm-lite's per-thread seccomp allow-lists
  fio                  # block I/O baseline
  iperf3               # network throughput baseline
  qemu-system-x86      # peer VMM (-M microvm)
  iproute2             # veth/netns for network baselines
  chromium             # renders the HTML report in its test (headless)
  libxml2-utils        # xmllint: the gate test checks the JUnit XML
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
