# guest-agent: a freestanding x86-64 ELF, PVH-bootable, no libc.
# The workloads are compiled again here with the freestanding flags.
AGENT_CFLAGS := $(CSTD) $(WARN) -O2 -g -Iinclude -I. -MMD -MP \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mcmodel=small -fno-asynchronous-unwind-tables -fcf-protection=none \
	-fno-tree-loop-distribute-patterns -mno-mmx \
	-DVTX_FREESTANDING=1
AGENT_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-T,guest-agent/agent.ld
AGENT_C := $(wildcard guest-agent/*.c) $(WL_SRC)
AGENT_S := $(wildcard guest-agent/*.S)
AGENT_OBJ := $(AGENT_C:%.c=$(BUILD)/agent/%.o) $(AGENT_S:%.S=$(BUILD)/agent/%.o)
# Code that may run before the PVM VIF page is registered is emulated by KVM,
# whose instruction emulator knows no SSE: keep it to general registers. Only
# the units that handle doubles (formatting, metrics) may use SSE.
AGENT_SSE_C := guest-agent/fmt_double.c guest-agent/runtime.c
AGENT_GPR_OBJ := $(patsubst %.c,$(BUILD)/agent/%.o,$(filter-out $(AGENT_SSE_C),$(wildcard guest-agent/*.c)))
$(AGENT_GPR_OBJ): AGENT_CFLAGS += -mgeneral-regs-only

$(BUILD)/agent/%.o: %.c guest-agent/build.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(BUILD)/agent/%.o: %.S guest-agent/build.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(BUILD)/guest-agent.elf: $(AGENT_OBJ) guest-agent/agent.ld
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $(AGENT_OBJ) -lgcc
