/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The token content in DER: OpenSSL ASN.1 templates for RFC 4534's Token and msecgw's
 * registration, rekey and data protocol infos, and the conversions between them and the
 * validated C form (struct policy_token). doc/policy-token.md has the ASN.1 module.
 *
 * Validate, then interpret. Every DER input is first walked as a bare TLV tree
 * (policy_der_walk: definite minimal lengths, children filling their parent), then decoded by
 * the templates, then re-encoded and compared byte for byte, so a token has exactly one
 * encoding and what a signature covers is what the fields say. Only then are values read, each
 * range-checked before it is stored. protocolInfo OCTET STRINGs hold DER of their own and go
 * through the same three steps.
 *
 * OpenSSL's template macros need typedef'd type names, hence the P_* typedefs (file-local).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "policy_pvt.h"

#define DER_MAX_DEPTH 32
#define MAX_REG_ENTRIES 16
#define MAX_REKEY_ENTRIES 16
#define MAX_TIMEOUT 3600
#define MAX_INTERVAL 0x7fffffff
#define MIN_SILENCE 60
#define MAX_DEGREE 16
#define MAX_RESEND 10
#define MAX_REPLAY_WINDOW 65536
#define MAX_DELAY_MS 3600000u           /* ATD/DTD at most an hour */
#define GENTIME_MAX 253402300799LL      /* 9999-12-31T23:59:59Z */

/* ------------------------------------------------------------------ templates */

/* RFC 4534 §3: Validity is msecgw's addition to TokenID (see doc/policy-token.md §3). */
typedef struct {
	ASN1_GENERALIZEDTIME *not_before;
	ASN1_GENERALIZEDTIME *not_after;
} P_VALIDITY;

