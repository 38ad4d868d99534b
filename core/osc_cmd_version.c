/* `octoscale version` (core/osc_commands.h; --version prints the same). */
#include "core/osc_commands.h"

#include "core/osc_version.h"

int osc_cmd_version_main(const struct osc_cmd_options *o) {
  osc_version_print(stdout);
  return 0;
}
