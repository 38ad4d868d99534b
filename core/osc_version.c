#include "core/osc_version.h"

#include <curl/curl.h>
#include <lua.h>
#include <yaml.h>

#include "generated/osc_build_info.h"

#ifndef OSC_VERSION
#define OSC_VERSION "dev"
#endif

void osc_version_print(FILE *out) {
  /* curl_version_info reads static data: safe before curl_global_init, so
   * `version` stays an offline command that initialises nothing. */
  const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);

  fprintf(out, "octoscale %s (commit %s)\n", OSC_VERSION, OSC_GIT_COMMIT);
  fprintf(out, "%s, libcurl %s", LUA_RELEASE, curl->version);
  if (curl->ssl_version != NULL && curl->ssl_version[0] != '\0')
    fprintf(out, " (%s)", curl->ssl_version);
  fprintf(out, ", libyaml %s\n", yaml_get_version_string());
}
