# kvm-floor: the least KVM VMM, the reference vmm-lite is measured against
# (floor/kvm_floor.c, docs/FLOOR.md). Its own sources plus the statistics
# library, linked statically like vmm-lite: libc only and no dynamic loader,
# so that its start-up and resident set are the floor too.
FLOOR_OBJ := $(BUILD)/host/floor/kvm_floor.o $(BUILD)/host/floor/floor_guest.o \
	$(BUILD)/host/core/stats.o

$(BUILD)/host/floor/%.o: floor/%.S floor/floor.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -I. -c $< -o $@

$(BUILD)/kvm-floor: $(FLOOR_OBJ)
	$(CC) -static-pie -o $@ $^ -lm

all: $(BUILD)/kvm-floor

# bench/*.py load the TSC and the statistics library from here (bench/bench_shim.c)
$(BUILD)/bench/libbench.so: bench/bench_shim.c core/stats.c core/stats.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -D_GNU_SOURCE -Iinclude -I. -fPIC -shared -o $@ \
		bench/bench_shim.c core/stats.c -lm

.PHONY: bench-tools
bench-tools: $(BUILD)/kvm-floor $(BUILD)/vmm-lite $(BUILD)/guest-agent.elf $(BUILD)/bench/libbench.so

# bench/dispatch.c: vmm-lite's per-exit user-space path on a fake kvm_run
$(BUILD)/bench/dispatch: $(BUILD)/host/bench/dispatch.o $(BUILD)/libvmmlite.a \
		$(BUILD)/host/core/stats.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(HOST_LDLIBS)
bench-tools: $(BUILD)/bench/dispatch

# bench/ctxsw_perf.c: what perf software events add to a context switch (docs/CALIBRATION.md)
$(BUILD)/bench/ctxsw_perf: $(BUILD)/host/bench/ctxsw_perf.o $(BUILD)/host/core/stats.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(HOST_LDLIBS)
bench-tools: $(BUILD)/bench/ctxsw_perf
