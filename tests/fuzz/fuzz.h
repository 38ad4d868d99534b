/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): each defines the
 * libFuzzer entry point LLVMFuzzerTestOneInput over one of octoscale's
 * readers of untrusted input. The same files build two ways: with clang and
 * -fsanitize=fuzzer (OCTOSCALE_FUZZ=ON, `make fuzz`), and with any compiler
 * into a replay driver (replay.c) that `make test` runs over the seeds and
 * the kept crash inputs (tests/fuzz/regress/TARGET/). */
#ifndef OSC_FUZZ_H
#define OSC_FUZZ_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the input to a file in this process's private temporary
 * directory (created once) and returns its path, or NULL. `name` is the
 * file name ("policy.lua"); the file is overwritten on every call. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* A JSON-decoding state (core/osc_json.h) kept for the whole process; the
 * stack is empty on return. */
lua_State *fuzz_json_state(void);

/* Decodes the input onto L's stack (one slot) or returns -1. */
int fuzz_decode(lua_State *L, const uint8_t *data, size_t size);

#endif
