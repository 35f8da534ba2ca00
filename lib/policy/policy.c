/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy token: error names, OID registration, accessors and names shared by the codecs.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "policy_pvt.h"

static const char *const errors[] = {
	[0] = "POLICY_OK: success",
	[1] = "POLICY_E_INVAL: invalid argument",
	[2] = "POLICY_E_NOMEM: out of memory",
	[3] = "POLICY_E_SIZE: token empty or larger than 64 KiB",
	[4] = "POLICY_E_TRUNCATED: DER truncated (a length runs past the end)",
	[5] = "POLICY_E_TRAILING: trailing bytes after a DER object",
	[6] = "POLICY_E_DER: not DER (BER length or constructed string, or nested too deep)",
	[7] = "POLICY_E_NOT_CMS: not a CMS ContentInfo",
	[8] = "POLICY_E_NOT_SIGNED: CMS content is not SignedData",
	[9] = "POLICY_E_CONTENT_TYPE: eContentType is not id-ct-msec-token",
	[10] = "POLICY_E_NO_CONTENT: no encapsulated content (detached signature)",
	[11] = "POLICY_E_SIGNER: not exactly one signer, or its certificate is missing",
	[12] = "POLICY_E_NO_SIGNING_TIME: no single signing-time signed attribute",
	[13] = "POLICY_E_SIGNATURE: signature does not verify",
	[14] = "POLICY_E_CHAIN: signer certificate does not chain to the trust anchor",
	[15] = "POLICY_E_NOT_GO: signer is not a Group Owner",
	[16] = "POLICY_E_SYNTAX: token content does not decode",
	[17] = "POLICY_E_NONCANONICAL: token content is not DER",
	[18] = "POLICY_E_VERSION: unsupported tokenDefVersion",
	[19] = "POLICY_E_VALUE: token field missing or out of range",
	[20] = "POLICY_E_UNSUPPORTED: unsupported data protocol",
	[21] = "POLICY_E_NOT_YET_VALID: token not yet valid",
	[22] = "POLICY_E_EXPIRED: token expired",
	[23] = "POLICY_E_GROUP: token is for another group",
	[24] = "POLICY_E_EDITION: edition not newer than the last accepted",
	[25] = "POLICY_E_SIGNING_TIME: signing-time older than the last accepted, or in the future",
	[26] = "POLICY_E_NOT_LISTED: no access rule names the certificate",
	[27] = "POLICY_E_EXCLUDED: an exclusion rule names the certificate",
	[28] = "POLICY_E_NO_POLICY: the token has no such policy",
	[29] = "POLICY_E_KEY: signing key unusable with this certificate",
	[30] = "POLICY_E_JSON: invalid JSON policy",
	[31] = "POLICY_E_CRYPTO: unexpected OpenSSL failure",
};

const char *policy_strerror(int code)
{
	unsigned int i = code <= 0 ? (unsigned int)-code : ~0u;

	if (i < sizeof(errors) / sizeof(errors[0]) && errors[i] != NULL)
		return errors[i];
	return "POLICY_E_UNKNOWN: unknown error code";
}

