/* The bridge to the Lua side (tests/sim/lua/sim/), which holds the scenario
 * model and every route. One lua_State serves all connection threads, so
 * each entry point takes the state's mutex; nothing here sleeps. */
#ifndef SIM_LUA_H
#define SIM_LUA_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_HEADERS 64

struct sim_lua;

struct sim_options {
  const char *scenario; /* path to the YAML scenario */
  const char *lua_dir;  /* directory holding the sim/ scripts */
  double speed;         /* simulated seconds per real second; 0 = manual */
  int quiet;
};

struct sim_header {
  const char *name;
  const char *value;
};

/* Borrowed views, valid for the duration of sim_lua_handle. */
struct sim_request {
  const char *method;
  const char *uri; /* raw request target: path and query, undecoded */
  const char *body;
  size_t body_len;
  int body_too_large;
  struct sim_header headers[SIM_MAX_HEADERS];
  size_t n_headers;
};

struct sim_owned_header {
  char *name;
  char *value;
};

/* What to send back. Owned by the caller; release with sim_response_free. */
struct sim_response {
  int status;
  char *body; /* malloc'd; NULL for an empty body */
  size_t body_len;
  struct sim_owned_header headers[SIM_MAX_HEADERS];
  size_t n_headers;
  int64_t delay_ms;     /* sleep before answering (injected latency) */
  int64_t slow_body_ms; /* spread the body over this long */
  int reset;            /* close the connection without a response */
  int64_t pad_to;       /* > body_len: pad the body with spaces to this size */
  int64_t seq;          /* request log sequence number; 0 = not logged */
};

/* Creates the state, loads sim.server and the scenario. On failure returns
 * -1 with *scenario_error set when the scenario itself is at fault (exit 3)
 * rather than the simulator (exit 1). */
int sim_lua_create(struct sim_lua **out, const struct sim_options *opt,
                   int *scenario_error, char *err, size_t errlen);
void sim_lua_destroy(struct sim_lua *s);

/* Tells the model its bound port (used for absolute nextLinks when a
 * request has no Host header). */
int sim_lua_set_port(struct sim_lua *s, int port, char *err, size_t errlen);

/* Runs one request through the routes. On failure (a bug on the Lua side)
 * returns -1 with err set; resp may hold partial data and must still be
 * freed. */
int sim_lua_handle(struct sim_lua *s, const struct sim_request *req,
                   struct sim_response *resp, char *err, size_t errlen);

/* Records how long the request took in real time, for the request log. */
void sim_lua_finish(struct sim_lua *s, int64_t seq, int64_t elapsed_ms);

/* Writes the request log as JSON lines. */
int sim_lua_write_log(struct sim_lua *s, const char *path, char *err,
                      size_t errlen);

void sim_response_free(struct sim_response *r);

#endif
