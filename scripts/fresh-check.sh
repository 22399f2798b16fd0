#!/usr/bin/env bash
# fresh-check: do the README's commands work the first time on a fresh Debian 12 machine?
#
# Why: CI machines and developers' machines already have the packages, so a green CI can hide
# a missing install step (issue 14: the first `make test` failed at link time on a fresh
# machine). This builds a minimal Debian 12 root with debootstrap (minbase + git, make, gcc,
# libc6-dev, ca-certificates: nothing the project installs itself), clones the repository's
# committed HEAD into it and runs each command once, each in its own pristine root.
#
# Usage (as root):  scripts/fresh-check.sh [CMD ...]     default CMD: 'make test'
#   make fresh-check runs 'make test' and 'make run RUN_ARGS=--quick'.
# Exit: 0 when every CMD exited 0, else the status of the first CMD that failed;
#       125 when the check itself could not be set up (not root, debootstrap failed, ...).
# Environment: FRESH_CACHE (default /var/tmp/virttax-fresh) holds the pristine base tarball
#   (built once, ~2 min) and the logs; FRESH_MIRROR overrides the Debian mirror (default: the
#   host's); FRESH_TIMEOUT bounds each CMD (seconds, default 5400); FRESH_KEEP=1 keeps roots.
# The roots share the host's /dev (for /dev/kvm, /dev/net/tun), /proc and /sys, and its
# network: what is fresh is the user space, not the kernel.
set -uo pipefail

say() { echo "fresh-check: $*" >&2; }
die() { say "$*"; exit 125; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mounts): sudo $0 $*"
[ $# -gt 0 ] || set -- "make test"

TOP=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
SHA=$(git -C "$TOP" rev-parse HEAD) || die "no committed HEAD in $TOP"
GITDIR=$(cd "$TOP" && cd "$(git rev-parse --git-common-dir)" && pwd)
git -C "$TOP" diff --quiet HEAD -- 2>/dev/null ||
	say "note: uncommitted changes in $TOP are not checked (the clone is commit ${SHA:0:12})"

CACHE=${FRESH_CACHE:-/var/tmp/virttax-fresh}
TIMEOUT=${FRESH_TIMEOUT:-5400}
SUITE=bookworm
INCLUDE=git,make,gcc,libc6-dev,ca-certificates
BASE=$CACHE/$SUITE-minbase-${INCLUDE//,/-}.tar
mkdir -p "$CACHE/logs" || die "cannot create $CACHE"

host_mirror() {
	local m=""
	[ -f /etc/apt/sources.list.d/debian.sources ] &&
		m=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	[ -z "$m" ] && [ -f /etc/apt/sources.list ] &&
		m=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
	echo "${m:-http://deb.debian.org/debian}"
}

# The pristine base, built once and shared by concurrent checks (flock).
make_base() {
	local tmp=$CACHE/base.$$ mirror=${FRESH_MIRROR:-$(host_mirror)}
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
			debootstrap >/dev/null || return 1
	fi
	say "building the base root ($SUITE minbase + $INCLUDE from $mirror), once"
	rm -rf --one-file-system "$tmp"
	debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$mirror" \
		>"$CACHE/logs/debootstrap.log" 2>&1 || { say "debootstrap failed: $CACHE/logs/debootstrap.log"; return 1; }
	# The same package sources and apt settings as this host (a machine on this network).
	if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
		rm -f "$tmp/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/"
	fi
	local f
	for f in /etc/apt/apt.conf.d/*; do
		[ -e "$tmp/etc/apt/apt.conf.d/${f##*/}" ] || cp "$f" "$tmp/etc/apt/apt.conf.d/"
	done
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' >"$tmp/etc/hosts"
	tar -C "$tmp" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE" && rm -rf --one-file-system "$tmp"
}
exec 9>"$CACHE/base.lock"
flock 9
[ -f "$BASE" ] || make_base || die "could not build the base root"
flock -u 9

ROOT=""
mounted_under() { awk -v r="$1" '$5 == r || index($5, r "/") == 1 { n++ } END { print n + 0 }' /proc/self/mountinfo; }
teardown() {
	[ -n "$ROOT" ] || return 0
	local pid
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do # processes the command left behind in this root
		[ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "$pid" 2>/dev/null
	done
	umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT" 2>/dev/null
	if [ "$(mounted_under "$ROOT")" -ne 0 ]; then
		say "still mounted under $ROOT: not deleting it"
	elif [ -z "${FRESH_KEEP:-}" ]; then
		rm -rf --one-file-system "$ROOT"
	fi
	ROOT=""
}
trap teardown EXIT
trap 'exit 130' INT TERM

# One command in one pristine root. Prints its verdict line; returns the command's status.
check_one() {
	local cmd=$1 n=$2 log rc t0 secs
	ROOT=$CACHE/root.$$.$n
	log=$CACHE/logs/${SHA:0:12}-$n-$(date +%Y%m%d-%H%M%S).log
	mkdir -p "$ROOT" && tar -C "$ROOT" -xf "$BASE" || return 125
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
	git clone -q --no-checkout "$GITDIR" "$ROOT/root/virttax" &&
		git -C "$ROOT/root/virttax" checkout -q --detach "$SHA" || return 125
	# A mount point of its own, private, so nothing mounted inside reaches the host; the
	# host's /dev, /proc, /sys as slaves (unmounting them here never unmounts the host's).
	mount --bind "$ROOT" "$ROOT" && mount --make-private "$ROOT" || return 125
	local d
	for d in dev proc sys; do
		mount --rbind "/$d" "$ROOT/$d" && mount --make-rslave "$ROOT/$d" || return 125
	done
	mount -t tmpfs -o mode=755 tmpfs "$ROOT/run" || return 125
	say "[$n] '$cmd' in a fresh root (commit ${SHA:0:12}); log: $log"
	t0=$(date +%s)
	timeout -k 30 "$TIMEOUT" chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/virttax && $cmd" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	[ $rc -eq 0 ] || { tail -n 15 "$log" | sed 's/^/  | /' >&2; }
	[ $rc -eq 124 ] && say "[$n] timed out after $TIMEOUT s"
	teardown
	RESULTS+=("'$cmd' exit $rc in ${secs} s")
	return $rc
}

RESULTS=()
status=0
n=0
for cmd in "$@"; do
	n=$((n + 1))
	check_one "$cmd" "$n"
	rc=$?
	[ $status -eq 0 ] && status=$rc
	[ $rc -eq 125 ] && break
done
verdict=PASS
[ $status -eq 0 ] || verdict=FAIL
summary=$(printf '%s; ' "${RESULTS[@]}")
echo "fresh-check: $verdict on fresh Debian 12 roots, commit ${SHA:0:12}: ${summary%; }"
exit $status
