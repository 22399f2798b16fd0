# vmm-lite: libvmmlite.a (everything but main.c, plus the seccomp programs
# compiled at build time) and the CLI build/vmm-lite.
SANDBOX_BPF_C := $(BUILD)/gen/vmm-lite/sandbox_bpf.c
VMM_LIB_SRC := $(filter-out vmm-lite/main.c,$(wildcard vmm-lite/*.c)) $(SANDBOX_BPF_C)
VMM_LIB_OBJ := $(VMM_LIB_SRC:%.c=$(BUILD)/host/%.o)

$(BUILD)/host/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

# Written aside and renamed: a link reading the archive never sees it half-written.
$(BUILD)/libvmmlite.a: $(VMM_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@.tmp.$$$$ && ar rcs $@.tmp.$$$$ $^ && mv -f $@.tmp.$$$$ $@

# Linked statically (static-pie: ASLR stays), as Firecracker ships: no dynamic
# loader at every start
# and only the library code vmm-lite uses in its resident set (RSS besides
# guest RAM 1.1 instead of 2.0 MiB, 0.4 ms less from spawn to main(); docs/VMM-LITE.md
# "Start-up and exit cost"). libc.a and libjansson.a come with libc6-dev and
# libjansson-dev.
VMM_LDLIBS := $(shell pkg-config --static --libs jansson 2>/dev/null || echo -ljansson) -lpthread -lm
$(BUILD)/vmm-lite: $(BUILD)/host/vmm-lite/main.o $(BUILD)/libvmmlite.a
	$(CC) -static-pie -o $@ $^ $(VMM_LDLIBS)

# Tiny PVH test guests for vmm-lite's integration tests (32-bit code only).
VMM_TEST_GUEST_SRC := $(wildcard tests/integration/guests/*.S)
VMM_TEST_GUESTS := $(VMM_TEST_GUEST_SRC:tests/integration/guests/%.S=$(BUILD)/tests/guests/%.elf)
VMM_GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-Ttext-segment=0x100000 \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

$(BUILD)/tests/guests/%.elf: tests/integration/guests/%.S tests/integration/guests/pvh_note.h tests/integration/guests/halt.S \
		tests/integration/guests/proto_flood.S
	@mkdir -p $(dir $@)
	$(CC) $(VMM_GUEST_LDFLAGS) -o $@ $<

.PHONY: vmm-test-guests
vmm-test-guests: $(VMM_TEST_GUESTS)
# order-only: the guests are not link inputs of the test binary
$(BUILD)/tests/integration-tests: | $(VMM_TEST_GUESTS) $(BUILD)/vmm-lite

# The seccomp policy (vmm-lite/tools/sandbox_compile.c) compiled into BPF with
# libseccomp at build time; vmm-lite itself only installs the programs.
$(BUILD)/tools/sandbox-compile: vmm-lite/tools/sandbox_compile.c vmm-lite/sandbox_bpf.h \
		vmm-lite/sandbox.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

$(SANDBOX_BPF_C): $(BUILD)/tools/sandbox-compile
	@mkdir -p $(dir $@)
	$< > $@.tmp && mv $@.tmp $@
