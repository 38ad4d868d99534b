/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c): each defines the
 * libFuzzer entry point LLVMFuzzerTestOneInput over one of octoscale's
 * readers of untrusted input. The same files build two ways: with clang and
 * -fsanitize=fuzzer (OCTOSCALE_FUZZ=ON, `make fuzz`), and with any compiler
 * into a replay driver (replay.c) that `make test` runs over the seeds and
 * the kept crash inputs (tests/fuzz/regress/TARGET/). */
#ifndef OSC_FUZZ_H
#define OSC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/osc_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the input to a file in this process's private temporary
 * directory (created once) and returns its path, or NULL. `name` is the
 * file name ("policy.lua"); the file is overwritten on every call. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* The input as a JSON document (core/osc_json.h; free it with
 * osc_json_doc_free), or NULL when it does not decode. */
struct osc_json_doc *fuzz_decode(const uint8_t *data, size_t size);

#endif
