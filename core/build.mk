# core: the libraries every layer uses (statistics, the results schema, the
# calibration file, TSC, output files, process helpers, the protocol
# parser). core/ includes nothing from harness/, reports/ or collectors/
# (`make check-layers` proves it).
CORE_SRC := $(wildcard core/*.c)

# The layering rules (docs/ARCHITECTURE.md): include directions and no call
# cycles among the files of core/, harness/ and reports/.
.PHONY: check-layers
check-layers: $(BUILD)/virttax
	python3 tests/check_layers.py . $(BUILD)/host
unit-tests: check-layers
