/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the policy token parsers (lib/policy): the DER token (CMS SignedData
 * and the RFC 4534 content inside) and the Group Owner's JSON policy.
 *
 * Each input goes through both:
 * - as DER: policy_token_parse() and policy_token_verify() against a fixed trust store, at a
 *   fixed time. A token that parses must render as JSON, answer every authorization question
 *   with one of the documented codes, and re-encode to content that decodes to the same token;
 *   a token that verifies must also parse.
 * - as JSON: policy_token_from_json(). A policy that is accepted must encode to DER content that
 *   the DER decoder accepts and that re-encodes byte for byte (the JSON and DER validators agree).
 * Failures must leave no token and one line of detail.
 *
 * The seed corpus (tests/fuzz/corpus/policy) holds tokens that `msec-token build` made with a
 * PKI from `tools/msec-pki`, and JSON policies. The trust anchor below is that PKI's CA
 * certificate and the member certificate its gw-1 (public data; the keys were thrown away), so
 * the seed tokens verify at FIXED_NOW and mutations explore the paths after the signature.
 * To regenerate the seeds, replace both certificates and FIXED_NOW as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy.h"
#include "policy_pvt.h"

/* one hour after the seed tokens were signed */
#define FIXED_NOW ((time_t)1795575661)

static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBoTCCAUegAwIBAgIQAPjSVI0eThshfNpEGQIwhzAKBggqhkjOPQQDAjAvMRQw\n"
	"EgYDVQQKDAttc2VjZ3cgZGVtbzEXMBUGA1UEAwwObXNlY2d3IGRlbW8gQ0EwHhcN\n"
	"MjYxMTI1MDIwMDU5WhcNMzUxMjA4MDIwMDU5WjAvMRQwEgYDVQQKDAttc2VjZ3cg\n"
	"ZGVtbzEXMBUGA1UEAwwObXNlY2d3IGRlbW8gQ0EwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAAReDmsU7PaoDK1YZHVxoN8vFya1GlKh2JFjmlhQUM3z1Oo5V2523Xx6\n"
	"rf4NM5hU/5GlTRMNMsQiEGGZgCUVGsb+o0UwQzASBgNVHRMBAf8ECDAGAQH/AgEA\n"
	"MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUkP+8bt4TnbwUO79KVOLsi6HghHkw\n"
	"CgYIKoZIzj0EAwIDSAAwRQIgTiIWDMByY2CS0+/H8v/aI0wey3+P4oEtTcP2N7Wi\n"
	"PRsCIQCCSI9WDoTlKcOI08xF6tKMpXJ8oqPzDDud6fsTFzl2og==\n"
	"-----END CERTIFICATE-----\n";

static const char member_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB7jCCAZOgAwIBAgIQAImNOIwtQz0yemkEl6FFMjAKBggqhkjOPQQDAjAvMRQw\n"
	"EgYDVQQKDAttc2VjZ3cgZGVtbzEXMBUGA1UEAwwObXNlY2d3IGRlbW8gQ0EwHhcN\n"
	"MjYxMTI1MDIwMTAwWhcNMjkwMjI3MDIwMTAwWjAlMRQwEgYDVQQKDAttc2VjZ3cg\n"
	"ZGVtbzENMAsGA1UEAwwEZ3ctMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ+b\n"
	"qGi57kMJQmamFcJh+O86nOiFmhbtRUxnKWMf4E4QqUEA/p/TJz6ZQjIm9qLqe3Z2\n"
	"VU35ADmNao5cuI0Ara6jgZowgZcwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMC\n"
	"B4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFELNRtToU/+qoIJ0h3Du\n"
	"Gn9NFeXpMB8GA1UdIwQYMBaAFJD/vG7eE528FDu/SlTi7Iuh4IR5MCIGA1UdEQQb\n"
	"MBmCEWd3LTEubXNlYy5leGFtcGxlhwTAAAIBMAoGCCqGSM49BAMCA0kAMEYCIQCt\n"
	"sMmMH9mUEAHjr8YwoFzSF7AxeXvR1uW4DDnNoJrhYQIhAJtMNFFaU87AVa4/mdG6\n"
	"EBPdu2NtHfKQjaPb2P4nVJXF\n"
	"-----END CERTIFICATE-----\n";

