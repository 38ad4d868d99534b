/* octoscale: keeps Octopus Deploy targets in step with Azure VM Scale Sets.
 * The only main(): the command line is core/osc_cli.c, each command a
 * core/osc_cmd_<name>.c. */
#include "core/osc_cli.h"

int main(int argc, char **argv) {
  return osc_cli_main(argc, argv);
}
