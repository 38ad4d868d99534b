/* "Did you mean": the one place that decides whether an unknown word is a
 * plausible typo of a known name (config keys and enum values, policy
 * fields and graces). Messages stay with their callers. */
#ifndef OSC_SUGGEST_H
#define OSC_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance (Levenshtein plus the transposition of
 * two neighbours), ASCII case-insensitive. Words of 64 bytes or more are
 * never near anything: (size_t)-1. */
size_t osc_edit_distance(const char *a, const char *b);

/* The closest of names[0..n) to word within a typo's reach (1 edit for
 * names of up to 4 bytes, else 2), the first on a tie; NULL when none is
 * that close. */
const char *osc_suggest(const char *word, const char *const *names, size_t n);

#endif
