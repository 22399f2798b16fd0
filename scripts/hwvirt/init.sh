#!/bin/sh
# /init of the hardware-virtualization lane (busybox sh, inside QEMU TCG with
# an emulated AMD CPU with SVM and NPT). Loads kvm_amd, then runs each step
# with a time bound and prints one marker line per step for the host side
# (scripts/hwvirt/run.sh) to read:
#   @@HWVIRT step=NAME rc=N secs=S
# and at the end "@@HWVIRT done"; then powers off. Step output goes to the
# console too, so the log shows what failed. HWVIRT_STEPS on the kernel
# command line (hwvirt.steps=a,b) limits the steps (for debugging the lane).
export PATH=/usr/sbin:/usr/bin:/bin:/sbin # iproute2's ip before busybox's
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs vartmp /var/tmp
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup # memory cgroups: the mem-pressure tests
mkdir -p /dev/shm /dev/pts && mount -t tmpfs shm /dev/shm && mount -t devpts pts /dev/pts # criterion: shared memory
ulimit -c 0 # busybox sh has it
export VTX_BUILD=/virttax/build HOME=/tmp
cd /virttax || exit 1
steps=$(sed -n 's/.*hwvirt\.steps=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
HWVIRT_FILTER=$(sed -n 's/.*hwvirt\.filter=\([^ ]*\).*/\1/p' /proc/cmdline)
export HWVIRT_FILTER

want() { [ -z "$steps" ] || echo " $steps " | grep -q " $1 "; }
named() { echo " $steps " | grep -q " $1 "; } # steps that only run when asked for

# step NAME SECONDS STEP: run scripts/hwvirt/steps.sh STEP bounded, print the marker
step() {
	name=$1 limit=$2
	shift 2
	want "$name" || return 0
	echo "@@HWVIRT begin step=$name"
	t0=$(cut -d. -f1 /proc/uptime)
	timeout "$limit" /bin/sh /hwvirt-steps "$@" </dev/null
	rc=$?
	if [ $rc -eq 143 ] || [ $rc -eq 124 ]; then # killed at its bound: what it started may live on
		echo "hwvirt: step $name killed after $limit s"
		kill -9 -1 2>/dev/null
	fi
	echo "@@HWVIRT step=$name rc=$rc secs=$(($(cut -d. -f1 /proc/uptime) - t0))"
}

step modules 60 modules
if [ -c /dev/kvm ]; then
	step doctor 120 doctor
	step vmm-lite-plain 60 plain
	step sched-wakeup 120 wakeup
	step calibrate 300 calibrate
	step run-quick 600 run_quick
	step footprint 300 footprint
	step integration 1200 integration
	named stress && step stress 1500 stress
fi
echo "@@HWVIRT done"
sync
poweroff -f
