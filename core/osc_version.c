#include "core/osc_version.h"

#include <curl/curlver.h>
#include <lua.h>
#include <yaml.h>

#include "generated/osc_build_info.h"

#ifndef OSC_VERSION
#define OSC_VERSION "dev"
#endif

void osc_version_print(FILE *out) {
  /* libcurl and its TLS library as built against: loading libcurl only to
   * ask would cost more than the rest of the command (core/osc_curl.h). */
  fprintf(out, "octoscale %s (commit %s)\n", OSC_VERSION, OSC_GIT_COMMIT);
  fprintf(out, "%s, libcurl %s", LUA_RELEASE, LIBCURL_VERSION);
#ifdef OSC_CURL_TLS
  fprintf(out, " (%s)", OSC_CURL_TLS);
#endif
  fprintf(out, ", libyaml %s\n", yaml_get_version_string());
}
