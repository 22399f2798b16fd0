# virttax top-level build. Each component owns a fragment (*/build.mk) so that
# adding a source file never means editing this file: fragments use wildcards.
#
#   make          build build/virttax, build/vmm-lite, build/guest-agent.elf
#   make run      install missing packages, build, run the default plan
#   make test     install missing packages, build, run every test (also ASan+UBSan)
#   make fuzz     build the libFuzzer targets
#   make format   clang-format every C file

CC      ?= gcc
BUILD   := build
DEPS_STAMP := $(BUILD)/.deps-ok

WARN    := -Wall -Wextra -Werror
CSTD    := -std=gnu11
HOST_CFLAGS := $(CSTD) $(WARN) -O2 -g -D_GNU_SOURCE -Iinclude -I. -MMD -MP \
	$(shell pkg-config --cflags jansson hwloc 2>/dev/null)
HOST_LDLIBS := $(shell pkg-config --libs jansson hwloc 2>/dev/null) -lpfm -lpthread -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all run test deps clean format fuzz unit-tests asan-tests integration-tests
all: $(BUILD)/virttax $(BUILD)/vmm-lite $(BUILD)/guest-agent.elf

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@./scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

# Every object depends on the deps stamp (order-only) so a fresh machine
# installs headers before the first compile.
include vmm-lite/build.mk
include floor/build.mk
include workloads/build.mk
include guest-agent/build.mk
include core/build.mk
include harness/build.mk
include tests/build.mk
include tests/fuzz/build.mk

RUN_ARGS ?=
run: deps all
	$(BUILD)/virttax run $(RUN_ARGS)

test: deps all unit-tests asan-tests integration-tests fuzz-smoke

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
