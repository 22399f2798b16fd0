# make test-hwvirt: virttax on an ordinary AMD-V KVM under QEMU TCG
# (scripts/hwvirt/run.sh, docs/HWVIRT.md). Needs the build and the test binaries.
.PHONY: test-hwvirt
test-hwvirt: deps all $(BUILD)/tests/integration-tests vmm-test-guests
	nice -n 10 scripts/hwvirt/run.sh $(BUILD)
