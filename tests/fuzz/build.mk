# fuzz: libFuzzer targets (clang -fsanitize=fuzzer,address,undefined) for the
# code that parses guest-controlled data. `make fuzz` builds them into
# $(BUILD)/fuzz/; `make fuzz-smoke` (part of `make test`) runs each briefly.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_RUNS ?= 100000
FUZZ_BIN := $(BUILD)/fuzz/fuzz_virtq $(BUILD)/fuzz/fuzz_region

$(BUILD)/fuzz/fuzz_virtq: tests/fuzz/fuzz_virtq.c vmm-lite/virtq.c vmm-lite/virtio.h tests/fuzz/build.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_virtq.c vmm-lite/virtq.c

# the timed-region marker descriptor and sequence (vmm-lite/region_table.c)
$(BUILD)/fuzz/fuzz_region: tests/fuzz/fuzz_region.c vmm-lite/region_table.c vmm-lite/layout.c vmm-lite/kvm_stats.c vmm-lite/vmm.h include/virttax/region.h tests/fuzz/build.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_region.c vmm-lite/region_table.c vmm-lite/layout.c vmm-lite/kvm_stats.c -ljansson

fuzz: $(FUZZ_BIN)

.PHONY: fuzz-smoke
fuzz-smoke: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-virtq
	$(BUILD)/fuzz/fuzz_virtq -runs=$(FUZZ_RUNS) -seed=1 -max_len=4096 $(BUILD)/fuzz/corpus-virtq
	@mkdir -p $(BUILD)/fuzz/corpus-region
	$(BUILD)/fuzz/fuzz_region -runs=$(FUZZ_RUNS) -seed=1 -max_len=4096 $(BUILD)/fuzz/corpus-region
