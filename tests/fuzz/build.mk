# fuzz: libFuzzer targets (clang -fsanitize=fuzzer,address,undefined) for the
# code that parses guest-controlled data. `make fuzz` builds them into
# $(BUILD)/fuzz/; `make fuzz-smoke` (part of `make test`) runs each briefly.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_RUNS ?= 100000
FUZZ_BIN := $(BUILD)/fuzz/fuzz_virtq

$(BUILD)/fuzz/fuzz_virtq: tests/fuzz/fuzz_virtq.c vmm-lite/virtq.c vmm-lite/virtio.h tests/fuzz/build.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_virtq.c vmm-lite/virtq.c

fuzz: $(FUZZ_BIN)

.PHONY: fuzz-smoke
fuzz-smoke: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus-virtq
	$(BUILD)/fuzz/fuzz_virtq -runs=$(FUZZ_RUNS) -seed=1 -max_len=4096 $(BUILD)/fuzz/corpus-virtq
