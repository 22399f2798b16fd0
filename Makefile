# virttax top-level build. Each component owns a fragment (*/build.mk) so that
# adding a source file never means editing this file: fragments use wildcards.
#
#   make              build build/virttax, build/vmm-lite, build/guest-agent.elf
#   make run          install missing packages, build, run the default plan
#   make test         install missing packages, build, run every test (also ASan+UBSan)
#   make fuzz         build the libFuzzer targets
#   make format       clang-format every C file
#   make fresh-check  the first `make test` and `make run` on fresh Debian 12 roots (slow)

CC      ?= gcc
BUILD   := build

# Packages before anything else. Flags from pkg-config can only be known once the
# packages are installed, so they live in a generated makefile, $(DEPS_MK): its rule
# runs scripts/install-deps.sh, then pkg-config. GNU make remakes an included makefile
# first and re-executes itself, so every $(shell ...) in this file and in the
# fragments is evaluated again with the packages present. Add a library's pkg-config
# module to PKG_MODULES (and its package to scripts/install-deps.sh).
PKG_MODULES := jansson hwloc
DEPS_MK := $(BUILD)/deps.mk
DEPS_STAMP := $(DEPS_MK)
NO_DEPS_GOALS := clean fresh-check
ifneq ($(filter-out $(NO_DEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(DEPS_MK)
endif

WARN    := -Wall -Wextra -Werror
CSTD    := -std=gnu11
HOST_CFLAGS := $(CSTD) $(WARN) -O2 -g -D_GNU_SOURCE -Iinclude -I. -MMD -MP $(PKG_CFLAGS)
HOST_LDLIBS := $(PKG_LIBS) -lpfm -lpthread -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all run test deps clean format fuzz unit-tests asan-tests integration-tests fresh-check
all: $(BUILD)/virttax $(BUILD)/vmm-lite $(BUILD)/guest-agent.elf

deps: $(DEPS_MK)
$(DEPS_MK): scripts/install-deps.sh Makefile
	@./scripts/install-deps.sh
	@mkdir -p $(@D)
	@cflags=$$(pkg-config --cflags $(PKG_MODULES)) && libs=$$(pkg-config --libs $(PKG_MODULES)) && \
	printf '# generated from pkg-config after scripts/install-deps.sh\nPKG_CFLAGS := %s\nPKG_LIBS := %s\n' \
		"$$cflags" "$$libs" >$@.tmp && mv $@.tmp $@

# Component fragments (objects may name `| $(DEPS_STAMP)`; it is $(DEPS_MK)).
include vmm-lite/build.mk
include floor/build.mk
include workloads/build.mk
include guest-agent/build.mk
include core/build.mk
include harness/build.mk
include tests/build.mk
include tests/fuzz/build.mk
include tests/hwvirt/build.mk

RUN_ARGS ?=
run: all
	$(BUILD)/virttax run $(RUN_ARGS)

test: all unit-tests asan-tests integration-tests fuzz-smoke

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# Developers, before they stop: the first `make test` and `make run` on fresh Debian 12
# roots (as root; tens of minutes, so not part of CI). See scripts/fresh-check.sh.
fresh-check:
	scripts/fresh-check.sh 'make test' 'make run RUN_ARGS=--quick'

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
