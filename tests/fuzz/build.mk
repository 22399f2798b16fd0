# fuzz: libFuzzer targets (clang -fsanitize=fuzzer,address,undefined) for
# every parser of guest-controlled data (docs/FUZZING.md). `make fuzz` builds
# them into $(BUILD)/fuzz/; `make fuzz-smoke` (part of `make test`) runs each
# for FUZZ_SMOKE_S seconds on its seed corpus (tests/fuzz/corpus/T) and its
# regression corpus (tests/fuzz/regressions/T: every crash found, must pass);
# bench/fuzz-campaign.sh runs the long campaign.
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -I. -Wall -Wextra -Werror \
	-Wno-gnu-variable-sized-type-not-at-end \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link $(shell pkg-config --cflags jansson 2>/dev/null)
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
FUZZ_LIBS := $(shell pkg-config --libs jansson libseccomp 2>/dev/null || echo -ljansson -lseccomp) \
	-lpthread -lm
FUZZ_SMOKE_S ?= 5

# vmm-lite's library without vm.c (it opens /dev/kvm; fuzz_support.c stands in
# for the two functions devices call)
FUZZ_VMM_SRC := $(filter-out vmm-lite/vm.c,$(VMM_LIB_SRC))
FUZZ_VMM_TARGETS := virtq pvh virtio_mmio_blk virtio_mmio_net virtio_mmio_balloon ata_pio \
	legacy_nic uart region
# the protocol parser and its consumers: core/ (proto, calib, results, stats)
FUZZ_CORE_TARGETS := proto
FUZZ_TARGETS := $(FUZZ_VMM_TARGETS) $(FUZZ_CORE_TARGETS)
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libvmmlite-fuzz.a: $(FUZZ_VMM_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_VMM_TARGETS:%=$(FUZZ_DIR)/fuzz_%): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o \
		$(FUZZ_DIR)/obj/tests/fuzz/fuzz_support.o $(FUZZ_DIR)/libvmmlite-fuzz.a
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

$(FUZZ_DIR)/libcore-fuzz.a: $(CORE_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_CORE_TARGETS:%=$(FUZZ_DIR)/fuzz_%): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o \
		$(FUZZ_DIR)/libcore-fuzz.a
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

.PHONY: fuzz fuzz-smoke fuzz-cov
fuzz: $(FUZZ_BIN)

# The same targets with source-based coverage instead of sanitizers, to
# measure what a corpus reaches (bench/fuzz-campaign.sh: llvm-cov per file).
# Without LLVM_PROFILE_FILE a run writes its profile into the build directory
# (%p: one per process), never default.profraw in the source tree.
FUZZ_COV_PROFILE := -fprofile-instr-generate=$(abspath $(FUZZ_DIR))/cov/profile-%p.profraw
FUZZ_COV_CFLAGS := $(filter-out -fsanitize=address%,$(FUZZ_CFLAGS)) \
	$(FUZZ_COV_PROFILE) -fcoverage-mapping
$(FUZZ_DIR)/cov/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/cov/libvmmlite-fuzz.a: $(FUZZ_VMM_SRC:%.c=$(FUZZ_DIR)/cov/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_VMM_TARGETS:%=$(FUZZ_DIR)/cov/fuzz_%): $(FUZZ_DIR)/cov/fuzz_%: \
		$(FUZZ_DIR)/cov/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/cov/obj/tests/fuzz/fuzz_support.o \
		$(FUZZ_DIR)/cov/libvmmlite-fuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_COV_PROFILE) -o $@ $^ $(FUZZ_LIBS)

$(FUZZ_DIR)/cov/libcore-fuzz.a: $(CORE_SRC:%.c=$(FUZZ_DIR)/cov/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_CORE_TARGETS:%=$(FUZZ_DIR)/cov/fuzz_%): $(FUZZ_DIR)/cov/fuzz_%: \
		$(FUZZ_DIR)/cov/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/cov/libcore-fuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_COV_PROFILE) -o $@ $^ $(FUZZ_LIBS)

fuzz-cov: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/cov/fuzz_%)

# Each target: its seeds and regressions first (a crash fails the build),
# then FUZZ_SMOKE_S seconds of fuzzing (tests/fuzz/run.sh has the flags).
fuzz-smoke: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		tests/fuzz/run.sh $(FUZZ_DIR) $$t $(FUZZ_SMOKE_S) || exit 1; \
	done
