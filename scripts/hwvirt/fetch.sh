#!/usr/bin/env bash
# Fetches what the hardware-virtualization lane boots, from Debian's packages
# only, into a cache that survives `make` runs (build/hwvirt/cache):
#   busybox-static                 -> busybox (the initramfs userland)
#   linux-image-6.1.0-<N>-amd64    -> vmlinuz, irqbypass/kvm/ccp/kvm-amd/tun.ko
# Why apt-get download: no root, no installation, the exact Debian 12 kernel
# users run; a cached .deb is reused, so only the first run needs the mirror.
# The kernel is the one linux-image-amd64 points at (override: HWVIRT_KERNEL_PKG).
#
# usage: fetch.sh CACHE_DIR      (prints nothing; fails with a one-line reason)
set -euo pipefail
cache=${1:?usage: fetch.sh CACHE_DIR}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
mkdir -p "$cache/debs"
cd "$cache/debs"

download() { # PKG: the .deb of PKG in the cache, downloaded once
	local pkg=$1
	if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
		# apt-get download writes to the current directory; as root it warns
		# that _apt cannot write there, which is harmless
		apt-get download -q "$pkg" >/dev/null 2>"$cache/apt.err" || {
			echo "hwvirt: apt-get download $pkg failed: $(tail -1 "$cache/apt.err")" \
				"(needs Debian 12 apt sources; see docs/DEPENDENCIES.md)" >&2
			exit 1
		}
	fi
	ls "${pkg}"_*.deb | tail -1
}

kernel_pkg() {
	if [ -n "${HWVIRT_KERNEL_PKG:-}" ]; then
		echo "$HWVIRT_KERNEL_PKG"
		return
	fi
	# a cached kernel wins: the lane stays offline once it has run
	local cached
	cached=$(ls linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | tail -1 || true)
	if [ -n "$cached" ]; then
		echo "${cached%%_*}"
		return
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -1
}

# a machine whose package lists were never fetched (or were cleaned) knows no
# candidates: fetch the lists once
cached() { ls busybox-static_*.deb linux-image-6.1.0-*-amd64_*.deb >/dev/null 2>&1; }
if ! cached && ! apt-cache show busybox-static >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null
fi
kpkg=$(kernel_pkg)
[ -n "$kpkg" ] || {
	echo "hwvirt: cannot tell which linux-image-6.1.0-*-amd64 to fetch" \
		"(apt-cache depends linux-image-amd64 says nothing; set HWVIRT_KERNEL_PKG)" >&2
	exit 1
}
bdeb=$(download busybox-static)
kdeb=$(download "$kpkg")

# extract once per .deb (a marker names the .deb it came from), keeping only
# what the lane uses: nothing under build/ may be a *.d directory, the
# Makefile includes those as dependency files
extract() { # DEB DIR KEEP...
	local deb=$1 dir=$2
	shift 2
	[ "$(cat "$dir/.from" 2>/dev/null)" = "$deb" ] && return
	rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir" "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp"
	for k in "$@"; do
		mkdir -p "$dir/$(dirname "$k")"
		mv "$dir.tmp/$k" "$dir/$k"
	done
	rm -rf "$dir.tmp"
	echo "$deb" >"$dir/.from"
}
extract "$cache/debs/$bdeb" "$cache/busybox" bin/busybox
kver=${kpkg#linux-image-}
extract "$cache/debs/$kdeb" "$cache/kernel" "boot/vmlinuz-$kver" "boot/System.map-$kver" \
	"lib/modules/$kver/kernel" # System.map: to read a stuck lane's RIPs (nokaslr)
test -e "$cache/kernel/boot/vmlinuz-$kver"
test -x "$cache/busybox/bin/busybox"
