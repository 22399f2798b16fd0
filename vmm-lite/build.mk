# vmm-lite: libvmmlite.a (everything but main.c) and the CLI build/vmm-lite.
VMM_LIB_SRC := $(filter-out vmm-lite/main.c,$(wildcard vmm-lite/*.c))
VMM_LIB_OBJ := $(VMM_LIB_SRC:%.c=$(BUILD)/host/%.o)

$(BUILD)/host/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/libvmmlite.a: $(VMM_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/vmm-lite: $(BUILD)/host/vmm-lite/main.o $(BUILD)/libvmmlite.a
	$(CC) -o $@ $^ $(HOST_LDLIBS)
