# guest-agent: a freestanding x86-64 ELF, PVH-bootable, no libc.
# The workloads are compiled again here with the freestanding flags.
AGENT_CFLAGS := $(CSTD) $(WARN) -O2 -g -Iinclude -I. -MMD -MP \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mcmodel=small -fno-asynchronous-unwind-tables -fcf-protection=none \
	-DVTX_FREESTANDING=1
AGENT_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-T,guest-agent/agent.ld
AGENT_C := $(wildcard guest-agent/*.c) $(WL_SRC)
AGENT_S := $(wildcard guest-agent/*.S)
AGENT_OBJ := $(AGENT_C:%.c=$(BUILD)/agent/%.o) $(AGENT_S:%.S=$(BUILD)/agent/%.o)

$(BUILD)/agent/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(BUILD)/agent/%.o: %.S | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(BUILD)/guest-agent.elf: $(AGENT_OBJ) guest-agent/agent.ld
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $(AGENT_OBJ) -lgcc
