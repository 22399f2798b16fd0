#!/usr/bin/env bash
# Builds the hardware-virtualization lane's initramfs (an uncompressed newc
# cpio: unpacking gzip under full emulation would cost seconds for nothing).
# It holds busybox, the kvm/kvm_amd (and tun, veth) modules with what they
# need from the cached Debian kernel, the project's binaries with their
# shared libraries (ldd), tests/data (the tests run from the repo root),
# iproute2's ip (the network tests), QEMU with the firmware -M microvm loads
# (the --vmm qemu tests), xmllint (the gate's JUnit tests), /init (init.sh)
# and its steps (steps.sh).
#
# usage: mkinitramfs.sh BUILD_DIR CACHE_DIR OUT.cpio
set -euo pipefail
build=$(cd "${1:?usage: mkinitramfs.sh BUILD_DIR CACHE_DIR OUT}" && pwd)
cache=$(cd "${2:?}" && pwd)
out=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=$cache/../root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,run,var/tmp,lib/modules/hwvirt,usr/bin,usr/sbin,usr/share/qemu}
ln -s ../run "$root/var/run"

# busybox and its applets
cp "$cache/busybox/bin/busybox" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done

# kernel modules, dependencies first (their .modinfo "depends=" strings)
kmods=$(ls -d "$cache"/kernel/lib/modules/*/kernel)
modfile() { # NAME: path of NAME.ko (module names use _ where files may use -)
	local n=$1 f
	f=$(find "$kmods" \( -name "$n.ko" -o -name "${n//_/-}.ko" \) | head -1)
	[ -n "$f" ] || { echo "hwvirt: module $n not in the kernel package" >&2; exit 1; }
	echo "$f"
}
order=()
add_module() { # NAME, after its dependencies
	local n=${1//-/_} f d
	for d in "${order[@]:-}"; do [ "$d" = "$n" ] && return; done
	f=$(modfile "$n")
	for d in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$d"
	done
	cp "$f" "$root/lib/modules/hwvirt/$n.ko"
	order+=("$n")
}
for m in kvm_amd tun veth; do add_module "$m"; done # tap and veth: the network tests
printf '%s\n' "${order[@]}" >"$root/lib/modules/hwvirt/order"

# the project: build/ layout kept (virttax finds vmm-lite next to itself)
v=$root/virttax
mkdir -p "$v/build/tests/guests" "$v/tests"
cp "$build/virttax" "$build/vmm-lite" "$build/kvm-floor" "$build/guest-agent.elf" "$v/build/"
cp "$build/tests/integration-tests" "$v/build/tests/"
cp "$build"/tests/guests/*.elf "$v/build/tests/guests/"
cp -r "$repo/tests/data" "$v/tests/"

# iproute2's ip (busybox's has no tuntap/netns) for the network tests, and
# dash as /bin/sh: busybox's sh runs its own applets before PATH, so the
# tests' system("ip ...") would get busybox's ip
cp "$(PATH=$PATH:/usr/sbin:/sbin command -v ip)" "$root/usr/sbin/ip"
cp /bin/dash "$root/bin/dash"
ln -sfn dash "$root/bin/sh"
# xmllint (libxml2-utils): the gate tests validate JUnit XML against tests/data/junit.xsd
cp "$(command -v xmllint)" "$root/usr/bin/xmllint"

# QEMU at the path the tests use, and the firmware microvm loads
qemu=$(command -v qemu-system-x86_64)
cp "$qemu" "$root/usr/bin/qemu-system-x86_64"
for f in bios-microvm.bin qboot.rom pvh.bin linuxboot_dma.bin kvmvapic.bin; do
	[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$root/usr/share/qemu/"
done

# shared libraries of every dynamic executable, at their own paths (kvm-floor is static)
for exe in "$v/build/virttax" "$v/build/vmm-lite" "$v/build/tests/integration-tests" \
	"$root/usr/bin/qemu-system-x86_64" "$root/usr/sbin/ip" "$root/bin/dash" "$root/usr/bin/xmllint"; do
	ldd "$exe" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || {
	mkdir -p "$root/lib64"
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
}
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

install -m 755 "$here/init.sh" "$root/init"
install -m 755 "$here/steps.sh" "$root/hwvirt-steps"
(cd "$root" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null) >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root" # a staging tree only (and no stray *.d for the Makefile to include)
