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
# network: what is fresh is the user space, not the kernel. Several checks may run at once.
# Everything is in functions and the last line calls main: bash reads a script as it runs,
# and developers edit the checkout while a check runs.
set -uo pipefail

SUITE=bookworm
INCLUDE=git,make,gcc,libc6-dev,ca-certificates
CACHE=${FRESH_CACHE:-/var/tmp/virttax-fresh}
BASE=$CACHE/$SUITE-minbase-${INCLUDE//,/-}.tar
TIMEOUT=${FRESH_TIMEOUT:-5400}
ROOT="" # the root being used, for teardown
RESULTS=()

say() { echo "fresh-check: $*" >&2; }
die() {
	say "$*"
	exit 125
}

host_mirror() {
	local m=""
	[ -f /etc/apt/sources.list.d/debian.sources ] &&
		m=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	[ -z "$m" ] && [ -f /etc/apt/sources.list ] &&
		m=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
	echo "${m:-http://deb.debian.org/debian}"
}

# The pristine base root as a tarball, built once (the caller holds the lock).
make_base() {
	local tmp=$CACHE/base.$$ mirror=${FRESH_MIRROR:-$(host_mirror)} f
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
			debootstrap >/dev/null || return 1
	fi
	say "building the base root ($SUITE minbase + $INCLUDE from $mirror), once"
	rm -rf --one-file-system "$tmp"
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$mirror" \
		>"$CACHE/logs/debootstrap.log" 2>&1; then
		say "debootstrap failed: $CACHE/logs/debootstrap.log"
		return 1
	fi
	# The same package sources and apt settings as this host (a machine on this network).
	if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
		rm -f "$tmp/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/"
	fi
	for f in /etc/apt/apt.conf.d/*; do
		[ -e "$tmp/etc/apt/apt.conf.d/${f##*/}" ] || cp "$f" "$tmp/etc/apt/apt.conf.d/"
	done
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' >"$tmp/etc/hosts"
	tar -C "$tmp" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE" && rm -rf --one-file-system "$tmp"
}

mounts_under() { awk -v r="$1" '$5 == r || index($5, r "/") == 1 { n++ } END { print n + 0 }' /proc/self/mountinfo; }

# Unmount and delete a root: first the processes a command left running in it.
remove_root() {
	local r=$1 p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	umount -R "$r" 2>/dev/null || umount -R -l "$r" 2>/dev/null
	if [ "$(mounts_under "$r")" -ne 0 ]; then
		say "still mounted under $r: not deleting it"
		return 1
	fi
	rm -rf --one-file-system "$r"
}

teardown() {
	[ -n "$ROOT" ] || return 0
	if [ -z "${FRESH_KEEP:-}" ]; then
		remove_root "$ROOT"
	else
		umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT" 2>/dev/null
		say "kept $ROOT"
	fi
	ROOT=""
}

# Roots left by a check that was killed (root.PID.N whose PID is gone).
reap_stale() {
	local r pid
	for r in "$CACHE"/root.*; do
		[ -d "$r" ] || continue
		pid=${r##*/root.}
		pid=${pid%%.*}
		[ -d "/proc/$pid" ] || remove_root "$r"
	done
}

# One command in one pristine root. Returns the command's status (125: set-up failed).
check_one() {
	local cmd=$1 n=$2 sha=$3 gitdir=$4 log rc t0 secs d
	ROOT=$CACHE/root.$$.$n
	log=$CACHE/logs/${sha:0:12}-$n-$(date +%Y%m%d-%H%M%S).log
	mkdir -p "$ROOT" && tar -C "$ROOT" -xf "$BASE" || return 125
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
	git clone -q --no-checkout "$gitdir" "$ROOT/root/virttax" &&
		git -C "$ROOT/root/virttax" checkout -q --detach "$sha" || return 125
	# A mount point of its own, private, so nothing mounted inside reaches the host; the
	# host's /dev, /proc, /sys as slaves (unmounting them here never unmounts the host's).
	mount --bind "$ROOT" "$ROOT" && mount --make-private "$ROOT" || return 125
	for d in dev proc sys; do
		mount --rbind "/$d" "$ROOT/$d" && mount --make-rslave "$ROOT/$d" || return 125
	done
	mount -t tmpfs -o mode=755 tmpfs "$ROOT/run" || return 125
	say "[$n] '$cmd' in a fresh root (commit ${sha:0:12}); log: $log"
	t0=$(date +%s)
	timeout -k 30 "$TIMEOUT" chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/virttax && $cmd" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	[ $rc -eq 0 ] || tail -n 15 "$log" | sed 's/^/  | /' >&2
	[ $rc -eq 124 ] && say "[$n] timed out after $TIMEOUT s"
	teardown
	RESULTS+=("'$cmd' exit $rc in ${secs} s")
	return $rc
}

main() {
	local top sha gitdir status=0 n=0 rc cmd summary verdict=PASS
	[ "$(id -u)" -eq 0 ] ||
		die "must run as root (debootstrap, chroot and mounts): sudo $0$([ $# -eq 0 ] || printf ' %q' "$@")"
	[ $# -gt 0 ] || set -- "make test"
	top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
	sha=$(git -C "$top" rev-parse HEAD) || die "no committed HEAD in $top"
	gitdir=$(cd "$top" && cd "$(git rev-parse --git-common-dir)" && pwd) || die "no git directory"
	git -C "$top" diff --quiet HEAD -- 2>/dev/null ||
		say "note: uncommitted changes in $top are not checked (the clone is commit ${sha:0:12})"
	mkdir -p "$CACHE/logs" || die "cannot create $CACHE"
	exec 9>"$CACHE/base.lock"
	flock 9
	reap_stale
	[ -f "$BASE" ] || make_base || die "could not build the base root"
	flock -u 9
	trap teardown EXIT
	trap 'exit 130' INT TERM
	for cmd in "$@"; do
		n=$((n + 1))
		check_one "$cmd" "$n" "$sha" "$gitdir"
		rc=$?
		[ $status -eq 0 ] && status=$rc
		[ $rc -eq 125 ] && die "[$n] could not set up the root for '$cmd'"
	done
	[ $status -eq 0 ] || verdict=FAIL
	summary=$(printf '%s; ' "${RESULTS[@]}")
	echo "fresh-check: $verdict on fresh Debian 12 roots, commit ${sha:0:12}: ${summary%; }"
	return $status
}

main "$@"; exit $?