int policy_fail(char *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	va_start(ap, fmt);
	if (vsnprintf(err, POLICY_ERR_MAX, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
	/* details may quote untrusted bytes: keep them on one printable line */
	for (char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

/* ------------------------------------------------------------------ OIDs */

static struct policy_nids nids;
static bool nids_ok;
static pthread_once_t nids_once = PTHREAD_ONCE_INIT;

/* An OID's NID: the registered one if some other code created it first, else a new one. */
static int oid_nid(const char *oid, const char *sn, const char *ln)
{
	int nid = OBJ_txt2nid(oid);

	if (nid != NID_undef)
		return nid;
	/* short and long names may be taken by another library: fall back to the numeric form */
	if (OBJ_sn2nid(sn) != NID_undef || OBJ_ln2nid(ln) != NID_undef)
		return OBJ_create(oid, NULL, NULL);
	return OBJ_create(oid, sn, ln);
}

static void init_once(void)
{
	static const struct {
		const char *oid, *sn, *ln;
		size_t off;
	} tbl[] = {
		{ OID_MSEC_TOKEN, "id-ct-msec-token", "MSEC Group Security Policy Token",
			offsetof(struct policy_nids, token) },
		{ OID_REL_NONE, "id-reliabilityNone", "MSEC reliability none",
			offsetof(struct policy_nids, rel_none) },
		{ OID_REL_RESEND, "id-reliabilityResend", "MSEC reliability resend",
			offsetof(struct policy_nids, rel_resend) },
		{ OID_REL_POST, "id-reliabilityPost", "MSEC reliability post",
			offsetof(struct policy_nids, rel_post) },
		{ OID_REG, "msecgw-registration", "msecgw GSAKMP registration policy",
			offsetof(struct policy_nids, reg) },
		{ OID_DEREG, "msecgw-deregistration", "msecgw GSAKMP de-registration policy",
			offsetof(struct policy_nids, dereg) },
		{ OID_REKEY, "msecgw-rekey", "msecgw GSAKMP rekey policy",
			offsetof(struct policy_nids, rekey) },
		{ OID_DATA_MESP, "msecgw-data-mesp", "msecgw group ESP data SA",
			offsetof(struct policy_nids, data_mesp) },
		{ OID_SUITE1, "msecgw-suite-1", "msecgw security suite 1",
			offsetof(struct policy_nids, suite1) },
		{ OID_REKEY_LKH, "msecgw-rekey-lkh", "msecgw LKH rekey method",
			offsetof(struct policy_nids, rekey_lkh) },
		{ OID_KP_GO, "msecgw-kp-groupOwner", "msecgw Group Owner",
			offsetof(struct policy_nids, kp_go) },
	};

	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++) {
		int nid = oid_nid(tbl[i].oid, tbl[i].sn, tbl[i].ln);

		if (nid == NID_undef)
			return;
		memcpy((char *)&nids + tbl[i].off, &nid, sizeof(nid));
	}
	nids_ok = true;
}

const struct policy_nids *policy_init(void)
{
	if (pthread_once(&nids_once, init_once) != 0 || !nids_ok)
		return NULL;
	return &nids;
}

/* ------------------------------------------------------------------ names */

const char *policy_suite_name(enum policy_suite s)
{
	switch (s) {
	case POLICY_SUITE_AES_GCM_128:
		return "aes-gcm-128";
	case POLICY_SUITE_AES_GCM_256:
		return "aes-gcm-256";
	case POLICY_SUITE_AES_GMAC_128:
		return "aes-gmac-128";
	case POLICY_SUITE_AES_CBC_128_HMAC_SHA256_128:
		return "aes-cbc-128+hmac-sha256-128";
	case POLICY_SUITE_NULL_HMAC_SHA256_128:
		return "null-hmac-sha256-128";
	case POLICY_SUITE_AES_CTR_128_HMAC_SHA256_128:
		return "aes-ctr-128-hmac-sha256-128";
	}
	return "?";
}

const char *policy_ap_name(enum policy_ap a)
{
	switch (a) {
	case POLICY_AP_NONE:
		return "none";
	case POLICY_AP_SRC:
		return "src";
	case POLICY_AP_DST:
		return "dst";
	case POLICY_AP_SRC_DST:
		return "src-dst";
	}
	return "?";
}

const char *policy_direction_name(enum policy_direction d)
{
	switch (d) {
	case POLICY_DIR_SENDERS:
		return "senders-to-members";
	case POLICY_DIR_SYMMETRIC:
		return "symmetric";
	}
	return "?";
}

const char *policy_transport_name(enum policy_transport t)
{
	switch (t) {
	case POLICY_TRANSPORT_TCP:
		return "tcp";
	case POLICY_TRANSPORT_UDP:
		return "udp";
	case POLICY_TRANSPORT_UDP_RTJ_TCP_OTHER:
		return "udp-rtj-tcp-other";
	}
	return "?";
}

const char *policy_wrap_name(enum policy_key_wrap w)
{
	switch (w) {
	case POLICY_WRAP_AES256_KW:
		return "aes-256-kw";
	case POLICY_WRAP_AES256_GCM:
		return "aes-256-gcm";
	}
	return "?";
}

const char *policy_role_key(enum policy_role r)
{
	static const char *const keys[POLICY_ROLE_COUNT] = {
		"gcks", "sub_gcks", "senders", "members"
	};

	return (unsigned int)r < POLICY_ROLE_COUNT ? keys[r] : "?";
}

void policy_time_str(int64_t t, char buf[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
}

/* ------------------------------------------------------------------ token object */

void policy_token_clear(struct policy_token *tok)
{
	for (int r = 0; r < POLICY_ROLE_COUNT; r++) {
		free(tok->roles[r].allow);
		free(tok->roles[r].exclude);
		tok->roles[r].allow = tok->roles[r].exclude = NULL;
		tok->roles[r].nb_allow = tok->roles[r].nb_exclude = 0;
	}
}

void policy_token_free(struct policy_token *tok)
{
	if (tok == NULL)
		return;
	policy_token_clear(tok);
	free(tok);
}

const char *policy_token_group_name(const struct policy_token *tok)
{
	return tok->group_name;
}

void policy_token_group_id(const struct policy_token *tok, uint8_t id[POLICY_GROUP_ID_LEN])
{
	memcpy(id, tok->group_id, POLICY_GROUP_ID_LEN);
}

uint64_t policy_token_edition(const struct policy_token *tok)
{
	return tok->edition;
}

void policy_token_validity(const struct policy_token *tok, int64_t *not_before,
		int64_t *not_after)
{
	if (not_before != NULL)
		*not_before = tok->not_before;
	if (not_after != NULL)
		*not_after = tok->not_after;
}

int64_t policy_token_signing_time(const struct policy_token *tok)
{
	return tok->signing_time;
}

bool policy_token_verified(const struct policy_token *tok)
{
	return tok->verified;
}

void policy_token_state(const struct policy_token *tok, struct policy_state *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->group_name, tok->group_name, sizeof(st->group_name));
	memcpy(st->group_id, tok->group_id, sizeof(st->group_id));
	st->edition = tok->edition;
	st->signing_time = tok->signing_time;
}

int policy_token_registration(const struct policy_token *tok, struct policy_registration *out)
{
	if (tok == NULL || out == NULL)
		return POLICY_E_INVAL;
	if (!tok->has_reg)
		return POLICY_E_NO_POLICY;
	*out = tok->reg;
	return POLICY_OK;
}

int policy_token_rekey(const struct policy_token *tok, struct policy_rekey *out)
{
	if (tok == NULL || out == NULL)
		return POLICY_E_INVAL;
	if (!tok->has_rekey)
		return POLICY_E_NO_POLICY;
	*out = tok->rekey;
	return POLICY_OK;
}

unsigned int policy_token_data_count(const struct policy_token *tok)
{
	return tok->nb_data;
}

int policy_token_data(const struct policy_token *tok, unsigned int i, struct policy_data_sa *out)
{
	if (tok == NULL || out == NULL || i >= tok->nb_data)
		return POLICY_E_INVAL;
	*out = tok->data[i];
	return POLICY_OK;
}
