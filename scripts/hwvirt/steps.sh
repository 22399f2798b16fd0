#!/bin/sh
# The steps of the hardware-virtualization lane, run by /init (init.sh) as
# `/bin/sh /hwvirt-steps STEP` under a time bound, from /virttax (the tests
# read tests/data relative to the repo root). Each step prints what it ran
# and returns non-zero, with a reason, when it failed.
B=/virttax/build

modules() {
	for m in $(cat /lib/modules/hwvirt/order); do
		insmod /lib/modules/hwvirt/$m.ko || { echo "insmod $m failed"; return 1; }
	done
	[ -c /dev/kvm ] || { echo "no /dev/kvm after loading kvm_amd"; return 1; }
	echo "kvm_amd loaded: npt=$(cat /sys/module/kvm_amd/parameters/npt)" \
		"nested=$(cat /sys/module/kvm_amd/parameters/nested)" \
		"cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
	grep -qw svm /proc/cpuinfo || { echo "no svm flag in /proc/cpuinfo"; return 1; }
}

doctor() {
	$B/virttax doctor >/tmp/doctor.txt 2>&1
	rc=$?
	cat /tmp/doctor.txt
	[ $rc -eq 0 ] || return $rc
	grep -q '^KVM: *flavour svm' /tmp/doctor.txt || { echo "doctor does not name svm"; return 1; }
	grep -q '^Guest: *runs natively' /tmp/doctor.txt || { echo "doctor: guest not native"; return 1; }
}

# plain vmm-lite: the agent finds the TSC rate itself (vmm-lite's timing leaf)
plain() {
	$B/vmm-lite --kernel $B/guest-agent.elf --cmdline workload=noop >/tmp/plain.txt 2>&1
	rc=$?
	cat /tmp/plain.txt
	[ $rc -eq 1 ] || { echo "vmm-lite exit $rc, expected 1 (guest status 0)"; return 1; }
	grep -q '"tsc_src":"cpuid"' /tmp/plain.txt || { echo "TSC rate not from CPUID"; return 1; }
}

wakeup() {
	$B/vmm-lite --kernel $B/guest-agent.elf \
		--cmdline "workload=sched-wakeup iters=200 period_us=500" >/tmp/wake.txt 2>&1
	rc=$?
	cat /tmp/wake.txt
	[ $rc -eq 1 ] || return 1
	grep -q '"m":"lateness_p50"' /tmp/wake.txt || { echo "sched-wakeup unavailable"; return 1; }
}

calibrate() {
	$B/virttax calibrate --quick --out /tmp/cal.json >/tmp/cal.txt 2>&1
	rc=$?
	cat /tmp/cal.txt
	[ $rc -eq 0 ] || return $rc
	grep -Eq '^ +hlt-timer +[0-9.]+ ns' /tmp/cal.txt || { echo "hlt-timer unavailable"; return 1; }
	grep -Eq '^ +hypercall +[0-9.]+ ns' /tmp/cal.txt || { echo "hypercall unavailable"; return 1; }
	grep -q 'vmmcall (CPU vendor AuthenticAMD)' /tmp/cal.json || {
		echo "the hypercall row does not say vmmcall (AuthenticAMD)"
		return 1
	}
}

# --quick's default workloads take 4+ minutes under emulation (mem-stream
# alone 2.5): one CPU, one memory and the timer workload say enough here.
# --pagesize/--backing named: one VM series (the default plan adds mem-chase's
# two translation series, 36 runs instead of 16: 300 s instead of 64-125 s
# here; the integration test run::pagesize_matrix_gives_two_series runs them)
run_quick() {
	$B/virttax run --quick --workloads cpu-int,mem-chase,sched-wakeup --mem 512M \
		--pagesize 2m --backing thp --out /tmp/run
}
footprint() { $B/virttax footprint --quick --out /tmp/fp; }
# Every integration test, each bounded (criterion --timeout: 300 s for a test
# without its own .timeout), but two that make test runs on the host:
# - hostile_run/record_flood_* sends 4 MiB of records through port I/O, about
#   4 million exits; at 30-300 us each under emulation that is 10-20 minutes
#   (148 s on the PVM host), and what it checks (the host parser's bound) does
#   not depend on the hypervisor;
# - experiments/validate_writes_known_answer_rows checks that a known, timed
#   perturbation (a CPU hog held to its cgroup quota in >= 90% of periods) is
#   attributed: a timing property of the host's scheduler, which the emulator
#   does not keep (the hog was throttled in 80% of its periods here, 234 s).
# HWVIRT_FILTER (hwvirt.filter= on the kernel command line) replaces this
# filter (criterion's extended glob).
DEFAULT_FILTER='!(hostile_run/record_flood_*|experiments/validate_writes_known_answer_rows)'
integration() {
	f=${HWVIRT_FILTER:-$DEFAULT_FILTER}
	echo "integration: criterion --filter '$f' --timeout 300"
	$B/tests/integration-tests --jobs 1 --verbose=0 --timeout 300 --filter "$f"
}

# Not in the default lane (HWVIRT_STEPS=modules,stress): 30 timer-sleep runs
# and 3 calibrations, each bounded by vmm-lite's watchdog; counts the runs
# that did not end cleanly (the TCG interrupt-shadow bug hung 2 of 30
# sched-wakeup runs and 1 of 3 calibrations before the agent stepped over
# the hlt, docs/HWVIRT.md)
stress() {
	bad=0
	for i in $(seq 30); do
		$B/vmm-lite --kernel $B/guest-agent.elf --timeout 60 \
			--cmdline "workload=sched-wakeup iters=1000 period_us=200" >/tmp/s.txt 2>&1
		rc=$?
		[ $rc -eq 1 ] || { bad=$((bad + 1)); echo "sched-wakeup run $i: exit $rc"; tail -3 /tmp/s.txt; }
	done
	for i in 1 2 3; do
		$B/virttax calibrate --quick --out /tmp/c.json >/tmp/c.txt 2>&1 ||
			{ bad=$((bad + 1)); echo "calibration $i failed"; tail -5 /tmp/c.txt; }
	done
	echo "stress: $bad of 33 runs did not end cleanly"
	[ $bad -eq 0 ]
}

case "$1" in
modules | doctor | plain | wakeup | calibrate | run_quick | footprint | integration | stress) "$1" ;;
*)
	echo "hwvirt-steps: unknown step '$1'"
	exit 2
	;;
esac
