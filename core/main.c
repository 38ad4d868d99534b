/* octoscale: keeps Octopus Deploy targets in step with Azure VM Scale Sets.
 * The only main(); everything else is in core/osc_cli.c. */
#include "core/osc_cli.h"

int main(int argc, char **argv) {
  return osc_cli_main(argc, argv);
}
