/*
 * test-sign.c: the HMAC-SHA256 under the webhook signature, against the
 * published vectors of RFC 4231, and sign_body's "<ts>.<body>" framing
 * against a value computed independently (Python's hmac module).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sink.h"

static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* RFC 4231 test case 1: 20 bytes of 0x0b, "Hi There". */
Test(sign, rfc4231_case1)
{
	unsigned char	 key[20], mac[32];
	char		 out[65];

	memset(key, 0x0b, sizeof key);
	sign_hmac_sha256(key, sizeof key, "Hi There", 8, mac);
	hex(mac, sizeof mac, out);
	cr_assert_str_eq(out, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
}

/* RFC 4231 test case 2: a key shorter than the block. */
Test(sign, rfc4231_case2)
{
	unsigned char	 mac[32];
	char		 out[65];

	sign_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex(mac, sizeof mac, out);
	cr_assert_str_eq(out, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}

/* RFC 4231 test case 6: a key longer than the block is hashed first. */
Test(sign, rfc4231_case6)
{
	unsigned char	 key[131], mac[32];
	const char	*msg = "Test Using Larger Than Block-Size Key - "
			    "Hash Key First";
	char		 out[65];

	memset(key, 0xaa, sizeof key);
	sign_hmac_sha256(key, sizeof key, msg, strlen(msg), mac);
	hex(mac, sizeof mac, out);
	cr_assert_str_eq(out, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
}

Test(sign, body_signature)
{
	const char	*body = "{\"a\":1}";
	char		*sig;

	sig = sign_body("hook-secret", 11, 1764000000, body, strlen(body));
	cr_assert_str_eq(sig, "sha256=d30926985049b1bc1f6d9ce8154cf1e9"
	    "e1122fae92b2c2a267fb6b3b05afbe1e");
	free(sig);
}

/* The signed text is "<ts>.<body>": the raw HMAC of it must agree. */
Test(sign, body_signature_is_hmac_of_ts_dot_body)
{
	const char	*body = "{\"id\":\"x\",\"n\":\"\\u0000\"}";
	unsigned char	 mac[32];
	char		*sig, *text, want[7 + 65];

	sig = sign_body("k", 1, 42, body, strlen(body));
	xasprintf(&text, "42.%s", body);
	sign_hmac_sha256("k", 1, text, strlen(text), mac);
	memcpy(want, "sha256=", 7);
	hex(mac, sizeof mac, want + 7);
	cr_assert_str_eq(sig, want);
	free(text);
	free(sig);
}

Test(sign, timestamp_and_secret_change_the_signature)
{
	char	*a, *b, *c;

	a = sign_body("k", 1, 42, "x", 1);
	b = sign_body("k", 1, 43, "x", 1);
	c = sign_body("K", 1, 42, "x", 1);
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_eq(strlen(a), 7 + 64);
	free(a);
	free(b);
	free(c);
}
