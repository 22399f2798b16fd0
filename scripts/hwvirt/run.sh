#!/usr/bin/env bash
# `make test-hwvirt`: virttax on an ordinary AMD-V KVM, with no hardware
# virtualization needed. QEMU emulates (TCG) an AMD EPYC with SVM and nested
# paging; Debian 12's kernel boots in it from an initramfs with the project's
# binaries, loads kvm_amd and runs the steps of scripts/hwvirt/steps.sh
# (doctor, plain vmm-lite, sched-wakeup, calibrate, run, footprint, the
# integration tests). This script fetches (cached), builds the initramfs,
# boots, keeps the console log, prints a summary and exits non-zero when a
# step failed, was killed or never reported. docs/HWVIRT.md explains the lane.
#
# The QEMU monitor listens on BUILD_DIR/hwvirt/monitor.sock (to look at a stuck lane).
#
# usage: run.sh BUILD_DIR        env: HWVIRT_STEPS=a,b (only those steps),
#        HWVIRT_TEST_FILTER=GLOB (criterion --filter of the integration step),
#        HWVIRT_SMP (default 2), HWVIRT_MEM (default 4G), HWVIRT_TIMEOUT (s, 1500)
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
dir=$build/hwvirt
log=$dir/console.log
mkdir -p "$dir"
exec 9>"$dir/lock" # one lane per build directory (they share the log and the cache)
flock -n 9 || { echo "hwvirt: another lane is running on $dir" >&2; exit 1; }
t0=$(date +%s)

"$here/fetch.sh" "$dir/cache"
"$here/mkinitramfs.sh" "$build" "$dir/cache" "$dir/initrd.cpio"
vmlinuz=$(ls "$dir"/cache/kernel/boot/vmlinuz-* | tail -1)
echo "hwvirt: $(basename "$vmlinuz"), initramfs $(($(stat -c %s "$dir/initrd.cpio") >> 20)) MiB," \
	"prepared in $(($(date +%s) - t0)) s; booting (log: $log)"

append="console=ttyS0 quiet nokaslr panic=-1 oops=panic"
[ -n "${HWVIRT_STEPS:-}" ] && append="$append hwvirt.steps=$HWVIRT_STEPS"
[ -n "${HWVIRT_TEST_FILTER:-}" ] && append="$append hwvirt.filter=$HWVIRT_TEST_FILTER"
set +e
timeout "${HWVIRT_TIMEOUT:-1500}" qemu-system-x86_64 -accel "tcg,thread=${HWVIRT_TCG_THREAD:-single}" \
	-cpu EPYC,+svm,+npt -smp "${HWVIRT_SMP:-2}" -m "${HWVIRT_MEM:-4G}" \
	-nographic -no-reboot -nodefaults -serial stdio \
	-monitor "unix:$dir/monitor.sock,server=on,wait=off" \
	-kernel "$vmlinuz" -initrd "$dir/initrd.cpio" -append "$append" </dev/null 2>"$dir/qemu.err" |
	tee "$log" | grep --line-buffered -aE '^@@HWVIRT|Synthesis|kvm_amd loaded|^KVM:|^hwvirt:'
qrc=${PIPESTATUS[0]}
set -e

# the summary: one line per step, from the markers (the console's escape
# sequences and carriage returns taken out first)
txt=$dir/console.txt
tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' >"$txt"
fail=0
echo
case $qrc in
0) why="" ;;
124) why=": the lane was stopped at its bound, HWVIRT_TIMEOUT=${HWVIRT_TIMEOUT:-1500} s" ;;
*) why=": QEMU failed, see $dir/qemu.err" ;;
esac
echo "hwvirt summary (QEMU exit $qrc$why; $(($(date +%s) - t0)) s in all):"
while read -r name rc secs; do
	st=PASS
	[ "$rc" = 0 ] || { st=FAIL; fail=1; }
	printf '  %-16s %s  (exit %s, %s s)\n' "$name" "$st" "$rc" "$secs"
done < <(sed -n 's/^@@HWVIRT step=\([^ ]*\) rc=\([0-9]*\) secs=\([0-9]*\)$/\1 \2 \3/p' "$txt")
for s in $(sed -n 's/^@@HWVIRT begin step=//p' "$txt"); do
	grep -q "^@@HWVIRT step=$s " "$txt" || {
		last=$(sed -n 's/^\[RUN \] //p' "$txt" | tail -1)
		printf '  %-16s FAIL  (never finished: the VM died or the lane timed out%s)\n' "$s" \
			"${last:+; the last test started: $last}"
		fail=1
	}
done
syn=$(grep -a 'Synthesis: ' "$txt" | tail -1 || true)
[ -n "$syn" ] && echo "  integration tests: ${syn#*Synthesis: }"
grep -a '^\[FAIL\] ' "$txt" | sed 's/^/    /' || true
grep -q '^@@HWVIRT done' "$txt" || { echo "  the VM did not reach the end"; fail=1; }
[ $fail -eq 0 ] && echo "hwvirt: PASS" || echo "hwvirt: FAIL (see $log)"
exit $fail
