/*
 * jwt.h: JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5, SHA-256),
 * the grants cloud identity services take from a service's own key:
 * Google's service-account JWT bearer grant, Azure AD's client assertion.
 * Pure: a header, claims and a PEM key in, the compact token out.
 */
#ifndef JWT_H
#define JWT_H

#include "watcher.h"

/*
 * b64url(header) "." b64url(claims) "." b64url(signature), allocated into
 * *jwt.  key_pem: a PKCS#8 or PKCS#1 RSA private key.  -1 with *cause
 * (never holding the key) when the key cannot be read or signing fails.
 */
int	 jwt_rs256(const char *header_json, const char *claims_json,
	    const char *key_pem, char **jwt, char **cause);
/* Base64url without padding (RFC 7515 §2), allocated. */
char	*b64url(const void *, size_t);

#endif
