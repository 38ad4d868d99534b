/* Octopus service messages (docs/api-notes.md §5): lines on the step's
 * stdout that Calamari turns into output variables, highlighted log lines,
 * artifacts and progress. Every attribute value is base64 of its UTF-8 bytes
 * (core/osc_base64.h), so names and values may hold any character:
 *   ##octopus[setVariable name='<b64>' value='<b64>']
 *   ##octopus[setVariable name='<b64>' value='<b64>' sensitive='VHJ1ZQ==']
 *   ##octopus[stdout-highlight] ... ##octopus[stdout-default]
 *   ##octopus[createArtifact path='<b64>' name='<b64>' length='<b64>']
 *   ##octopus[progress percentage='<b64>' message='<b64>']
 * Each message is one whole line written with one call and flushed, so
 * Octopus sees it while the run goes on. */
#ifndef OSC_OCTOUT_H
#define OSC_OCTOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/osc_error.h"
#include "core/osc_report.h"

/* An output variable; sensitive ones are masked in Octopus's task log. */
int osc_octout_set_variable(FILE *f, const char *name, const char *value,
                            bool sensitive, struct osc_error *err);

/* Every output (combined first, then per scale set) as setVariable. */
int osc_octout_outputs(FILE *f, const struct osc_outputs *outputs,
                       struct osc_error *err);

/* Lines between these two are shown highlighted and on the Task Summary. */
int osc_octout_highlight_begin(FILE *f, struct osc_error *err);
int osc_octout_highlight_end(FILE *f, struct osc_error *err);

/* Attaches a file (the HTML report) to the task. A relative path is made
 * absolute from the working directory; name NULL means path's last
 * component; length is the file size in bytes. */
int osc_octout_create_artifact(FILE *f, const char *path, const char *name,
                               int64_t length, struct osc_error *err);

/* Task progress: percentage is clamped to 0..100. */
int osc_octout_progress(FILE *f, int percentage, const char *message,
                        struct osc_error *err);

#endif
