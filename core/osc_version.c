#include "core/osc_version.h"

#include "core/lua/osc_lua_release.h"
#include "core/osc_config.h"
#include "core/osc_curl.h"

#include "generated/osc_build_info.h"

#ifndef OSC_VERSION
#define OSC_VERSION "dev"
#endif

/* Each layer names its own library (the Lua layer Lua, the HTTP layer
 * libcurl, the config libyaml), so this module includes none of them. */
void osc_version_print(FILE *out) {
  fprintf(out, "octoscale %s (commit %s)\n", OSC_VERSION, OSC_GIT_COMMIT);
  fprintf(out, "%s, libcurl %s, libyaml %s\n", osc_lua_release(),
          osc_curl_version(), osc_config_yaml_version());
}
