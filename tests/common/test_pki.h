/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Throwaway PKI for tests and benchmarks: P-256 keys and X.509 certificates made in memory
 * ("CN=<cn>,O=msecgw test", valid from a day ago for ten years), with the GSAKMP signing key
 * of each leaf. Nothing here is secret.
 */
#ifndef TEST_PKI_H
#define TEST_PKI_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gsakmp_crypto.h"

struct test_ident {
	EVP_PKEY *key;
	X509 *cert;
	struct gsakmp_key *gk;       /* leaves only */
};

/**
 * Make a key and a certificate issued by `iss` (self-signed when NULL); `eku` an
 * extendedKeyUsage value (openssl config syntax) or NULL; `ca` a CA certificate.
 * @return 0, or -1 on an OpenSSL failure.
 */
int test_pki_make(struct test_ident *id, const struct test_ident *iss, const char *cn,
		const char *eku, bool ca);

/** Free what test_pki_make() made (NULL members are fine). */
void test_pki_free(struct test_ident *id);

#endif
