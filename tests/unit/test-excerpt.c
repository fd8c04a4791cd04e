/*
 * test-excerpt.c: excerpt(), the printable start of untrusted bytes that
 * a dead-letter reason carries (a receiver's answer): control characters
 * and whitespace runs become one space, invalid UTF-8 becomes '?', valid
 * UTF-8 is kept whole, and the length stays bounded.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "watcher.h"

struct excerpt_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	size_t		 max;
	const char	*want;		/* NULL: nothing printable */
};

static const struct excerpt_case cases[] = {
	{ "{\"error\":\"bad\"}", 0, 200, "{\"error\":\"bad\"}" },
	{ "  two\r\n\tlines \n", 0, 200, "two lines" },
	{ "red\x1b[31malert\x07!", 0, 200, "red [31malert !" },
	{ "nul\0inside", 11, 200, "nul inside" },
	{ "del\x7fhere", 0, 200, "del here" },
	{ "c1\xc2\x9b" "csi", 0, 200, "c1 csi" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 0, 200,
	  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3" },
	{ "bad\xff\xfe" "bytes", 0, 200, "bad??bytes" },
	{ "overlong\xc0\xaf", 0, 200, "overlong??" },
	{ "surrogate\xed\xa0\x80", 0, 200, "surrogate???" },
	{ "cut\xe2\x82", 0, 200, "cut??" },
	{ "abcdefghij", 0, 4, "abcd..." },
	{ "abcd", 0, 4, "abcd" },
	{ "ab   cd", 0, 4, "ab c..." },
	/* A character is never split: 3 bytes do not fit in 2. */
	{ "a\xe2\x82\xac", 0, 3, "a..." },
	{ "", 0, 200, NULL },
	{ " \r\n\t\x01", 0, 200, NULL },
};

Test(excerpt, table)
{
	const struct excerpt_case	*c;
	char				*got;
	size_t				 i;

	for (i = 0; i < nitems(cases); i++) {
		c = &cases[i];
		got = excerpt(c->in, c->len ? c->len : strlen(c->in), c->max);
		if (c->want == NULL)
			cr_expect_null(got, "case %zu: got \"%s\"", i, got);
		else {
			cr_assert_not_null(got, "case %zu", i);
			cr_expect_str_eq(got, c->want, "case %zu", i);
		}
		free(got);
	}
}

/* Whatever comes in, what goes out is short and printable. */
Test(excerpt, hostile_bytes)
{
	unsigned char	 in[4096];
	uint32_t	 x = 12345;
	char		*got;
	size_t		 i, round;
	const char	*p;

	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof in; i++) {
			x = x * 1103515245 + 12345;
			in[i] = (unsigned char)(x >> 16);
		}
		got = excerpt(in, sizeof in, 100);
		if (got == NULL)
			continue;
		cr_assert_leq(strlen(got), 103);
		for (p = got; *p != '\0'; p++)
			cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f,
			    "control byte %02x", (unsigned char)*p);
		free(got);
	}
}
