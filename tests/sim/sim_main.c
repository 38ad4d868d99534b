/* octoscale-sim: a loopback Azure (Entra ID, IMDS, ARM) and Octopus Deploy
 * simulator driven by a YAML scenario, for octoscale's tests and demo.
 * See tests/sim/README.md. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/sim/sim_http.h"
#include "tests/sim/sim_lua.h"
#include "tests/sim/sim_util.h"

#ifndef SIM_LUA_DIR
#error "SIM_LUA_DIR must name the directory that holds sim/server.lua"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SCENARIO = 3 };

struct cli {
  const char *scenario;
  const char *port_file;
  const char *log_file;
  const char *lua_dir;
  int port;
  double speed;
  int quiet;
  int check_only;
};

static void usage(FILE *out) {
  fputs(
      "usage: octoscale-sim --scenario FILE [--port N] [--port-file FILE]\n"
      "                     [--log FILE] [--speed F] [--quiet] [--check]\n"
      "\n"
      "  --scenario FILE   YAML scenario (tests/sim/README.md)\n"
      "  --port N          TCP port on 127.0.0.1; 0 (default) picks one\n"
      "  --port-file FILE  write the bound port here (atomically) once\n"
      "                    serving; removed again on exit\n"
      "  --log FILE        write the request log as JSON lines on exit\n"
      "  --speed F         simulated seconds per real second (default 0:\n"
      "                    the clock moves only via POST /_sim/clock/advance)\n"
      "  --check           load and validate the scenario, then exit\n"
      "  --quiet           no banner or diagnostics on stderr\n"
      "  --lua-dir DIR     where sim/server.lua lives (default: the source "
      "tree)\n",
      out);
}

static int parse_number(const char *s, double lo, double hi, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static int parse_cli(int argc, char **argv, struct cli *c, char *err,
                     size_t errlen) {
  memset(c, 0, sizeof *c);
  c->lua_dir = SIM_LUA_DIR;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    double num = 0;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      c->quiet = 1;
    } else if (strcmp(a, "--check") == 0) {
      c->check_only = 1;
    } else if (v == NULL) {
      snprintf(err, errlen, "unknown option or missing value: %s", a);
      return -1;
    } else if (strcmp(a, "--scenario") == 0) {
      c->scenario = v;
      i++;
    } else if (strcmp(a, "--port-file") == 0) {
      c->port_file = v;
      i++;
    } else if (strcmp(a, "--log") == 0) {
      c->log_file = v;
      i++;
    } else if (strcmp(a, "--lua-dir") == 0) {
      c->lua_dir = v;
      i++;
    } else if (strcmp(a, "--port") == 0) {
      if (parse_number(v, 0, 65535, &num) != 0 || num != (int)num) {
        snprintf(err, errlen, "--port: not a port number: %s", v);
        return -1;
      }
      c->port = (int)num;
      i++;
    } else if (strcmp(a, "--speed") == 0) {
      if (parse_number(v, 0, 1e6, &num) != 0) {
        snprintf(err, errlen, "--speed: not a factor >= 0: %s", v);
        return -1;
      }
      c->speed = num;
      i++;
    } else {
      snprintf(err, errlen, "unknown option: %s", a);
      return -1;
    }
  }
  if (c->scenario == NULL) {
    snprintf(err, errlen, "--scenario FILE is required");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int code = EXIT_RUNTIME;
  struct cli cli;
  char err[SIM_ERR_MAX] = "";
  struct sim_lua *lua = NULL;
  struct sim_http *http = NULL;
  int wrote_port_file = 0;

  if (parse_cli(argc, argv, &cli, err, sizeof err) != 0) {
    fprintf(stderr, "octoscale-sim: %s\n", err);
    usage(stderr);
    return EXIT_USAGE;
  }

  /* Block the stop signals before any thread exists so every thread
   * inherits the mask and main alone receives them through sigwait. A peer
   * closing a socket must not kill us either. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct sim_options opt = {cli.scenario, cli.lua_dir, cli.speed, cli.quiet};
  int scenario_error = 0;
  if (sim_lua_create(&lua, &opt, &scenario_error, err, sizeof err) != 0) {
    fprintf(stderr, "octoscale-sim: %s\n", err);
    code = scenario_error ? EXIT_SCENARIO : EXIT_RUNTIME;
    goto done;
  }
  if (cli.check_only) {
    if (!cli.quiet)
      fprintf(stderr, "octoscale-sim: %s: ok\n", cli.scenario);
    code = 0;
    goto done;
  }

  if (sim_http_start(&http, lua, cli.port, cli.quiet, err, sizeof err) != 0)
    goto fail;
  int port = sim_http_port(http);
  if (sim_lua_set_port(lua, port, err, sizeof err) != 0)
    goto fail;
  if (cli.port_file != NULL) {
    char text[32];
    snprintf(text, sizeof text, "%d\n", port);
    if (sim_write_file_atomic(cli.port_file, text, err, sizeof err) != 0)
      goto fail;
    wrote_port_file = 1;
  }
  if (!cli.quiet)
    fprintf(stderr, "octoscale-sim: serving %s on http://127.0.0.1:%d\n",
            cli.scenario, port);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  if (!cli.quiet)
    fprintf(stderr, "octoscale-sim: signal %d, stopping\n", sig);
  sim_request_stop();
  sim_http_stop(http);
  http = NULL;
  code = 0;
  if (cli.log_file != NULL &&
      sim_lua_write_log(lua, cli.log_file, err, sizeof err) != 0) {
    fprintf(stderr, "octoscale-sim: --log: %s\n", err);
    code = EXIT_RUNTIME;
  }
  goto done;

fail:
  fprintf(stderr, "octoscale-sim: %s\n", err);
  code = EXIT_RUNTIME;
done:
  if (http != NULL) {
    sim_request_stop();
    sim_http_stop(http);
  }
  if (wrote_port_file)
    unlink(cli.port_file);
  sim_lua_destroy(lua);
  return code;
}
