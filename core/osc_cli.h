/* The command line (docs/design.md §4): parses argv, runs the command and
 * returns the documented exit code. The parsed options and the commands
 * are in core/osc_commands.h. */
#ifndef OSC_CLI_H
#define OSC_CLI_H

int osc_cli_main(int argc, char **argv);

#endif
