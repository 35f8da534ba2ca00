/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <openssl/x509v3.h>

#include "test_pki.h"

#define DAY 86400L

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

int test_pki_make(struct test_ident *id, const struct test_ident *iss, const char *cn,
		const char *eku, bool ca)
{
	static long serial = 1;
	X509_NAME *name;
	X509V3_CTX ctx;
	X509 *x = X509_new();
	int rc = 0;

	memset(id, 0, sizeof(*id));
	id->key = EVP_EC_gen("P-256");
	if (x == NULL || id->key == NULL)
		goto fail;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -DAY);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650 * DAY);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"msecgw test",
			-1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, iss != NULL ? X509_get_subject_name(iss->cert) : name);
	X509_set_pubkey(x, id->key);
	X509V3_set_ctx(&ctx, iss != NULL ? iss->cert : x, x, NULL, NULL, 0);
	rc |= add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" :
			"critical,CA:FALSE");
	rc |= add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
			"critical,digitalSignature");
	rc |= add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (eku != NULL)
		rc |= add_ext(x, &ctx, NID_ext_key_usage, eku);
	if (rc != 0 || X509_sign(x, iss != NULL ? iss->key : id->key, EVP_sha256()) <= 0)
		goto fail;
	id->cert = x;
	if (!ca && gsakmp_key_new(id->key, x, &id->gk) != 0)
		goto fail;
	return 0;
fail:
	if (id->cert == NULL)
		X509_free(x);
	test_pki_free(id);
	return -1;
}

void test_pki_free(struct test_ident *id)
{
	gsakmp_key_free(id->gk);
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	memset(id, 0, sizeof(*id));
}
