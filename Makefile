# Thin entry points; the work is in scripts/ and CMake presets.
.PHONY: all demo check test sanitize fuzz bench package build deps clean

all: build

# Installs what is missing, builds, runs the service on its embedded default state.
demo:
	scripts/demo.sh

# The edit-build-test loop: the linux preset's unit tests alone (a few minutes
# incremental); `make test` before pushing.
check:
	scripts/check.sh

# Installs what is missing, builds Linux (plain, ASan+UBSan, TSan) and Windows, runs every
# test natively, under the sanitizers and under Wine, and every fuzzer for 60 s.
test:
	scripts/test.sh

# The sanitizer and fuzzing part of `make test` alone: unit and integration tests under
# ASan+UBSan and TSan (clang), and every fuzzer for FUZZ_SECONDS.
sanitize:
	scripts/sanitize.sh

# Builds the linux-asan preset and fuzzes each target in tests/fuzz for FUZZ_SECONDS (60).
fuzz:
	scripts/fuzz.sh

# Builds the data plane and runs every benchmark in tests/bench; writes build/bench/results.json.
bench:
	scripts/bench.sh

# Builds both presets and makes the installers: build/packages/*.deb and *.exe.
package:
	scripts/package.sh

deps:
	scripts/bootstrap.sh

build: deps
	cmake --preset linux && cmake --build --preset linux
	cmake --preset windows-cross && cmake --build --preset windows-cross

clean:
	rm -rf build
