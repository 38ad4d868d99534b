/* The --report FILE.html page: one self-contained
 * HTML document (inline CSS, inline SVG, no scripts, no external assets) that
 * reads the same in a browser and as an Octopus artifact. Per scale set: the
 * status and its message, counts by class, a stacked bar of instance states,
 * every action with target, VM, reason and result; then the outputs. Every
 * string from the plans is HTML-escaped. */
#ifndef OSC_HTML_H
#define OSC_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "core/osc_buf.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"
#include "core/osc_report.h"

/* Appends the page to out. command is "apply" or "plan" (NULL: "apply");
 * outputs may be NULL; now is the generation time (Unix seconds). */
int osc_html_report_render(struct osc_buf *out, const char *command,
                           struct osc_plan *const *plans, size_t n,
                           const struct osc_outputs *outputs, int64_t now,
                           struct osc_error *err);

/* Renders the page and writes it to path atomically (core/osc_fs.h; mode
 * 0644 less the umask, missing parent directories created). */
int osc_html_report_write(const char *path, const char *command,
                          struct osc_plan *const *plans, size_t n,
                          const struct osc_outputs *outputs, int64_t now,
                          struct osc_error *err);

/* Appends s with &, <, >, " and ' escaped and C0 controls other than tab
 * and newline dropped; NULL appends nothing. */
int osc_html_escape(struct osc_buf *out, const char *s, struct osc_error *err);

#endif
