# Thin wrapper over CMake (like Neovim's): the two quick-start commands are
# `make demo` and `make test`. Missing Debian packages are installed first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local

.PHONY: all deps build test test-asan fuzz demo bench format format-check clean \
        install dist deb

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer and UBSan.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DOCTOSCALE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# Installs under $(PREFIX) (DESTDIR works too); see docs/design.md §13.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# octoscale.<version>.tar.gz: a release binary with Lua, lua-cjson and libyaml
# linked statically, share/ and a README, ready for Octopus's built-in feed.
dist: build
	cmake --build $(BUILD) --target dist -j $(JOBS)

# octoscale_<version>_<arch>.deb (CPack; Depends from dpkg-shlibdeps).
deb: build
	cd $(BUILD) && cpack -G DEB

# Each libFuzzer target for FUZZ_SECONDS under ASan and UBSan (clang).
fuzz: deps
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DOCTOSCALE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@bash examples/demo/run.sh $(BUILD)

bench: build
	@bash tests/bench/run.sh $(BUILD)

format:
	clang-format -i core/*.c core/*.h core/lua/*.c core/lua/*.h tests/unit/*.c tests/sim/*.c tests/sim/*.h tests/fuzz/*.c tests/fuzz/*.h 2>/dev/null || true

format-check:
	clang-format --dry-run -Werror core/*.c core/*.h core/lua/*.c core/lua/*.h tests/unit/*.c $(wildcard tests/sim/*.c tests/sim/*.h tests/fuzz/*.c tests/fuzz/*.h)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
