/* What `octoscale version` and `--version` print: the version, the git commit
 * of the build, and the libraries it runs with (docs/design.md §13). */
#ifndef OSC_VERSION_H
#define OSC_VERSION_H

#include <stdio.h>

/* Two lines:
 *   octoscale 0.1.0 (commit 3363bc8c1a2b)
 *   Lua 5.4.4, libcurl 7.88.1 (OpenSSL/3.0.15), libyaml 0.2.5
 * libcurl's is the one built against (loading libcurl only to ask would
 * cost more than the rest of the command: core/osc_curl.h), libyaml's the
 * loaded library's, Lua's the one compiled in. Needs no curl_global_init. */
void osc_version_print(FILE *out);

#endif
