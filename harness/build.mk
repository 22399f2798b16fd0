# harness: the virttax CLI (harness/, collectors/, reports/, core/, hosted workloads).
HARNESS_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c collectors/*.c reports/*.c)) \
	$(CORE_SRC)
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(BUILD)/host/%.o)

$(BUILD)/virttax: $(BUILD)/host/harness/main.o $(HARNESS_OBJ) $(WL_HOST_OBJ) $(BUILD)/libvmmlite.a
	$(CC) -o $@ $^ $(HOST_LDLIBS)