static X509_STORE *store;
static X509 *member;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (x == NULL)
		abort();
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	X509 *ca = pem_cert(ca_pem);

	(void)argc;
	(void)argv;
	store = X509_STORE_new();
	if (store == NULL || X509_STORE_add_cert(store, ca) != 1 || policy_init() == NULL)
		abort();
	X509_free(ca);
	member = pem_cert(member_pem);
	return 0;
}

static void check_err(int rc, const char *err)
{
	if (rc >= 0 || rc < POLICY_E_CRYPTO)
		abort();
	if (strncmp(policy_strerror(rc), "POLICY_E_UNKNOWN", 16) == 0)
		abort();
	if (err[0] == '\0' || strlen(err) >= POLICY_ERR_MAX || strchr(err, '\n') != NULL)
		abort();
}

/* What the validators promise about any token they let through. */
static void check_token(const struct policy_token *tok)
{
	struct policy_data_sa sa;
	int64_t nb, na;

	if (policy_token_edition(tok) < 1 || policy_token_group_name(tok)[0] == '\0')
		abort();
	policy_token_validity(tok, &nb, &na);
	if (na <= nb)
		abort();
	if (policy_token_data_count(tok) < 1 || policy_token_data_count(tok) > POLICY_MAX_DATA)
		abort();
	for (unsigned int i = 0; i < policy_token_data_count(tok); i++) {
		if (policy_token_data(tok, i, &sa) != POLICY_OK)
			abort();
		if (sa.sid_bits != 8 && sa.sid_bits != 12 && sa.sid_bits != 16)
			abort();
		if (sa.replay_window > 65536 || sa.deactivation_delay_ms < sa.activation_delay_ms)
			abort();
	}
	for (int r = 0; r < POLICY_ROLE_COUNT; r++) {
		int rc = policy_authorize(tok, (enum policy_role)r, member);

		if (rc != POLICY_OK && rc != POLICY_E_EXCLUDED && rc != POLICY_E_NOT_LISTED &&
				rc != POLICY_E_NO_POLICY)
			abort();
	}
}

/* content(tok) decodes to a token whose content is the same bytes */
static void check_reencode(const struct policy_token *tok)
{
	struct policy_token *again = calloc(1, sizeof(*again));
	char err[POLICY_ERR_MAX];
	uint8_t *c1 = NULL, *c2 = NULL;
	size_t l1, l2;
	char *j1 = NULL, *j2 = NULL;

	if (again == NULL)
		abort();
	if (policy_content_encode(tok, &c1, &l1, err) != POLICY_OK)
		abort();
	if (policy_content_decode(c1, l1, again, err) != POLICY_OK)
		abort();
	if (policy_content_encode(again, &c2, &l2, err) != POLICY_OK)
		abort();
	if (l1 != l2 || memcmp(c1, c2, l1) != 0)
		abort();
	if (policy_token_to_json(tok, &j1) != POLICY_OK || policy_token_to_json(again, &j2) !=
			POLICY_OK)
		abort();
	free(j1);
	free(j2);
	OPENSSL_free(c1);
	OPENSSL_free(c2);
	policy_token_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok = NULL, *vtok = NULL;
	char *json;
	int rc, vrc;

	err[0] = '\0';
	rc = policy_token_parse(data, len, &tok, err);
	if (rc == POLICY_OK) {
		check_token(tok);
		check_reencode(tok);
		if (policy_token_to_json(tok, &json) != POLICY_OK)
			abort();
		free(json);
	} else {
		check_err(rc, err);
		if (tok != NULL)
			abort();
	}

	err[0] = '\0';
	vrc = policy_token_verify(data, len, store, NULL, FIXED_NOW, &vtok, err);
	if (vrc == POLICY_OK) {
		if (rc != POLICY_OK || !policy_token_verified(vtok))
			abort();
		check_token(vtok);
	} else {
		check_err(vrc, err);
		if (vtok != NULL)
			abort();
	}
	policy_token_free(vtok);
	policy_token_free(tok);
	tok = NULL;

	err[0] = '\0';
	rc = policy_token_from_json("fuzz.json", (const char *)data, len, FIXED_NOW, &tok, err);
	if (rc == POLICY_OK) {
		check_token(tok);
		check_reencode(tok);
	} else {
		check_err(rc, err);
		if (tok != NULL)
			abort();
	}
	policy_token_free(tok);
	return 0;
}
