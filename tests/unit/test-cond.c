/*
 * test-cond.c: every operator of trigger conditions, each holding and not
 * holding, In/NotIn list trimming, Regex with PCRE2 syntax and its match
 * limit, operator names and suggestions, and condition lists on an event.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "cond.h"
#include "template.h"

static struct cond *
make(const char *key, enum cond_op op, const char *value)
{
	struct cond	*c;
	struct expr	*e;
	char		*cause = NULL;
	size_t		 off;

	e = expr_compile(key, strlen(key), EXPR_PLAIN, &cause);
	cr_assert_not_null(e, "%s: %s", key, cause);
	c = cond_create(key, e, op, value, &off, &cause);
	cr_assert_not_null(c, "%s %s %s: %s", key, cond_op_name(op), value,
	    cause);
	return (c);
}

/* want: 1 holds, 0 does not, for subject. */
static void
check(enum cond_op op, const char *value, const char *subject, int want)
{
	struct cond	*c = make("tag", op, value);
	char		*cause = NULL;

	cr_assert_eq(cond_test(c, subject, &cause), want, "%s %s %s",
	    subject, cond_op_name(op), value);
	cr_assert_null(cause);
	cond_free(c);
}

Test(cond, equals_and_not_equals)
{
	check(COND_EQUALS, "1.2.3", "1.2.3", 1);
	check(COND_EQUALS, "1.2.3", "1.2.30", 0);
	check(COND_EQUALS, "Latest", "latest", 0);
	check(COND_EQUALS, "", "", 1);
	check(COND_NOT_EQUALS, "latest", "1.2.3", 1);
	check(COND_NOT_EQUALS, "latest", "latest", 0);
}

Test(cond, in_and_not_in_trim_items)
{
	check(COND_IN, "1.0, 2.0 ,3.0", "2.0", 1);
	check(COND_IN, "1.0, 2.0 ,3.0", "3.0", 1);
	check(COND_IN, "1.0, 2.0 ,3.0", " 2.0", 0);
	check(COND_IN, "1.0, 2.0 ,3.0", "2", 0);
	check(COND_IN, "only", "only", 1);
	check(COND_NOT_IN, "dev, test", "prod", 1);
	check(COND_NOT_IN, "dev, test", "test", 0);
}

Test(cond, starts_ends_contains)
{
	check(COND_STARTS_WITH, "release-", "release-1.2", 1);
	check(COND_STARTS_WITH, "release-", "pre-release-1.2", 0);
	check(COND_STARTS_WITH, "release-", "rel", 0);
	check(COND_ENDS_WITH, "-alpine", "1.27-alpine", 1);
	check(COND_ENDS_WITH, "-alpine", "1.27-alpine3", 0);
	check(COND_ENDS_WITH, "-alpine", "pine", 0);
	check(COND_CONTAINS, "rc", "1.0.0-rc.1", 1);
	check(COND_CONTAINS, "rc", "1.0.0", 0);
}

Test(cond, regex_is_pcre2_and_unanchored)
{
	check(COND_REGEX, "^\\d+\\.\\d+\\.\\d+$", "1.27.3", 1);
	check(COND_REGEX, "^\\d+\\.\\d+\\.\\d+$", "1.27.3-rc", 0);
	check(COND_REGEX, "rc\\.\\d", "1.0.0-rc.1", 1);
	check(COND_REGEX, "(?i)ALPINE", "1-alpine", 1);
	check(COND_REGEX, "^v", "1.0", 0);
}

Test(cond, bad_values_are_errors)
{
	struct expr	*e;
	struct cond	*c;
	char		*cause = NULL;
	size_t		 off = 99;

	e = expr_compile("tag", 3, EXPR_PLAIN, &cause);
	c = cond_create("tag", e, COND_REGEX, "^1\\.(\\d+$", &off, &cause);
	cr_assert_null(c);
	cr_assert_eq(off, 9, "offset %zu", off);	/* its end */
	cr_assert(strstr(cause, "bad regular expression") != NULL, "%s",
	    cause);
	free(cause);
	cause = NULL;
	e = expr_compile("tag", 3, EXPR_PLAIN, &cause);
	c = cond_create("tag", e, COND_IN, "a,,b", &off, &cause);
	cr_assert_null(c);
	cr_assert_eq(off, 0);
	cr_assert(strstr(cause, "empty item") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	e = expr_compile("tag", 3, EXPR_PLAIN, &cause);
	c = cond_create("tag", e, COND_NOT_IN, " , ", &off, &cause);
	cr_assert_null(c);
	free(cause);
}

Test(cond, regex_match_limit_is_an_error_not_a_hang)
{
	struct cond	*c = make("tag", COND_REGEX, "^(a+)+$");
	char		 subject[64], *cause = NULL;

	memset(subject, 'a', 40);
	subject[40] = '!';
	subject[41] = '\0';
	cr_assert_eq(cond_test(c, subject, &cause), -1);
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "match limit") != NULL, "%s", cause);
	free(cause);
	cond_free(c);
}

Test(cond, operator_names)
{
	static const char *const names[] = {
		"Equals", "NotEquals", "In", "NotIn", "StartsWith", "EndsWith",
		"Contains", "Regex",
	};
	enum cond_op	 op;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		cr_assert_eq(cond_op_parse(names[i], &op), 0, "%s", names[i]);
		cr_assert_str_eq(cond_op_name(op), names[i]);
	}
	cr_assert_eq(cond_op_parse("equals", &op), -1);
	cr_assert_eq(cond_op_parse("Matches", &op), -1);
	cr_assert_eq(cond_op_parse("", &op), -1);
	cr_assert_str_eq(cond_op_suggest("equals"), "Equals");
	cr_assert_str_eq(cond_op_suggest("StartWith"), "StartsWith");
	cr_assert_null(cond_op_suggest("Frobnicate"));
}

Test(cond, lists_on_an_event)
{
	struct cond_list	 l = { NULL, 0 };
	cJSON			*ev;
	char			*cause = NULL;

	ev = cJSON_Parse("{\"data\":{\"version\":\"1.27.3\","
	    "\"image\":\"r.io/nginx:1.27.3\",\"digest\":\"sha256:ab\","
	    "\"labels\":{\"team\":\"web\"},\"metadata\":{\"SHA\":"
	    "\"sha256:ab\"}}}");
	cr_assert_not_null(ev);
	cr_assert_eq(cond_list_match(&l, ev, &cause), 1, "empty list holds");
	cond_list_add(&l, make("tag", COND_STARTS_WITH, "1.27"));
	cond_list_add(&l, make("labels.team", COND_IN, "web, api"));
	cond_list_add(&l, make("<+trigger.artifact.metadata.SHA>",
	    COND_EQUALS, "sha256:ab"));
	cond_list_add(&l, make("image", COND_CONTAINS, "nginx"));
	cr_assert_eq(cond_list_match(&l, ev, &cause), 1);
	/* An absent field is "": only conditions that accept "" hold. */
	cond_list_add(&l, make("labels.owner", COND_NOT_EQUALS, "x"));
	cr_assert_eq(cond_list_match(&l, ev, &cause), 1);
	cond_list_add(&l, make("labels.tier", COND_EQUALS, "gold"));
	cr_assert_eq(cond_list_match(&l, ev, &cause), 0);
	cr_assert_null(cause);
	cond_list_free(&l);
	cr_assert_eq(l.n, 0);
	cJSON_Delete(ev);
}
