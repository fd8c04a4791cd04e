/*
 * cfg-suggest.c: "did you mean" for misspelt keys, types, enum values and
 * names.  The distance is Levenshtein's, where a change of letter case costs
 * nothing (so "dockerhub" finds "DockerHub"); a candidate is offered only
 * when it is close for the length of the word, so that nonsense gets no
 * suggestion rather than a random one.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"

#define SUGGEST_MAX_LEN	64

void
cfg_suggest_init(struct cfg_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = 0;
}

static unsigned
edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned	 row[SUGGEST_MAX_LEN + 1], diag, up, cost;
	size_t		 i, j;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			row[j] = diag + cost;
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return (row[lb]);
}

void
cfg_suggest_try(struct cfg_suggest *s, const char *candidate)
{
	size_t		 lw = strlen(s->word), lc = strlen(candidate);
	unsigned	 d, limit;

	if (lw > SUGGEST_MAX_LEN || lc > SUGGEST_MAX_LEN)
		return;
	limit = lw / 4 + 1;
	if (limit > 3)
		limit = 3;
	d = edit_distance(s->word, lw, candidate, lc);
	if (d > limit)
		return;
	if (s->best == NULL || d < s->dist) {
		s->best = candidate;
		s->dist = d;
	}
}

const char *
cfg_suggest_best(const struct cfg_suggest *s)
{
	return (s->best);
}
