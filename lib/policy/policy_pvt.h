/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/policy internals: the validated C form of a token, shared by the DER codec
 * (policy_asn1.c), CMS (policy_cms.c), JSON (policy_json.c) and access control (policy_acl.c).
 * The unit suite includes this header to sign hand-made content.
 */
#ifndef POLICY_PVT_H
#define POLICY_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "policy.h"

/*
 * Object identifiers. id-ct-msec-token and the reliability OIDs are RFC 4534's; the others sit
 * under msecgw's private arc, a UUID OID (ITU-T X.667: 2.25.<uuid>) that needs no registration.
 */
#define OID_MSEC_TOKEN "1.3.6.1.5.5.12.1.1"
#define OID_REL_NONE "1.3.6.1.5.5.12.5.1"
#define OID_REL_RESEND "1.3.6.1.5.5.12.5.2"
#define OID_REL_POST "1.3.6.1.5.5.12.5.3"
#define OID_MSECGW "2.25.138783247843966966373196101728040244988"
#define OID_REG OID_MSECGW ".1.1"
#define OID_DEREG OID_MSECGW ".1.2"
#define OID_REKEY OID_MSECGW ".1.3"
#define OID_DATA_MESP OID_MSECGW ".1.4"
#define OID_SUITE1 OID_MSECGW ".2.1"
#define OID_REKEY_LKH OID_MSECGW ".3.1"
#define OID_KP_GO OID_MSECGW ".4.1"

/* Registered NIDs (OBJ_create), set once by policy_init(). */
struct policy_nids {
	int token, rel_none, rel_resend, rel_post;
	int reg, dereg, rekey, data_mesp, suite1, rekey_lkh, kp_go;
};

/** Register the OIDs (once, thread-safe). @return NULL on failure. */
const struct policy_nids *policy_init(void);

/* GSAKMP identification types (RFC 4535 §7.6) used as access-rule pattern kinds. */
#define PAT_IPV4 1
#define PAT_FQDN 2
#define PAT_RFC822 3
#define PAT_IPV6 5
#define PAT_DN 31

#define PAT_TEXT_MAX 256        /* pattern text, NUL included */
#define PAT_KEYID_MAX 64
#define PAT_MAX_RULES 256       /* entries in one allow or exclude list */

/* One UserCAPair: who (a pattern of some kind) and under which CA. */
struct pattern {
	uint8_t type;                   /* PAT_* */
	uint8_t addr_len;               /* PAT_IPV4 / PAT_IPV6: 4 or 16 */
	uint8_t addr[16];
	char text[PAT_TEXT_MAX];        /* PAT_DN / PAT_FQDN / PAT_RFC822 (UTF-8) */
	char issuer[PAT_TEXT_MAX];      /* issuer DN pattern; "" = any issuer */
	uint8_t keyid_len;              /* 0 = any CA */
	uint8_t keyid[PAT_KEYID_MAX];   /* the issuing CA's key identifier */
};

struct acl {
	uint16_t nb_allow, nb_exclude;
	struct pattern *allow, *exclude;
};

struct policy_token {
	/* token info */
	char group_name[POLICY_NAME_MAX];
	uint8_t group_id[POLICY_GROUP_ID_LEN];
	uint64_t edition;
	int64_t not_before, not_after;

	/* registration: the first entry whose protocol is understood */
	bool has_reg;
	struct policy_registration reg;
	struct acl roles[POLICY_ROLE_COUNT];
	uint16_t nb_reg_unknown;        /* entries skipped (unknown protocol, or none) */

	/* rekey: the first entry understood ("none" is understood) */
	bool has_rekey;
	struct policy_rekey rekey;
	uint16_t nb_rekey_unknown;

	uint16_t nb_data;
	struct policy_data_sa data[POLICY_MAX_DATA];

	/* set when parsed from a CMS token */
	bool parsed, verified;
	int64_t signing_time;
	char signer[256], signer_issuer[256];
};

/* Fill `err` (may be NULL) and return `code`. */
int policy_fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* DER codec (policy_asn1.c). */
int policy_content_encode(const struct policy_token *tok, uint8_t **der, size_t *len,
		char *err);
int policy_content_decode(const uint8_t *der, size_t len, struct policy_token *tok, char *err);

/*
 * Check that `der` is exactly one well-formed DER TLV tree: definite minimal lengths, children
 * that fill their parent, primitive strings, bounded depth. `what` names it in messages.
 */
int policy_der_walk(const uint8_t *der, size_t len, const char *what, char *err);

/*
 * Sign arbitrary content as a token would be signed (policy_cms.c). `content_nid` is the
 * eContentType (the token's, or another for tests); `no_attrs` leaves out every signed
 * attribute (so no signing-time).
 */
int policy_cms_sign_raw(const uint8_t *content, size_t clen, int content_nid, EVP_PKEY *key,
		X509 *cert, STACK_OF(X509) *chain, time_t signing_time, bool no_attrs,
		uint8_t **der, size_t *len, char *err);

/* Free the allocations inside a token (rule lists), not the token itself. */
void policy_token_clear(struct policy_token *tok);

/* Pattern syntax check shared by the JSON and DER readers: NULL when fine, else why not. */
const char *policy_pattern_check(const struct pattern *p);

/* Names used by JSON in and out. */
const char *policy_suite_name(enum policy_suite s);
const char *policy_ap_name(enum policy_ap a);
const char *policy_direction_name(enum policy_direction d);
const char *policy_transport_name(enum policy_transport t);
const char *policy_wrap_name(enum policy_key_wrap w);
const char *policy_role_key(enum policy_role r);

/* "YYYY-MM-DDTHH:MM:SSZ" <-> seconds. */
void policy_time_str(int64_t t, char buf[32]);

#endif
