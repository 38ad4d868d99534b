#include "core/osc_suggest.h"

#include <ctype.h>
#include <string.h>

#define WORD_MAX 64

size_t osc_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a);
  size_t lb = strlen(b);
  /* Three rows of the matrix: i - 2 (for transpositions), i - 1 and i. */
  size_t rows[3][WORD_MAX];
  size_t i;
  size_t j;

  if (la >= WORD_MAX || lb >= WORD_MAX)
    return (size_t)-1;
  for (j = 0; j <= lb; j++)
    rows[0][j] = j;
  for (i = 1; i <= la; i++) {
    size_t *two_up = rows[(i + 1) % 3];
    size_t *up = rows[(i - 1) % 3];
    size_t *row = rows[i % 3];

    row[0] = i;
    for (j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]);
      int cb = tolower((unsigned char)b[j - 1]);
      size_t best = up[j - 1] + (ca != cb);

      if (up[j] + 1 < best)
        best = up[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && two_up[j - 2] + 1 < best)
        best = two_up[j - 2] + 1;
      row[j] = best;
    }
  }
  return rows[la % 3][lb];
}

const char *osc_suggest(const char *word, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t best_d = (size_t)-1;
  size_t i;

  for (i = 0; word != NULL && i < n; i++) {
    size_t d = osc_edit_distance(word, names[i]);
    size_t limit = strlen(names[i]) <= 4 ? 1 : 2;

    if (d <= limit && d < best_d) {
      best = names[i];
      best_d = d;
    }
  }
  return best;
}
