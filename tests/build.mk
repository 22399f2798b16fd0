# tests: Criterion unit tests (normal and ASan+UBSan builds) and integration
# tests that boot real VMs. Each tests/unit/*.c and tests/integration/*.c is
# picked up automatically. Integration tests run --verbose: a skipped test says why.
UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
LIB_SRC_ALL := $(HARNESS_SRC) $(WL_SRC) $(VMM_LIB_SRC)
CRIT_LIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

$(BUILD)/tests/unit-tests: $(UNIT_SRC:%.c=$(BUILD)/host/%.o) $(HARNESS_OBJ) $(WL_HOST_OBJ) $(BUILD)/libvmmlite.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(HOST_LDLIBS) $(CRIT_LIBS)

$(BUILD)/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -O1 -c $< -o $@

$(BUILD)/tests/unit-tests-asan: $(UNIT_SRC:%.c=$(BUILD)/asan/%.o) $(LIB_SRC_ALL:%.c=$(BUILD)/asan/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(HOST_LDLIBS) $(CRIT_LIBS)

$(BUILD)/tests/integration-tests: $(INTEG_SRC:%.c=$(BUILD)/host/%.o) $(HARNESS_OBJ) $(WL_HOST_OBJ) $(BUILD)/libvmmlite.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(HOST_LDLIBS) $(CRIT_LIBS)

unit-tests: $(BUILD)/tests/unit-tests all
	VTX_BUILD=$(abspath $(BUILD)) timeout 600 $(BUILD)/tests/unit-tests --jobs 2

asan-tests: $(BUILD)/tests/unit-tests-asan all
	VTX_BUILD=$(abspath $(BUILD)) ASAN_OPTIONS=detect_leaks=1 timeout 600 $(BUILD)/tests/unit-tests-asan --jobs 2

integration-tests: $(BUILD)/tests/integration-tests all
	VTX_BUILD=$(abspath $(BUILD)) timeout 900 $(BUILD)/tests/integration-tests --jobs 1 --verbose
