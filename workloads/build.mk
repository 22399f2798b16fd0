# workloads: every workloads/*.c is built twice, hosted (into virttax) and
# freestanding (into the guest agent, see guest-agent/build.mk).
WL_SRC := $(wildcard workloads/*.c)
WL_HOST_OBJ := $(WL_SRC:%.c=$(BUILD)/host/%.o)
