/* The HTTP front end: libmicrohttpd on 127.0.0.1 with a thread per
 * connection, so injected latency on one request never delays another. */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "tests/sim/sim_lua.h"

struct sim_http;

/* Binds 127.0.0.1:port (0 = any free port) and starts serving. */
int sim_http_start(struct sim_http **out, struct sim_lua *lua, int port,
                   int quiet, char *err, size_t errlen);

/* The port actually bound. */
int sim_http_port(const struct sim_http *h);

/* Stops accepting, waits for connection threads and frees everything. Call
 * sim_request_stop() first so sleeping requests wake up. */
void sim_http_stop(struct sim_http *h);

#endif
