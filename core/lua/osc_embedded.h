/* The Lua library compiled into the binary (generated from lua/octoscale/). */
#ifndef OSC_EMBEDDED_H
#define OSC_EMBEDDED_H

#include <stddef.h>

struct osc_embedded_module {
  const char *module;     /* "octoscale.duration" */
  const char *chunk_name; /* "@lua/octoscale/duration.lua" */
  const char *source;
  size_t length;
};

/* Terminated by an entry whose module is NULL. */
extern const struct osc_embedded_module osc_embedded_modules[];

#endif