ASN1_SEQUENCE(P_VALIDITY) = {
	ASN1_SIMPLE(P_VALIDITY, not_before, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(P_VALIDITY, not_after, ASN1_GENERALIZEDTIME),
} static_ASN1_SEQUENCE_END(P_VALIDITY)

typedef struct {
	ASN1_INTEGER *version;
	ASN1_OCTET_STRING *group_name;
	ASN1_INTEGER *edition;            /* OPTIONAL in RFC 4534; msecgw requires it */
	ASN1_OCTET_STRING *group_id;      /* [0] msecgw */
	P_VALIDITY *validity;             /* [1] msecgw */
} P_TOKENID;

ASN1_SEQUENCE(P_TOKENID) = {
	ASN1_SIMPLE(P_TOKENID, version, ASN1_INTEGER),
	ASN1_SIMPLE(P_TOKENID, group_name, ASN1_OCTET_STRING),
	ASN1_OPT(P_TOKENID, edition, ASN1_INTEGER),
	ASN1_IMP(P_TOKENID, group_id, ASN1_OCTET_STRING, 0),
	ASN1_IMP(P_TOKENID, validity, P_VALIDITY, 1),
} static_ASN1_SEQUENCE_END(P_TOKENID)

/* Protocol ::= SEQUENCE { protocol OBJECT IDENTIFIER, protocolInfo OCTET STRING } */
typedef struct {
	ASN1_OBJECT *oid;
	ASN1_OCTET_STRING *info;
} P_PROTOCOL;

ASN1_SEQUENCE(P_PROTOCOL) = {
	ASN1_SIMPLE(P_PROTOCOL, oid, ASN1_OBJECT),
	ASN1_SIMPLE(P_PROTOCOL, info, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(P_PROTOCOL)

DEFINE_STACK_OF(P_PROTOCOL)

/* GroupMngmtProtocol ::= CHOICE { none NULL, supported Protocol } */
#define GMP_NONE 0
#define GMP_SUPPORTED 1
typedef struct {
	int type;
	union {
		ASN1_NULL *none;
		P_PROTOCOL *supported;
	} d;
} P_GMP;

ASN1_CHOICE(P_GMP) = {
	ASN1_SIMPLE(P_GMP, d.none, ASN1_NULL),
	ASN1_SIMPLE(P_GMP, d.supported, P_PROTOCOL),
} static_ASN1_CHOICE_END(P_GMP)

DEFINE_STACK_OF(P_GMP)

typedef struct {
	P_GMP *reg;
	P_GMP *dereg;
} P_REGISTRATION;

ASN1_SEQUENCE(P_REGISTRATION) = {
	ASN1_SIMPLE(P_REGISTRATION, reg, P_GMP),
	ASN1_SIMPLE(P_REGISTRATION, dereg, P_GMP),
} static_ASN1_SEQUENCE_END(P_REGISTRATION)

DEFINE_STACK_OF(P_REGISTRATION)

typedef struct {
	P_TOKENID *info;
	STACK_OF(P_REGISTRATION) *registration;
	STACK_OF(P_GMP) *rekey;
	STACK_OF(P_PROTOCOL) *data;
} P_TOKEN;

ASN1_SEQUENCE(P_TOKEN) = {
	ASN1_SIMPLE(P_TOKEN, info, P_TOKENID),
	ASN1_SEQUENCE_OF(P_TOKEN, registration, P_REGISTRATION),
	ASN1_SEQUENCE_OF(P_TOKEN, rekey, P_GMP),
	ASN1_SEQUENCE_OF(P_TOKEN, data, P_PROTOCOL),
} static_ASN1_SEQUENCE_END(P_TOKEN)

/* --- registration info (msecgw-registration), after RFC 4534 Appendix B.1-B.2 */

typedef struct {
	ASN1_INTEGER *type;               /* GSAKMP ID type */
	ASN1_OCTET_STRING *data;
} P_GSAKMPID;

ASN1_SEQUENCE(P_GSAKMPID) = {
	ASN1_SIMPLE(P_GSAKMPID, type, ASN1_INTEGER),
	ASN1_SIMPLE(P_GSAKMPID, data, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(P_GSAKMPID)

typedef struct {
	P_GSAKMPID *entity;
	ASN1_OCTET_STRING *ca;            /* KeyIdentifier; empty = any CA (msecgw) */
	ASN1_UTF8STRING *issuer;          /* [0] OPTIONAL, msecgw: issuer DN pattern */
} P_USERCA;

ASN1_SEQUENCE(P_USERCA) = {
	ASN1_SIMPLE(P_USERCA, entity, P_GSAKMPID),
	ASN1_SIMPLE(P_USERCA, ca, ASN1_OCTET_STRING),
	ASN1_IMP_OPT(P_USERCA, issuer, ASN1_UTF8STRING, 0),
} static_ASN1_SEQUENCE_END(P_USERCA)

DEFINE_STACK_OF(P_USERCA)

/* AccessControl (RFC 4534 B.2) without its optional permissions. */
typedef struct {
	STACK_OF(P_USERCA) *allow;        /* accessRule [2] */
	STACK_OF(P_USERCA) *exclude;      /* exclusionsRule [3] OPTIONAL */
} P_ACL;

ASN1_SEQUENCE(P_ACL) = {
	ASN1_EXP_SEQUENCE_OF(P_ACL, allow, P_USERCA, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(P_ACL, exclude, P_USERCA, 3),
} static_ASN1_SEQUENCE_END(P_ACL)

/* Transport ::= CHOICE { tcp [0] NULL, udp [1] NULL, udpRTJtcpOther [2] NULL } */
typedef struct {
	int type;
	union {
		ASN1_NULL *tcp;
		ASN1_NULL *udp;
		ASN1_NULL *rtj;
	} d;
} P_TRANSPORT;

ASN1_CHOICE(P_TRANSPORT) = {
	ASN1_IMP(P_TRANSPORT, d.tcp, ASN1_NULL, 0),
	ASN1_IMP(P_TRANSPORT, d.udp, ASN1_NULL, 1),
	ASN1_IMP(P_TRANSPORT, d.rtj, ASN1_NULL, 2),
} static_ASN1_CHOICE_END(P_TRANSPORT)

typedef struct {
	P_ACL *gcks, *subgcks, *senders, *members;
	ASN1_OBJECT *suite;
	P_TRANSPORT *transport;
	ASN1_INTEGER *timeout;
} P_REGINFO;

ASN1_SEQUENCE(P_REGINFO) = {
	ASN1_SIMPLE(P_REGINFO, gcks, P_ACL),
	ASN1_SIMPLE(P_REGINFO, subgcks, P_ACL),
	ASN1_SIMPLE(P_REGINFO, senders, P_ACL),
	ASN1_SIMPLE(P_REGINFO, members, P_ACL),
	ASN1_SIMPLE(P_REGINFO, suite, ASN1_OBJECT),
	ASN1_SIMPLE(P_REGINFO, transport, P_TRANSPORT),
	ASN1_SIMPLE(P_REGINFO, timeout, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(P_REGINFO)

typedef struct {
	P_TRANSPORT *transport;
} P_DEREGINFO;

ASN1_SEQUENCE(P_DEREGINFO) = {
	ASN1_SIMPLE(P_DEREGINFO, transport, P_TRANSPORT),
} static_ASN1_SEQUENCE_END(P_DEREGINFO)

/* --- rekey info (msecgw-rekey), after RFC 4534 Appendix B.5 */

/* LifeDate ::= CHOICE { gt GeneralizedTime, utc UTCTime, interval INTEGER } */
#define LD_GT 0
#define LD_UTC 1
#define LD_INTERVAL 2
typedef struct {
	int type;
	union {
		ASN1_GENERALIZEDTIME *gt;
		ASN1_UTCTIME *utc;
		ASN1_INTEGER *interval;
	} d;
} P_LIFEDATE;

ASN1_CHOICE(P_LIFEDATE) = {
	ASN1_SIMPLE(P_LIFEDATE, d.gt, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(P_LIFEDATE, d.utc, ASN1_UTCTIME),
	ASN1_SIMPLE(P_LIFEDATE, d.interval, ASN1_INTEGER),
} static_ASN1_CHOICE_END(P_LIFEDATE)

typedef struct {
	P_LIFEDATE *time;
	ASN1_INTEGER *event;
} P_TIMEEVENT;

ASN1_SEQUENCE(P_TIMEEVENT) = {
	ASN1_SIMPLE(P_TIMEEVENT, time, P_LIFEDATE),
	ASN1_SIMPLE(P_TIMEEVENT, event, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(P_TIMEEVENT)

/* RekeyEventDef ::= CHOICE { none [0] NULL, timeOnly [1] EXPLICIT LifeDate, event [2] INTEGER,
 *                            timeAndEvent [3] TimeAndEvent } */
#define EV_NONE 0
#define EV_TIME 1
#define EV_EVENT 2
#define EV_BOTH 3
typedef struct {
	int type;
	union {
		ASN1_NULL *none;
		P_LIFEDATE *time;
		ASN1_INTEGER *event;
		P_TIMEEVENT *both;
	} d;
} P_REKEYEVENT;

ASN1_CHOICE(P_REKEYEVENT) = {
	ASN1_IMP(P_REKEYEVENT, d.none, ASN1_NULL, 0),
	ASN1_EXP(P_REKEYEVENT, d.time, P_LIFEDATE, 1),
	ASN1_IMP(P_REKEYEVENT, d.event, ASN1_INTEGER, 2),
	ASN1_IMP(P_REKEYEVENT, d.both, P_TIMEEVENT, 3),
} static_ASN1_CHOICE_END(P_REKEYEVENT)

typedef struct {
	P_REKEYEVENT *event_def;
	P_PROTOCOL *method;               /* RekeyMethod { OID, OCTET STRING } */
	P_LIFEDATE *interval;             /* rekeyInterval */
	P_PROTOCOL *reliability;          /* Reliability { OID, OCTET STRING } */
} P_REKEYINFO;

ASN1_SEQUENCE(P_REKEYINFO) = {
	ASN1_SIMPLE(P_REKEYINFO, event_def, P_REKEYEVENT),
	ASN1_SIMPLE(P_REKEYINFO, method, P_PROTOCOL),
	ASN1_SIMPLE(P_REKEYINFO, interval, P_LIFEDATE),
	ASN1_SIMPLE(P_REKEYINFO, reliability, P_PROTOCOL),
} static_ASN1_SEQUENCE_END(P_REKEYINFO)

typedef struct {
	ASN1_INTEGER *degree;
	ASN1_OBJECT *wrap;
} P_LKHINFO;

ASN1_SEQUENCE(P_LKHINFO) = {
	ASN1_SIMPLE(P_LKHINFO, degree, ASN1_INTEGER),
	ASN1_SIMPLE(P_LKHINFO, wrap, ASN1_OBJECT),
} static_ASN1_SEQUENCE_END(P_LKHINFO)

/* --- data SA info (msecgw-data-mesp) */

typedef struct {
	ASN1_INTEGER *suite;
	ASN1_BOOLEAN tesla;
	ASN1_INTEGER *sid_bits;
	ASN1_INTEGER *replay_window;
	ASN1_BOOLEAN esn;
	ASN1_INTEGER *ap;
	ASN1_INTEGER *direction;
	ASN1_INTEGER *atd;
	ASN1_INTEGER *dtd;
	ASN1_INTEGER *lifetime;
	ASN1_OCTET_STRING *group;
	ASN1_OCTET_STRING *source;        /* [0] OPTIONAL */
} P_MESPINFO;

ASN1_SEQUENCE(P_MESPINFO) = {
	ASN1_SIMPLE(P_MESPINFO, suite, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, tesla, ASN1_BOOLEAN),
	ASN1_SIMPLE(P_MESPINFO, sid_bits, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, replay_window, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, esn, ASN1_BOOLEAN),
	ASN1_SIMPLE(P_MESPINFO, ap, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, direction, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, atd, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, dtd, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, lifetime, ASN1_INTEGER),
	ASN1_SIMPLE(P_MESPINFO, group, ASN1_OCTET_STRING),
	ASN1_IMP_OPT(P_MESPINFO, source, ASN1_OCTET_STRING, 0),
} static_ASN1_SEQUENCE_END(P_MESPINFO)

/* ------------------------------------------------------------------ DER walker */

/*
 * One TLV header at p[0..avail): identifier, length, header size. Lengths up to 4 bytes
 * (tokens are at most 64 KiB).
 */
static int tlv_header(const uint8_t *p, size_t avail, uint8_t *id, size_t *hdr, size_t *clen,
		const char *what, char *err)
{
	size_t i = 1, n;

	if (avail < 2)
		return policy_fail(err, POLICY_E_TRUNCATED, "%s: truncated in a DER header", what);
	*id = p[0];
	if ((p[0] & 0x1f) == 0x1f) {
		/* high tag number form: base 128, minimal, at most 4 bytes, number >= 31 */
		uint32_t num = 0;

		if (p[1] == 0x80)
			return policy_fail(err, POLICY_E_DER, "%s: non-minimal tag number", what);
		do {
			if (i >= avail)
				return policy_fail(err, POLICY_E_TRUNCATED,
						"%s: truncated in a DER tag", what);
			if (i > 4)
				return policy_fail(err, POLICY_E_DER, "%s: tag number too large",
						what);
			num = num << 7 | (p[i] & 0x7f);
		} while (p[i++] & 0x80);
		if (num < 31)
			return policy_fail(err, POLICY_E_DER, "%s: tag %u in high tag number form",
					what, num);
		if (i >= avail)
			return policy_fail(err, POLICY_E_TRUNCATED, "%s: truncated in a DER header",
					what);
	}
	if (p[i] < 0x80) {
		*clen = p[i];
		*hdr = i + 1;
		return POLICY_OK;
	}
	n = p[i] & 0x7f;
	if (n == 0)
		return policy_fail(err, POLICY_E_DER, "%s: indefinite length (BER, not DER)", what);
	if (n > 4)
		return policy_fail(err, POLICY_E_DER, "%s: length of %zu bytes", what, n);
	if (i + 1 + n > avail)
		return policy_fail(err, POLICY_E_TRUNCATED, "%s: truncated in a DER length", what);
	if (p[i + 1] == 0)
		return policy_fail(err, POLICY_E_DER, "%s: non-minimal DER length", what);
	*clen = 0;
	for (size_t k = 0; k < n; k++)
		*clen = *clen << 8 | p[i + 1 + k];
	if (*clen < 0x80)
		return policy_fail(err, POLICY_E_DER, "%s: long-form DER length below 128", what);
	*hdr = i + 1 + n;
	return POLICY_OK;
}

/* The TLVs in p[0..len) must exactly fill it. */
static int walk(const uint8_t *p, size_t len, int depth, const char *what, char *err)
{
	size_t off = 0;

	if (depth > DER_MAX_DEPTH)
		return policy_fail(err, POLICY_E_DER, "%s: DER nested deeper than %d", what,
				DER_MAX_DEPTH);
	while (off < len) {
		size_t hdr = 0, clen = 0;   /* written by tlv_header() on success */
		uint8_t id = 0;
		int rc = tlv_header(p + off, len - off, &id, &hdr, &clen, what, err);

		if (rc != POLICY_OK)
			return rc;
		if (clen > len - off - hdr)
			return policy_fail(err, POLICY_E_TRUNCATED,
					"%s: a DER length (%zu) runs past the end of its container "
					"at offset %zu", what, clen, off);
		if ((id & 0xc0) == 0) {
			unsigned int tag = id & 0x1f;

			if (tag == 0)
				return policy_fail(err, POLICY_E_DER, "%s: end-of-contents octets "
						"(BER, not DER)", what);
			/* DER: SEQUENCE and SET constructed, everything else universal primitive */
			if ((tag == 16 || tag == 17) != ((id & 0x20) != 0))
				return policy_fail(err, POLICY_E_DER, "%s: universal tag %u in the "
						"wrong form", what, tag);
		}
		if (id & 0x20) {
			rc = walk(p + off + hdr, clen, depth + 1, what, err);
			if (rc != POLICY_OK)
				return rc;
		}
		off += hdr + clen;
	}
	return POLICY_OK;
}

int policy_der_walk(const uint8_t *der, size_t len, const char *what, char *err)
{
	size_t hdr = 0, clen = 0;
	uint8_t id;
	int rc;

	if (len == 0)
		return policy_fail(err, POLICY_E_TRUNCATED, "%s: empty", what);
	rc = tlv_header(der, len, &id, &hdr, &clen, what, err);
	if (rc != POLICY_OK)
		return rc;
	if (clen > len - hdr)
		return policy_fail(err, POLICY_E_TRUNCATED, "%s: %zu bytes, the DER length says "
				"%zu", what, len, hdr + clen);
	if (clen < len - hdr)
		return policy_fail(err, POLICY_E_TRAILING, "%s: %zu trailing bytes after the DER "
				"object", what, len - hdr - clen);
	return walk(der, len, 0, what, err);
}

/* ------------------------------------------------------------------ decode helpers */

/* OpenSSL's reason for the last failure, and an empty queue afterwards. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "malformed";
}

/* walk, decode, check that the re-encoding is the input: the one DER form of the value */
static int decode_item(const ASN1_ITEM *it, const uint8_t *der, size_t len, const char *what,
		ASN1_VALUE **out, char *err)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	ASN1_VALUE *v;
	int rc, n;

	*out = NULL;
	rc = policy_der_walk(der, len, what, err);
	if (rc != POLICY_OK)
		return rc;
	v = ASN1_item_d2i(NULL, &p, (long)len, it);
	if (v == NULL)
		return policy_fail(err, POLICY_E_SYNTAX, "%s: does not decode as %s: %s", what,
				it->sname, ossl_reason());
	if ((size_t)(p - der) != len) {
		ASN1_item_free(v, it);
		return policy_fail(err, POLICY_E_TRAILING, "%s: trailing bytes", what);
	}
	n = ASN1_item_i2d(v, &re, it);
	if (n < 0) {
		ASN1_item_free(v, it);
		return policy_fail(err, POLICY_E_SYNTAX, "%s: does not re-encode: %s", what,
				ossl_reason());
	}
	if ((size_t)n != len || memcmp(re, der, len) != 0) {
		OPENSSL_free(re);
		ASN1_item_free(v, it);
		return policy_fail(err, POLICY_E_NONCANONICAL, "%s: not in DER (the canonical "
				"re-encoding differs)", what);
	}
	OPENSSL_free(re);
	*out = v;
	return POLICY_OK;
}

static int get_u64(const ASN1_INTEGER *a, uint64_t lo, uint64_t hi, uint64_t *out,
		const char *path, char *err)
{
	uint64_t v;

	if (a == NULL || ASN1_INTEGER_get_uint64(&v, a) != 1) {
		ERR_clear_error();
		return policy_fail(err, POLICY_E_VALUE, "%s: expected an integer in %llu..%llu, "
				"got a negative or too large one", path, (unsigned long long)lo,
				(unsigned long long)hi);
	}
	if (v < lo || v > hi)
		return policy_fail(err, POLICY_E_VALUE, "%s: expected an integer in %llu..%llu, "
				"got %llu", path, (unsigned long long)lo, (unsigned long long)hi,
				(unsigned long long)v);
	*out = v;
	return POLICY_OK;
}

static int get_u32(const ASN1_INTEGER *a, uint32_t lo, uint32_t hi, uint32_t *out,
		const char *path, char *err)
{
	uint64_t v = 0;
	int rc = get_u64(a, lo, hi, &v, path, err);

	if (rc == POLICY_OK)
		*out = (uint32_t)v;
	return rc;
}

/* DER BOOLEAN: 0x00 or 0xff (OpenSSL keeps the content octet). */
static int get_bool(ASN1_BOOLEAN b, bool *out, const char *path, char *err)
{
	if (b != 0 && b != 0xff)
		return policy_fail(err, POLICY_E_NONCANONICAL, "%s: BOOLEAN other than 0x00 or "
				"0xff", path);
	*out = b != 0;
	return POLICY_OK;
}

/* GeneralizedTime of the DER profile: YYYYMMDDHHMMSSZ, a real date. */
static int get_gentime(const ASN1_GENERALIZEDTIME *t, int64_t *out, const char *path,
		char *err)
{
	struct tm tm;

	if (t == NULL || t->length != 15 || t->data[14] != 'Z')
		goto bad;
	for (int i = 0; i < 14; i++)
		if (t->data[i] < '0' || t->data[i] > '9')
			goto bad;
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		goto bad;
	*out = (int64_t)timegm(&tm);
	/* the same range as the JSON form (and all the encoder writes): 1970 to 9999 */
	if (*out < 0 || *out > GENTIME_MAX)
		goto bad;
	return POLICY_OK;
bad:
	ERR_clear_error();
	return policy_fail(err, POLICY_E_VALUE, "%s: expected a GeneralizedTime "
			"YYYYMMDDHHMMSSZ from 1970 to 9999", path);
}

static int nid_of(const ASN1_OBJECT *o)
{
	return o != NULL ? OBJ_obj2nid(o) : NID_undef;
}

static void oid_text(const ASN1_OBJECT *o, char buf[96])
{
	if (o == NULL || OBJ_obj2txt(buf, 96, o, 1) <= 0)
		snprintf(buf, 96, "?");
}

/* protocolInfo / reliability content holding the DER of `it` */
static int decode_info(const ASN1_OCTET_STRING *os, const ASN1_ITEM *it, const char *path,
		ASN1_VALUE **out, char *err)
{
	return decode_item(it, os->data, (size_t)os->length, path, out, err);
}

/* ------------------------------------------------------------------ decode: registration */

static int decode_pattern(const P_USERCA *u, struct pattern *p, const char *path, char *err)
{
	const char *why;
	uint64_t type = 0;      /* set by every successful read; 0 keeps -O3 from guessing */
	int rc;

	memset(p, 0, sizeof(*p));
	rc = get_u64(u->entity->type, 0, 255, &type, path, err);
	if (rc != POLICY_OK)
		return rc;
	p->type = (uint8_t)type;
	switch (p->type) {
	case PAT_IPV4:
	case PAT_IPV6:
		if (u->entity->data->length != (p->type == PAT_IPV4 ? 4 : 16))
			return policy_fail(err, POLICY_E_VALUE, "%s: expected a %d-byte address, "
					"got %d bytes", path, p->type == PAT_IPV4 ? 4 : 16,
					u->entity->data->length);
		p->addr_len = (uint8_t)u->entity->data->length;
		memcpy(p->addr, u->entity->data->data, p->addr_len);
		break;
	case PAT_DN:
	case PAT_FQDN:
	case PAT_RFC822:
		if (u->entity->data->length < 1 || u->entity->data->length >= PAT_TEXT_MAX)
			return policy_fail(err, POLICY_E_VALUE, "%s: expected a pattern of 1..%d "
					"bytes, got %d", path, PAT_TEXT_MAX - 1,
					u->entity->data->length);
		memcpy(p->text, u->entity->data->data, (size_t)u->entity->data->length);
		break;
	default:
		return policy_fail(err, POLICY_E_VALUE, "%s: expected GSAKMP ID type 1 (IPv4), "
				"2 (FQDN), 3 (RFC822), 5 (IPv6) or 31 (DN string), got %u", path,
				p->type);
	}
	if (u->ca->length > PAT_KEYID_MAX)
		return policy_fail(err, POLICY_E_VALUE, "%s: expected a CA key identifier of at "
				"most "
				"%d bytes, got %d", path, PAT_KEYID_MAX, u->ca->length);
	p->keyid_len = (uint8_t)u->ca->length;
	memcpy(p->keyid, u->ca->data, p->keyid_len);
	if (u->issuer != NULL) {
		if (u->issuer->length < 1 || u->issuer->length >= PAT_TEXT_MAX)
			return policy_fail(err, POLICY_E_VALUE, "%s: expected an issuer pattern of "
					"1..%d bytes, got %d", path, PAT_TEXT_MAX - 1,
					u->issuer->length);
		memcpy(p->issuer, u->issuer->data, (size_t)u->issuer->length);
	}
	/* text fields were copied with their length: an embedded NUL shortens them */
	if (strlen(p->text) != (p->type == PAT_IPV4 || p->type == PAT_IPV6 ? 0 :
			(size_t)u->entity->data->length) ||
			(u->issuer != NULL && strlen(p->issuer) != (size_t)u->issuer->length))
		return policy_fail(err, POLICY_E_VALUE, "%s: NUL byte in a pattern", path);
	why = policy_pattern_check(p);
	if (why != NULL)
		return policy_fail(err, POLICY_E_VALUE, "%s: %s", path, why);
	return POLICY_OK;
}

static int decode_list(const STACK_OF(P_USERCA) *sk, struct pattern **out, uint16_t *nb,
		const char *path, char *err)
{
	char p[160];
	int n = sk != NULL ? sk_P_USERCA_num(sk) : 0;

	*out = NULL;
	*nb = 0;
	if (n > PAT_MAX_RULES)
		return policy_fail(err, POLICY_E_VALUE, "%s: expected at most %d rules, got %d",
				path, PAT_MAX_RULES, n);
	if (n <= 0)
		return POLICY_OK;
	*out = calloc((size_t)n, sizeof(**out));
	if (*out == NULL)
		return policy_fail(err, POLICY_E_NOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		int rc;

		snprintf(p, sizeof(p), "%s[%d]", path, i);
		rc = decode_pattern(sk_P_USERCA_value(sk, i), &(*out)[i], p, err);
		if (rc != POLICY_OK)
			return rc;
		(*nb)++;
	}
	return POLICY_OK;
}

static int decode_transport(const P_TRANSPORT *t, enum policy_transport *out)
{
	switch (t->type) {
	case 0:
		*out = POLICY_TRANSPORT_TCP;
		return POLICY_OK;
	case 1:
		*out = POLICY_TRANSPORT_UDP;
		return POLICY_OK;
	case 2:
		*out = POLICY_TRANSPORT_UDP_RTJ_TCP_OTHER;
		return POLICY_OK;
	}
	return POLICY_E_VALUE;
}

/*
 * One Registration entry of ours. Returns 1 when it names something this library does not
 * implement (another suite, an unknown de-registration protocol): RFC 4534 §3 has the member
 * skip to the next entry. `keep` stores the result in tok, else it is only validated.
 */
static int decode_registration(const P_REGISTRATION *r, struct policy_token *tok, bool keep,
		const char *path, const struct policy_nids *ids, char *err)
{
	struct policy_registration reg = { 0 };
	struct acl roles[POLICY_ROLE_COUNT];
	const P_ACL *acls[POLICY_ROLE_COUNT];
	P_REGINFO *ri = NULL;
	P_DEREGINFO *di = NULL;
	char p[160];
	uint64_t v = 0;
	int rc;

	memset(roles, 0, sizeof(roles));
	snprintf(p, sizeof(p), "%s.register", path);
	rc = decode_info(r->reg->d.supported->info, ASN1_ITEM_rptr(P_REGINFO), p,
			(ASN1_VALUE **)&ri, err);
	if (rc != POLICY_OK)
		goto out;
	if (nid_of(ri->suite) != ids->suite1) {
		rc = 1;
		goto out;
	}
	acls[POLICY_ROLE_GCKS] = ri->gcks;
	acls[POLICY_ROLE_SUBGCKS] = ri->subgcks;
	acls[POLICY_ROLE_SENDER] = ri->senders;
	acls[POLICY_ROLE_MEMBER] = ri->members;
	for (int k = 0; k < POLICY_ROLE_COUNT; k++) {
		snprintf(p, sizeof(p), "%s.register.%s.accessRule", path,
				policy_role_key((enum policy_role)k));
		rc = decode_list(acls[k]->allow, &roles[k].allow, &roles[k].nb_allow, p, err);
		if (rc != POLICY_OK)
			goto out;
		snprintf(p, sizeof(p), "%s.register.%s.exclusionsRule", path,
				policy_role_key((enum policy_role)k));
		rc = decode_list(acls[k]->exclude, &roles[k].exclude, &roles[k].nb_exclude, p,
				err);
		if (rc != POLICY_OK)
			goto out;
	}
	if (roles[POLICY_ROLE_GCKS].nb_allow == 0) {
		rc = policy_fail(err, POLICY_E_VALUE, "%s.register.gcks.accessRule: expected at "
				"least one rule (someone must be able to run the group)", path);
		goto out;
	}
	if (decode_transport(ri->transport, &reg.transport) != POLICY_OK) {
		rc = policy_fail(err, POLICY_E_VALUE, "%s.register.transport: unknown", path);
		goto out;
	}
	snprintf(p, sizeof(p), "%s.register.timeout", path);
	rc = get_u64(ri->timeout, 1, MAX_TIMEOUT, &v, p, err);
	if (rc != POLICY_OK)
		goto out;
	reg.timeout_seconds = (uint32_t)v;

	if (r->dereg->type == GMP_SUPPORTED) {
		if (nid_of(r->dereg->d.supported->oid) != ids->dereg) {
			rc = 1;
			goto out;
		}
		snprintf(p, sizeof(p), "%s.de-register", path);
		rc = decode_info(r->dereg->d.supported->info, ASN1_ITEM_rptr(P_DEREGINFO), p,
				(ASN1_VALUE **)&di, err);
		if (rc != POLICY_OK)
			goto out;
		if (decode_transport(di->transport, &reg.dereg_transport) != POLICY_OK) {
			rc = policy_fail(err, POLICY_E_VALUE, "%s.de-register.transport: unknown",
					path);
			goto out;
		}
		reg.deregistration = true;
	}
	if (keep) {
		tok->has_reg = true;
		tok->reg = reg;
		memcpy(tok->roles, roles, sizeof(roles));
		memset(roles, 0, sizeof(roles));
	}
	rc = POLICY_OK;
out:
	for (int k = 0; k < POLICY_ROLE_COUNT; k++) {
		free(roles[k].allow);
		free(roles[k].exclude);
	}
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(P_REGINFO));
	ASN1_item_free((ASN1_VALUE *)di, ASN1_ITEM_rptr(P_DEREGINFO));
	return rc;
}

/* ------------------------------------------------------------------ decode: rekey */

static int get_interval(const P_LIFEDATE *ld, uint32_t lo, uint32_t *out, const char *path,
		char *err)
{
	if (ld->type != LD_INTERVAL)
		return policy_fail(err, POLICY_E_VALUE, "%s: expected an interval (INTEGER "
				"seconds), "
				"got an absolute time", path);
	return get_u32(ld->d.interval, lo, MAX_INTERVAL, out, path, err);
}

static int decode_rekey(const P_PROTOCOL *proto, struct policy_token *tok, bool keep,
		const char *path, const struct policy_nids *ids, char *err)
{
	struct policy_rekey rk = { 0 };
	P_REKEYINFO *ri = NULL;
	P_LKHINFO *lkh = NULL;
	ASN1_VALUE *rel = NULL;
	const ASN1_ITEM *rel_it = NULL;
	char p[160];
	uint32_t v;
	int rc, nid;

	rc = decode_info(proto->info, ASN1_ITEM_rptr(P_REKEYINFO), path, (ASN1_VALUE **)&ri, err);
	if (rc != POLICY_OK)
		goto out;
	if (nid_of(ri->method->oid) != ids->rekey_lkh) {
		rc = 1;         /* a rekey method we do not implement: try the next entry */
		goto out;
	}
	rk.method = POLICY_REKEY_LKH;
	snprintf(p, sizeof(p), "%s.rekeyMethod", path);
	rc = decode_info(ri->method->info, ASN1_ITEM_rptr(P_LKHINFO), p, (ASN1_VALUE **)&lkh,
			err);
	if (rc != POLICY_OK)
		goto out;
	snprintf(p, sizeof(p), "%s.rekeyMethod.degree", path);
	rc = get_u32(lkh->degree, 2, MAX_DEGREE, &v, p, err);
	if (rc != POLICY_OK)
		goto out;
	rk.degree = (uint8_t)v;
	nid = nid_of(lkh->wrap);
	if (nid == NID_id_aes256_wrap) {
		rk.key_wrap = POLICY_WRAP_AES256_KW;
	} else if (nid == NID_aes_256_gcm) {
		rk.key_wrap = POLICY_WRAP_AES256_GCM;
	} else {
		rc = policy_fail(err, POLICY_E_VALUE, "%s.rekeyMethod.keyWrap: expected "
				"id-aes256-wrap or id-aes256-GCM", path);
		goto out;
	}

	snprintf(p, sizeof(p), "%s.rekeyEventDef", path);
	switch (ri->event_def->type) {
	case EV_NONE:
		break;
	case EV_TIME:
		rc = get_interval(ri->event_def->d.time, 1, &rk.period_seconds, p, err);
		break;
	case EV_EVENT:
		rc = get_u32(ri->event_def->d.event, 1, MAX_INTERVAL, &rk.events, p, err);
		break;
	case EV_BOTH:
		rc = get_interval(ri->event_def->d.both->time, 1, &rk.period_seconds, p, err);
		if (rc == POLICY_OK)
			rc = get_u32(ri->event_def->d.both->event, 1, MAX_INTERVAL, &rk.events, p,
					err);
		break;
	}
	if (rc != POLICY_OK)
		goto out;
	snprintf(p, sizeof(p), "%s.rekeyInterval", path);
	rc = get_interval(ri->interval, MIN_SILENCE, &rk.max_silence_seconds, p, err);
	if (rc != POLICY_OK)
		goto out;

	/* Reliability: RFC 4534 B.5's OIDs; content NULL, INTEGER count or IA5String */
	snprintf(p, sizeof(p), "%s.reliability", path);
	nid = nid_of(ri->reliability->oid);
	if (nid == ids->rel_none)
		rel_it = ASN1_ITEM_rptr(ASN1_NULL);
	else if (nid == ids->rel_resend)
		rel_it = ASN1_ITEM_rptr(ASN1_INTEGER);
	else if (nid == ids->rel_post)
		rel_it = ASN1_ITEM_rptr(ASN1_IA5STRING);
	if (rel_it == NULL) {
		rc = 1;
		goto out;
	}
	rc = decode_info(ri->reliability->info, rel_it, p, &rel, err);
	if (rc != POLICY_OK)
		goto out;
	if (nid == ids->rel_none) {
		rk.reliability = POLICY_REL_NONE;
	} else if (nid == ids->rel_resend) {
		rk.reliability = POLICY_REL_RESEND;
		rc = get_u32((ASN1_INTEGER *)rel, 1, MAX_RESEND, &rk.resend_count, p, err);
		if (rc != POLICY_OK)
			goto out;
	} else {
		const ASN1_IA5STRING *s = (const ASN1_IA5STRING *)rel;

		rk.reliability = POLICY_REL_POST;
		if (s->length < 1 || s->length >= POLICY_URL_MAX) {
			rc = policy_fail(err, POLICY_E_VALUE, "%s: expected a location of 1..%d "
					"characters", p, POLICY_URL_MAX - 1);
			goto out;
		}
		for (int i = 0; i < s->length; i++)
			if (s->data[i] <= 0x20 || s->data[i] >= 0x7f) {
				rc = policy_fail(err, POLICY_E_VALUE, "%s: expected printable "
						"ASCII without spaces", p);
				goto out;
			}
		memcpy(rk.post_url, s->data, (size_t)s->length);
	}
	if (keep) {
		tok->has_rekey = true;
		tok->rekey = rk;
	}
	rc = POLICY_OK;
out:
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(P_REKEYINFO));
	ASN1_item_free((ASN1_VALUE *)lkh, ASN1_ITEM_rptr(P_LKHINFO));
	if (rel != NULL)
		ASN1_item_free(rel, rel_it);
	return rc;
}

/* ------------------------------------------------------------------ decode: data */

static bool is_multicast(uint8_t family, const uint8_t *a)
{
	return family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

static int decode_data(const P_PROTOCOL *proto, struct policy_data_sa *sa, const char *path,
		char *err)
{
	P_MESPINFO *m = NULL;
	char p[160];
	uint32_t v = 0;
	int rc;

	memset(sa, 0, sizeof(*sa));
	rc = decode_info(proto->info, ASN1_ITEM_rptr(P_MESPINFO), path, (ASN1_VALUE **)&m, err);
	if (rc != POLICY_OK)
		return rc;
#define FIELD(name) (snprintf(p, sizeof(p), "%s.%s", path, name), p)
	rc = get_u32(m->suite, POLICY_SUITE_AES_GCM_128, POLICY_SUITE_AES_CTR_128_HMAC_SHA256_128,
			&v, FIELD("suite"), err);
	if (rc != POLICY_OK)
		goto out;
	sa->suite = (enum policy_suite)v;
	rc = get_bool(m->tesla, &sa->tesla, FIELD("tesla"), err);
	if (rc != POLICY_OK)
		goto out;
	rc = get_u32(m->sid_bits, 8, 16, &v, FIELD("senderIdBits"), err);
	if (rc == POLICY_OK && v != 8 && v != 12 && v != 16)
		rc = policy_fail(err, POLICY_E_VALUE, "%s: expected 8, 12 or 16, got %u", p, v);
	if (rc != POLICY_OK)
		goto out;
	sa->sid_bits = (uint8_t)v;
	rc = get_u32(m->replay_window, 0, MAX_REPLAY_WINDOW, &sa->replay_window,
			FIELD("replayWindow"), err);
	if (rc != POLICY_OK)
		goto out;
	rc = get_bool(m->esn, &sa->esn, FIELD("esn"), err);
	if (rc != POLICY_OK)
		goto out;
	rc = get_u32(m->ap, POLICY_AP_NONE, POLICY_AP_SRC_DST, &v, FIELD("addressPreservation"),
			err);
	if (rc != POLICY_OK)
		goto out;
	sa->ap = (enum policy_ap)v;
	rc = get_u32(m->direction, POLICY_DIR_SENDERS, POLICY_DIR_SYMMETRIC, &v,
			FIELD("direction"), err);
	if (rc != POLICY_OK)
		goto out;
	sa->direction = (enum policy_direction)v;
	rc = get_u32(m->atd, 0, MAX_DELAY_MS, &sa->activation_delay_ms, FIELD("activationDelay"),
			err);
	if (rc != POLICY_OK)
		goto out;
	rc = get_u32(m->dtd, sa->activation_delay_ms, MAX_DELAY_MS, &sa->deactivation_delay_ms,
			FIELD("deactivationDelay"), err);
	if (rc != POLICY_OK)
		goto out;
	rc = get_u32(m->lifetime, 0, MAX_INTERVAL, &sa->lifetime_seconds, FIELD("lifetime"), err);
	if (rc != POLICY_OK)
		goto out;
	if (m->group->length != 4 && m->group->length != 16) {
		rc = policy_fail(err, POLICY_E_VALUE, "%s: expected a 4- or 16-byte address, got "
				"%d bytes", FIELD("groupAddress"), m->group->length);
		goto out;
	}
	sa->family = m->group->length == 4 ? AF_INET : AF_INET6;
	memcpy(sa->group, m->group->data, (size_t)m->group->length);
	if (!is_multicast(sa->family, sa->group)) {
		rc = policy_fail(err, POLICY_E_VALUE, "%s: expected a multicast address",
				FIELD("groupAddress"));
		goto out;
	}
	if (m->source != NULL) {
		if (m->source->length != m->group->length) {
			rc = policy_fail(err, POLICY_E_VALUE, "%s: expected a %d-byte address like "
					"the group's, got %d bytes", FIELD("sourceAddress"),
					m->group->length, m->source->length);
			goto out;
		}
		memcpy(sa->source, m->source->data, (size_t)m->source->length);
		if (is_multicast(sa->family, sa->source)) {
			rc = policy_fail(err, POLICY_E_VALUE, "%s: expected a unicast address",
					FIELD("sourceAddress"));
			goto out;
		}
		sa->has_source = true;
	}
#undef FIELD
out:
	ASN1_item_free((ASN1_VALUE *)m, ASN1_ITEM_rptr(P_MESPINFO));
	return rc;
}

/* ------------------------------------------------------------------ decode: token */

static bool name_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		ch == '.' || ch == '_' || ch == '-';
}

static int decode_info_fields(const P_TOKENID *ti, struct policy_token *tok, char *err)
{
	uint64_t v = 0;
	int rc;

	rc = get_u64(ti->version, 0, UINT64_MAX, &v, "tokenInfo.tokenDefVersion", err);
	if (rc != POLICY_OK || v != 1)
		return policy_fail(err, POLICY_E_VERSION, "tokenInfo.tokenDefVersion: expected 1 "
				"(RFC 4534)");
	if (ti->group_name->length < 1 || ti->group_name->length >= POLICY_NAME_MAX)
		return policy_fail(err, POLICY_E_VALUE, "tokenInfo.groupName: expected 1..%d "
				"characters, got %d", POLICY_NAME_MAX - 1, ti->group_name->length);
	for (int i = 0; i < ti->group_name->length; i++)
		if (!name_char(ti->group_name->data[i]))
			return policy_fail(err, POLICY_E_VALUE, "tokenInfo.groupName: expected "
					"characters from A-Z a-z 0-9 . _ -");
	memcpy(tok->group_name, ti->group_name->data, (size_t)ti->group_name->length);
	if (ti->edition == NULL)
		return policy_fail(err, POLICY_E_VALUE, "tokenInfo.edition: missing (RFC 4534 "
				"makes "
				"it optional; msecgw requires it to order tokens)");
	rc = get_u64(ti->edition, 1, INT64_MAX, &tok->edition, "tokenInfo.edition", err);
	if (rc != POLICY_OK)
		return rc;
	if (ti->group_id->length != POLICY_GROUP_ID_LEN)
		return policy_fail(err, POLICY_E_VALUE, "tokenInfo.groupId: expected %d bytes, got "
				"%d", POLICY_GROUP_ID_LEN, ti->group_id->length);
	memcpy(tok->group_id, ti->group_id->data, POLICY_GROUP_ID_LEN);
	rc = get_gentime(ti->validity->not_before, &tok->not_before,
			"tokenInfo.validity.notBefore", err);
	if (rc == POLICY_OK)
		rc = get_gentime(ti->validity->not_after, &tok->not_after,
				"tokenInfo.validity.notAfter", err);
	if (rc != POLICY_OK)
		return rc;
	if (tok->not_after <= tok->not_before)
		return policy_fail(err, POLICY_E_VALUE, "tokenInfo.validity: notAfter is not after "
				"notBefore");
	return POLICY_OK;
}

int policy_content_decode(const uint8_t *der, size_t len, struct policy_token *tok, char *err)
{
	const struct policy_nids *ids = policy_init();
	P_TOKEN *t = NULL;
	char path[64];
	int rc, n;

	if (ids == NULL)
		return policy_fail(err, POLICY_E_CRYPTO, "cannot register the token OIDs");
	rc = decode_item(ASN1_ITEM_rptr(P_TOKEN), der, len, "token content", (ASN1_VALUE **)&t,
			err);
	if (rc != POLICY_OK)
		return rc;
	rc = decode_info_fields(t->info, tok, err);
	if (rc != POLICY_OK)
		goto out;

	n = sk_P_REGISTRATION_num(t->registration);
	if (n > MAX_REG_ENTRIES) {
		rc = policy_fail(err, POLICY_E_VALUE, "registration: expected at most %d entries, "
				"got %d", MAX_REG_ENTRIES, n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const P_REGISTRATION *r = sk_P_REGISTRATION_value(t->registration, i);

		snprintf(path, sizeof(path), "registration[%d]", i);
		if (r->reg->type != GMP_SUPPORTED || nid_of(r->reg->d.supported->oid) != ids->reg) {
			tok->nb_reg_unknown++;
			continue;
		}
		rc = decode_registration(r, tok, !tok->has_reg, path, ids, err);
		if (rc < 0)
			goto out;
		if (rc > 0)
			tok->nb_reg_unknown++;
	}

	n = sk_P_GMP_num(t->rekey);
	if (n > MAX_REKEY_ENTRIES) {
		rc = policy_fail(err, POLICY_E_VALUE, "rekey: expected at most %d entries, got %d",
				MAX_REKEY_ENTRIES, n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const P_GMP *g = sk_P_GMP_value(t->rekey, i);

		snprintf(path, sizeof(path), "rekey[%d]", i);
		if (g->type == GMP_NONE) {
			if (!tok->has_rekey) {
				tok->has_rekey = true;
				memset(&tok->rekey, 0, sizeof(tok->rekey));
				tok->rekey.method = POLICY_REKEY_NONE;
			}
			continue;
		}
		if (nid_of(g->d.supported->oid) != ids->rekey) {
			tok->nb_rekey_unknown++;
			continue;
		}
		rc = decode_rekey(g->d.supported, tok, !tok->has_rekey, path, ids, err);
		if (rc < 0)
			goto out;
		if (rc > 0)
			tok->nb_rekey_unknown++;
	}

	n = sk_P_PROTOCOL_num(t->data);
	if (n < 1 || n > POLICY_MAX_DATA) {
		rc = policy_fail(err, POLICY_E_VALUE, "data: expected 1..%d data protocols, got %d",
				POLICY_MAX_DATA, n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const P_PROTOCOL *d = sk_P_PROTOCOL_value(t->data, i);

		snprintf(path, sizeof(path), "data[%d]", i);
		if (nid_of(d->oid) != ids->data_mesp) {
			char oid[96];

			oid_text(d->oid, oid);
			/* RFC 4534 §3.4: a member must implement every data protocol listed */
			rc = policy_fail(err, POLICY_E_UNSUPPORTED, "%s: data protocol %s is not "
					"implemented, and a member must implement them all", path,
					oid);
			goto out;
		}
		rc = decode_data(d, &tok->data[i], path, err);
		if (rc != POLICY_OK)
			goto out;
		tok->nb_data++;
	}
	rc = POLICY_OK;
out:
	ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(P_TOKEN));
	if (rc != POLICY_OK)
		policy_token_clear(tok);
	return rc;
}

/* ------------------------------------------------------------------ encode */

static int set_u64(ASN1_INTEGER **a, uint64_t v)
{
	if (*a == NULL && (*a = ASN1_INTEGER_new()) == NULL)
		return -1;
	return ASN1_INTEGER_set_uint64(*a, v) == 1 ? 0 : -1;
}

static int set_os(ASN1_OCTET_STRING **s, const void *p, size_t n)
{
	if (*s == NULL && (*s = ASN1_OCTET_STRING_new()) == NULL)
		return -1;
	return ASN1_OCTET_STRING_set(*s, p, (int)n) == 1 ? 0 : -1;
}

static int set_gentime(ASN1_GENERALIZEDTIME **t, int64_t v)
{
	if (v < 0 || v > GENTIME_MAX)
		return -1;
	return ASN1_GENERALIZEDTIME_set(*t, (time_t)v) != NULL ? 0 : -1;
}

/* protocol := { oid, DER(val) } */
static int set_protocol(P_PROTOCOL *p, int nid, const ASN1_ITEM *it, const void *val)
{
	unsigned char *buf = NULL;
	int n, rc;

	p->oid = OBJ_nid2obj(nid);
	if (p->oid == NULL)
		return -1;
	n = ASN1_item_i2d((const ASN1_VALUE *)val, &buf, it);
	if (n < 0)
		return -1;
	rc = set_os(&p->info, buf, (size_t)n);
	OPENSSL_free(buf);
	return rc;
}

static int set_transport(P_TRANSPORT *t, enum policy_transport tr)
{
	ASN1_NULL *n = ASN1_NULL_new();

	if (n == NULL)
		return -1;
	switch (tr) {
	case POLICY_TRANSPORT_TCP:
		t->type = 0;
		t->d.tcp = n;
		break;
	case POLICY_TRANSPORT_UDP:
		t->type = 1;
		t->d.udp = n;
		break;
	case POLICY_TRANSPORT_UDP_RTJ_TCP_OTHER:
		t->type = 2;
		t->d.rtj = n;
		break;
	default:
		ASN1_NULL_free(n);
		return -1;
	}
	return 0;
}

static int encode_list(STACK_OF(P_USERCA) **sk, const struct pattern *pats, uint16_t nb)
{
	if (*sk == NULL && (*sk = sk_P_USERCA_new_null()) == NULL)
		return -1;
	for (uint16_t i = 0; i < nb; i++) {
		const struct pattern *p = &pats[i];
		P_USERCA *u = (P_USERCA *)ASN1_item_new(ASN1_ITEM_rptr(P_USERCA));
		int bad;

		if (u == NULL)
			return -1;
		if (sk_P_USERCA_push(*sk, u) <= 0) {
			ASN1_item_free((ASN1_VALUE *)u, ASN1_ITEM_rptr(P_USERCA));
			return -1;
		}
		bad = set_u64(&u->entity->type, p->type);
		if (p->type == PAT_IPV4 || p->type == PAT_IPV6)
			bad |= set_os(&u->entity->data, p->addr, p->addr_len);
		else
			bad |= set_os(&u->entity->data, p->text, strlen(p->text));
		bad |= set_os(&u->ca, p->keyid, p->keyid_len);
		if (p->issuer[0] != '\0') {
			u->issuer = ASN1_UTF8STRING_new();
			bad |= u->issuer == NULL ||
				ASN1_STRING_set(u->issuer, p->issuer, (int)strlen(p->issuer)) != 1;
		}
		if (bad)
			return -1;
	}
	return 0;
}

static int encode_registration(const struct policy_token *tok, P_TOKEN *t,
		const struct policy_nids *ids)
{
	P_REGISTRATION *r = (P_REGISTRATION *)ASN1_item_new(ASN1_ITEM_rptr(P_REGISTRATION));
	P_REGINFO *ri = (P_REGINFO *)ASN1_item_new(ASN1_ITEM_rptr(P_REGINFO));
	P_DEREGINFO *di = (P_DEREGINFO *)ASN1_item_new(ASN1_ITEM_rptr(P_DEREGINFO));
	P_ACL *acls[POLICY_ROLE_COUNT];
	int rc = -1;

	if (r == NULL || ri == NULL || di == NULL)
		goto out;
	if (sk_P_REGISTRATION_push(t->registration, r) <= 0)
		goto out;
	acls[POLICY_ROLE_GCKS] = ri->gcks;
	acls[POLICY_ROLE_SUBGCKS] = ri->subgcks;
	acls[POLICY_ROLE_SENDER] = ri->senders;
	acls[POLICY_ROLE_MEMBER] = ri->members;
	for (int k = 0; k < POLICY_ROLE_COUNT; k++) {
		if (encode_list(&acls[k]->allow, tok->roles[k].allow, tok->roles[k].nb_allow) != 0)
			goto out_pushed;
		/* exclusionsRule is OPTIONAL: absent when empty, the DER of an empty list */
		if (tok->roles[k].nb_exclude > 0 && encode_list(&acls[k]->exclude,
				tok->roles[k].exclude, tok->roles[k].nb_exclude) != 0)
			goto out_pushed;
	}
	ri->suite = OBJ_nid2obj(ids->suite1);
	if (ri->suite == NULL || set_transport(ri->transport, tok->reg.transport) != 0 ||
			set_u64(&ri->timeout, tok->reg.timeout_seconds) != 0)
		goto out_pushed;

	r->reg->type = GMP_SUPPORTED;
	r->reg->d.supported = (P_PROTOCOL *)ASN1_item_new(ASN1_ITEM_rptr(P_PROTOCOL));
	if (r->reg->d.supported == NULL ||
			set_protocol(r->reg->d.supported, ids->reg, ASN1_ITEM_rptr(P_REGINFO), ri))
		goto out_pushed;
	if (tok->reg.deregistration) {
		if (set_transport(di->transport, tok->reg.dereg_transport) != 0)
			goto out_pushed;
		r->dereg->type = GMP_SUPPORTED;
		r->dereg->d.supported = (P_PROTOCOL *)ASN1_item_new(ASN1_ITEM_rptr(P_PROTOCOL));
		if (r->dereg->d.supported == NULL || set_protocol(r->dereg->d.supported, ids->dereg,
				ASN1_ITEM_rptr(P_DEREGINFO), di))
			goto out_pushed;
	} else {
		r->dereg->type = GMP_NONE;
		r->dereg->d.none = ASN1_NULL_new();
		if (r->dereg->d.none == NULL)
			goto out_pushed;
	}
	rc = 0;
out_pushed:
	r = NULL;       /* owned by t now */
out:
	ASN1_item_free((ASN1_VALUE *)r, ASN1_ITEM_rptr(P_REGISTRATION));
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(P_REGINFO));
	ASN1_item_free((ASN1_VALUE *)di, ASN1_ITEM_rptr(P_DEREGINFO));
	return rc;
}

static P_LIFEDATE *interval_new(uint32_t secs)
{
	P_LIFEDATE *ld = (P_LIFEDATE *)ASN1_item_new(ASN1_ITEM_rptr(P_LIFEDATE));

	if (ld == NULL)
		return NULL;
	ld->type = LD_INTERVAL;
	ld->d.interval = NULL;
	if (set_u64(&ld->d.interval, secs) != 0) {
		ASN1_item_free((ASN1_VALUE *)ld, ASN1_ITEM_rptr(P_LIFEDATE));
		return NULL;
	}
	return ld;
}

static int encode_rekey(const struct policy_rekey *rk, P_GMP *g, const struct policy_nids *ids)
{
	P_REKEYINFO *ri = (P_REKEYINFO *)ASN1_item_new(ASN1_ITEM_rptr(P_REKEYINFO));
	P_LKHINFO *lkh = (P_LKHINFO *)ASN1_item_new(ASN1_ITEM_rptr(P_LKHINFO));
	ASN1_INTEGER *count = NULL;
	ASN1_IA5STRING *url = NULL;
	ASN1_NULL *null = NULL;
	P_REKEYEVENT *ev;
	int rc = -1;

	if (ri == NULL || lkh == NULL)
		goto out;
	ev = ri->event_def;
	if (rk->period_seconds > 0 && rk->events > 0) {
		ev->type = EV_BOTH;
		ev->d.both = (P_TIMEEVENT *)ASN1_item_new(ASN1_ITEM_rptr(P_TIMEEVENT));
		if (ev->d.both == NULL)
			goto out;
		ASN1_item_free((ASN1_VALUE *)ev->d.both->time, ASN1_ITEM_rptr(P_LIFEDATE));
		ev->d.both->time = interval_new(rk->period_seconds);
		if (ev->d.both->time == NULL || set_u64(&ev->d.both->event, rk->events) != 0)
			goto out;
	} else if (rk->period_seconds > 0) {
		ev->type = EV_TIME;
		ev->d.time = interval_new(rk->period_seconds);
		if (ev->d.time == NULL)
			goto out;
	} else if (rk->events > 0) {
		ev->type = EV_EVENT;
		ev->d.event = NULL;
		if (set_u64(&ev->d.event, rk->events) != 0)
			goto out;
	} else {
		ev->type = EV_NONE;
		ev->d.none = ASN1_NULL_new();
		if (ev->d.none == NULL)
			goto out;
	}

	if (set_u64(&lkh->degree, rk->degree) != 0)
		goto out;
	lkh->wrap = OBJ_nid2obj(rk->key_wrap == POLICY_WRAP_AES256_GCM ? NID_aes_256_gcm :
			NID_id_aes256_wrap);
	if (set_protocol(ri->method, ids->rekey_lkh, ASN1_ITEM_rptr(P_LKHINFO), lkh) != 0)
		goto out;

	ASN1_item_free((ASN1_VALUE *)ri->interval, ASN1_ITEM_rptr(P_LIFEDATE));
	ri->interval = interval_new(rk->max_silence_seconds);
	if (ri->interval == NULL)
		goto out;

	switch (rk->reliability) {
	case POLICY_REL_NONE:
		null = ASN1_NULL_new();
		if (null == NULL || set_protocol(ri->reliability, ids->rel_none,
				ASN1_ITEM_rptr(ASN1_NULL), null) != 0)
			goto out;
		break;
	case POLICY_REL_RESEND:
		if (set_u64(&count, rk->resend_count) != 0 || set_protocol(ri->reliability,
				ids->rel_resend, ASN1_ITEM_rptr(ASN1_INTEGER), count) != 0)
			goto out;
		break;
	case POLICY_REL_POST:
		url = ASN1_IA5STRING_new();
		if (url == NULL || ASN1_STRING_set(url, rk->post_url,
				(int)strlen(rk->post_url)) != 1 || set_protocol(ri->reliability,
				ids->rel_post, ASN1_ITEM_rptr(ASN1_IA5STRING), url) != 0)
			goto out;
		break;
	default:
		goto out;
	}

	g->type = GMP_SUPPORTED;
	g->d.supported = (P_PROTOCOL *)ASN1_item_new(ASN1_ITEM_rptr(P_PROTOCOL));
	if (g->d.supported == NULL ||
			set_protocol(g->d.supported, ids->rekey, ASN1_ITEM_rptr(P_REKEYINFO), ri))
		goto out;
	rc = 0;
out:
	ASN1_item_free((ASN1_VALUE *)ri, ASN1_ITEM_rptr(P_REKEYINFO));
	ASN1_item_free((ASN1_VALUE *)lkh, ASN1_ITEM_rptr(P_LKHINFO));
	ASN1_INTEGER_free(count);
	ASN1_IA5STRING_free(url);
	ASN1_NULL_free(null);
	return rc;
}

static int encode_data(const struct policy_data_sa *sa, P_PROTOCOL *p,
		const struct policy_nids *ids)
{
	P_MESPINFO *m = (P_MESPINFO *)ASN1_item_new(ASN1_ITEM_rptr(P_MESPINFO));
	size_t alen = sa->family == AF_INET ? 4 : 16;
	int bad;

	if (m == NULL)
		return -1;
	bad = set_u64(&m->suite, sa->suite);
	m->tesla = sa->tesla ? 0xff : 0;
	bad |= set_u64(&m->sid_bits, sa->sid_bits);
	bad |= set_u64(&m->replay_window, sa->replay_window);
	m->esn = sa->esn ? 0xff : 0;
	bad |= set_u64(&m->ap, sa->ap);
	bad |= set_u64(&m->direction, sa->direction);
	bad |= set_u64(&m->atd, sa->activation_delay_ms);
	bad |= set_u64(&m->dtd, sa->deactivation_delay_ms);
	bad |= set_u64(&m->lifetime, sa->lifetime_seconds);
	bad |= set_os(&m->group, sa->group, alen);
	if (sa->has_source)
		bad |= set_os(&m->source, sa->source, alen);
	if (!bad)
		bad = set_protocol(p, ids->data_mesp, ASN1_ITEM_rptr(P_MESPINFO), m);
	ASN1_item_free((ASN1_VALUE *)m, ASN1_ITEM_rptr(P_MESPINFO));
	return bad ? -1 : 0;
}

int policy_content_encode(const struct policy_token *tok, uint8_t **der, size_t *len, char *err)
{
	const struct policy_nids *ids = policy_init();
	P_TOKEN *t;
	unsigned char *buf = NULL;
	int n, bad;

	if (ids == NULL)
		return policy_fail(err, POLICY_E_CRYPTO, "cannot register the token OIDs");
	t = (P_TOKEN *)ASN1_item_new(ASN1_ITEM_rptr(P_TOKEN));
	if (t == NULL)
		return policy_fail(err, POLICY_E_NOMEM, "out of memory");
	bad = set_u64(&t->info->version, 1);
	bad |= set_os(&t->info->group_name, tok->group_name, strlen(tok->group_name));
	bad |= set_u64(&t->info->edition, tok->edition);
	bad |= set_os(&t->info->group_id, tok->group_id, POLICY_GROUP_ID_LEN);
	bad |= set_gentime(&t->info->validity->not_before, tok->not_before);
	bad |= set_gentime(&t->info->validity->not_after, tok->not_after);
	if (!bad && tok->has_reg)
		bad = encode_registration(tok, t, ids);
	if (!bad && tok->has_rekey) {
		P_GMP *g = (P_GMP *)ASN1_item_new(ASN1_ITEM_rptr(P_GMP));

		if (g == NULL || sk_P_GMP_push(t->rekey, g) <= 0) {
			ASN1_item_free((ASN1_VALUE *)g, ASN1_ITEM_rptr(P_GMP));
			bad = 1;
		} else if (tok->rekey.method == POLICY_REKEY_NONE) {
			g->type = GMP_NONE;
			g->d.none = ASN1_NULL_new();
			bad = g->d.none == NULL;
		} else {
			bad = encode_rekey(&tok->rekey, g, ids);
		}
	}
	for (uint16_t i = 0; !bad && i < tok->nb_data; i++) {
		P_PROTOCOL *p = (P_PROTOCOL *)ASN1_item_new(ASN1_ITEM_rptr(P_PROTOCOL));

		if (p == NULL || sk_P_PROTOCOL_push(t->data, p) <= 0) {
			ASN1_item_free((ASN1_VALUE *)p, ASN1_ITEM_rptr(P_PROTOCOL));
			bad = 1;
		} else {
			bad = encode_data(&tok->data[i], p, ids);
		}
	}
	n = bad ? -1 : ASN1_item_i2d((ASN1_VALUE *)t, &buf, ASN1_ITEM_rptr(P_TOKEN));
	ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(P_TOKEN));
	if (n < 0) {
		ERR_clear_error();
		return policy_fail(err, POLICY_E_CRYPTO, "cannot encode the token content");
	}
	*der = buf;
	*len = (size_t)n;
	return POLICY_OK;
}
