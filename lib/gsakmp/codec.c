/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GSAKMP message decoder (RFC 4535 §7). Three passes, each only on what the previous one
 * proved: (1) the header, (2) the payload chain, lengths only, (3) each payload body, then the
 * exchange's dissection (§5) over the payload list. Nothing is read before its length is known
 * to be inside the buffer.
 */
#include <string.h>

#include "gsakmp_pvt.h"

/* Payload types of RFC 4535 Table 12; 5 and 7 are reserved. */
static const bool known_pl[GSAKMP_PL_TYPE_MAX] = {
	[GSAKMP_PL_POLICY_TOKEN] = true, [GSAKMP_PL_KEY_DOWNLOAD] = true,
	[GSAKMP_PL_REKEY_EVENT] = true, [GSAKMP_PL_ID] = true, [GSAKMP_PL_CERT] = true,
	[GSAKMP_PL_SIGNATURE] = true, [GSAKMP_PL_NOTIFICATION] = true,
	[GSAKMP_PL_VENDOR_ID] = true, [GSAKMP_PL_KEY_CREATION] = true, [GSAKMP_PL_NONCE] = true,
};

#define ANY 0xff  /* no upper bound besides GSAKMP_MAX_PAYLOADS */
#define NB(t) (1u << (t))

/*
 * The dissection of each exchange (RFC 4535 §5, Table 13): how many payloads of each type,
 * whether it is signed, which nonce types it carries. Certificates may appear in any message
 * (§7.7.1).
 */
struct exch_rule {
	bool valid;
	bool sig;
	bool nonce_pair;               /* nonces absent, or exactly Nonce_R and Nonce_C */
	uint8_t nonce_types;           /* NB(type) of the nonce types allowed */
	uint8_t min[GSAKMP_PL_TYPE_MAX];
	uint8_t max[GSAKMP_PL_TYPE_MAX];
};

#define P(t) [GSAKMP_PL_##t]
static const struct exch_rule rules[16] = {
	[GSAKMP_EXCH_RTJ] = { .valid = true, .sig = true, .nonce_types = NB(GSAKMP_NONCE_I),
		.min = { P(KEY_CREATION) = 1, P(NONCE) = 1, P(SIGNATURE) = 1 },
		.max = { P(KEY_CREATION) = 1, P(NONCE) = 1, P(VENDOR_ID) = 1,
			P(NOTIFICATION) = 4, P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_KEYDL] = { .valid = true, .sig = true, .nonce_pair = true,
		.nonce_types = NB(GSAKMP_NONCE_R) | NB(GSAKMP_NONCE_C),
		.min = { P(ID) = 1, P(KEY_CREATION) = 1, P(POLICY_TOKEN) = 1,
			P(KEY_DOWNLOAD) = 1, P(SIGNATURE) = 1 },
		.max = { P(ID) = 1, P(NONCE) = 2, P(KEY_CREATION) = 1, P(POLICY_TOKEN) = 1,
			P(KEY_DOWNLOAD) = 1, P(VENDOR_ID) = 1, P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_KEYDL_ACK] = { .valid = true, .sig = true,
		.nonce_types = NB(GSAKMP_NONCE_C),
		.min = { P(NOTIFICATION) = 1, P(SIGNATURE) = 1 },
		.max = { P(NONCE) = 1, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1, P(CERT) = ANY,
			P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_REKEY] = { .valid = true, .sig = true,
		.min = { P(REKEY_EVENT) = 1, P(SIGNATURE) = 1 },
		.max = { P(POLICY_TOKEN) = 1, P(REKEY_EVENT) = ANY, P(VENDOR_ID) = 1,
			P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_COOKIE_DL] = { .valid = true,
		.min = { P(NOTIFICATION) = 1 },
		.max = { P(NOTIFICATION) = 1, P(VENDOR_ID) = 1, P(CERT) = ANY } },
	[GSAKMP_EXCH_RTJ_ERR] = { .valid = true, .nonce_types = NB(GSAKMP_NONCE_I),
		.min = { P(NOTIFICATION) = 1 },
		.max = { P(NONCE) = 1, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1, P(CERT) = ANY } },
	[GSAKMP_EXCH_LOA] = { .valid = true, .sig = true, .nonce_pair = true,
		.nonce_types = NB(GSAKMP_NONCE_R) | NB(GSAKMP_NONCE_C),
		.min = { P(ID) = 1, P(NOTIFICATION) = 1, P(SIGNATURE) = 1 },
		.max = { P(ID) = 1, P(NONCE) = 2, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1,
			P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_RTD] = { .valid = true, .sig = true, .nonce_types = NB(GSAKMP_NONCE_I),
		.min = { P(ID) = 1, P(NOTIFICATION) = 1, P(SIGNATURE) = 1 },
		.max = { P(ID) = 1, P(NONCE) = 1, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1,
			P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_DR] = { .valid = true, .sig = true, .nonce_pair = true,
		.nonce_types = NB(GSAKMP_NONCE_R) | NB(GSAKMP_NONCE_C),
		.min = { P(ID) = 1, P(NOTIFICATION) = 1, P(SIGNATURE) = 1 },
		.max = { P(ID) = 1, P(NONCE) = 2, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1,
			P(CERT) = ANY, P(SIGNATURE) = 1 } },
	[GSAKMP_EXCH_DA] = { .valid = true, .sig = true, .nonce_types = NB(GSAKMP_NONCE_C),
		.min = { P(NOTIFICATION) = 1, P(SIGNATURE) = 1 },
		.max = { P(NONCE) = 1, P(NOTIFICATION) = 1, P(VENDOR_ID) = 1, P(CERT) = ANY,
			P(SIGNATURE) = 1 } },
};
#undef P

static bool hexdigit(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* GroupID Value formats (RFC 4535 §7.1.1.1). */
static int gid_check(uint8_t type, const uint8_t *v, uint8_t len)
{
	switch (type) {
	case GSAKMP_GID_UTF8:
		if (len < 2 * GSAKMP_GID_RANDOM_LEN + 1)
			return -GSAKMP_E_GID_LENGTH;
		for (int i = 0; i < 2 * GSAKMP_GID_RANDOM_LEN; i++)
			if (!hexdigit(v[i]))
				return -GSAKMP_E_GID_VALUE;
		return 0;
	case GSAKMP_GID_OCTETS:
		return len >= GSAKMP_GID_RANDOM_LEN + 1 ? 0 : -GSAKMP_E_GID_LENGTH;
	case GSAKMP_GID_IPV4:
		return len == GSAKMP_GID_RANDOM_LEN + 4 ? 0 : -GSAKMP_E_GID_LENGTH;
	case GSAKMP_GID_IPV6:
		return len == GSAKMP_GID_RANDOM_LEN + 16 ? 0 : -GSAKMP_E_GID_LENGTH;
	default:
		return -GSAKMP_E_GID_TYPE;
	}
}

/* Exactly one DER SEQUENCE of definite, minimally encoded length (X.509, CRLs). */
static int der_check(const uint8_t *d, size_t len)
{
	size_t total, n, v = 0;

	if (len < 2)
		return -GSAKMP_E_CERT_TRUNCATED;
	if (d[0] != 0x30)
		return -GSAKMP_E_CERT_DER;
	if (d[1] < 0x80) {
		total = 2u + d[1];
	} else {
		n = d[1] & 0x7f;
		if (n == 0 || n > 3)  /* indefinite, or longer than any payload can be */
			return -GSAKMP_E_CERT_DER;
		if (len < 2 + n)
			return -GSAKMP_E_CERT_TRUNCATED;
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | d[2 + i];
		if (d[2] == 0 || v < 0x80)
			return -GSAKMP_E_CERT_DER;
		total = 2 + n + v;
	}
	if (total > len)
		return -GSAKMP_E_CERT_TRUNCATED;
	return total == len ? 0 : -GSAKMP_E_CERT_DER;
}

static bool id_type_known(uint8_t t)
{
	switch (t) {
	case GSAKMP_ID_IPV4_ADDR:
	case GSAKMP_ID_FQDN:
	case GSAKMP_ID_RFC822_ADDR:
	case GSAKMP_ID_IPV6_ADDR:
	case GSAKMP_ID_DER_ASN1_DN:
	case GSAKMP_ID_KEY_ID:
	case GSAKMP_ID_U_NAME:
	case GSAKMP_ID_DN_STRING:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ payload bodies */

static int dec_pt(const uint8_t *b, size_t n, struct gsakmp_pt *pt)
{
	if (n < 2)
		return -GSAKMP_E_MALFORMED;
	pt->type = get16(b);
	if (pt->type == 0 || n == 2)
		return -GSAKMP_E_PT_TYPE;
	pt->data = b + 2;
	pt->len = (uint16_t)(n - 2);
	return 0;
}

static int dec_kdl(const uint8_t *b, size_t n, struct gsakmp_kdl *kd)
{
	if (n < 2)  /* at least Number of Items */
		return -GSAKMP_E_MALFORMED;
	kd->body = b;
	kd->len = (uint16_t)n;
	return 0;
}

/* Rekey Event (§7.5): the header repeats the GroupID Value without its type or length. */
static int dec_rekey(const uint8_t *b, size_t n, const struct gsakmp_hdr *h,
		struct gsakmp_rekey *re)
{
	size_t L = h->gid_len, off;
	int rc;

	if (n < REKEY_FIXED + L)
		return -GSAKMP_E_MALFORMED;
	if (memcmp(b + 1, h->gid, L) != 0)
		return -GSAKMP_E_REKEY_GROUP;
	rc = gsakmp_time_parse(b + 1 + L, &re->timestamp);
	if (rc != 0)
		return rc;
	re->type = b[0];
	re->alg_version = b[L + 17];
	re->nb_data = get16(b + L + 18);
	if (b[L + 16] != re->type || re->type > GSAKMP_REKEY_LKH)
		return -GSAKMP_E_REKEY_TYPE;
	if (re->type == GSAKMP_REKEY_LKH && re->alg_version != 1)
		return -GSAKMP_E_REKEY_TYPE;
	if (re->type == GSAKMP_REKEY_NONE && re->nb_data != 0)
		return -GSAKMP_E_COUNT;
	off = REKEY_FIXED + L;
	re->data = b + off;
	re->data_len = (uint32_t)(n - off);
	for (uint16_t i = 0; i < re->nb_data; i++) {
		size_t plen;

		if (n - off < RED_HDR)
			return -GSAKMP_E_COUNT;
		plen = get16(b + off);
		if (plen < 2)
			return -GSAKMP_E_MALFORMED;
		if (plen > n - off - RED_HDR)
			return -GSAKMP_E_MALFORMED;
		off += RED_HDR + plen;
	}
	return off == n ? 0 : -GSAKMP_E_COUNT;
}

static int dec_id(const uint8_t *b, size_t n, struct gsakmp_id *id)
{
	if (n < 3)
		return -GSAKMP_E_MALFORMED;
	id->cls = b[0];
	id->type = b[1];
	id->data = b + 2;
	id->len = (uint16_t)(n - 2);
	if (id->cls > GSAKMP_IDC_THIRD_PARTY || !id_type_known(id->type))
		return -GSAKMP_E_ID_TYPE;
	switch (id->type) {
	case GSAKMP_ID_IPV4_ADDR:
		return id->len == 4 ? 0 : -GSAKMP_E_ID_TYPE;
	case GSAKMP_ID_IPV6_ADDR:
		return id->len == 16 ? 0 : -GSAKMP_E_ID_TYPE;
	case GSAKMP_ID_U_NAME:
		return gsakmp_id_u_name(id, NULL, NULL, NULL);
	default:
		return 0;
	}
}

static int dec_cert(const uint8_t *b, size_t n, struct gsakmp_cert *c)
{
	if (n < 3)
		return -GSAKMP_E_MALFORMED;
	c->type = get16(b);
	c->data = b + 2;
	c->len = (uint16_t)(n - 2);
	switch (c->type) {
	case 0:
		return -GSAKMP_E_CERT_TYPE;
	case GSAKMP_CERT_X509_SIG:
	case GSAKMP_CERT_CRL:
	case GSAKMP_CERT_X509_ATTR:
		return der_check(c->data, c->len);
	default:
		return 0;
	}
}

/* Signature (§7.8): coverage ends before the Signature Length field. */
static int dec_sig(const uint8_t *b, size_t n, size_t body_off, struct gsakmp_sig *s)
{
	size_t slen;
	int rc;

	if (n < SIG_FIXED + 1 + 2)
		return -GSAKMP_E_MALFORMED;
	s->type = get16(b);
	s->id_type = b[2];
	slen = get16(b + 18);
	if (slen == 0 || slen > n - SIG_FIXED - 2)
		return -GSAKMP_E_MALFORMED;
	s->signer = b + SIG_FIXED;
	s->signer_len = (uint16_t)slen;
	s->sig_len = get16(b + SIG_FIXED + slen);
	if (s->sig_len == 0 || s->sig_len != n - SIG_FIXED - slen - 2)
		return -GSAKMP_E_MALFORMED;
	s->sig = b + SIG_FIXED + slen + 2;
	s->signed_len = (uint32_t)(body_off + SIG_FIXED + slen);
	if (!id_type_known(s->id_type))
		return -GSAKMP_E_ID_TYPE;
	rc = gsakmp_time_parse(b + 3, &s->timestamp);
	if (rc != 0)
		return rc;
	switch (s->type) {
	case GSAKMP_SIG_DSS_SHA1:
	case GSAKMP_SIG_RSA1024_MD5:
	case GSAKMP_SIG_ECDSA_P384_SHA3:
		return 0;
	case GSAKMP_SIG_ECDSA_P256_SHA256:
	case GSAKMP_SIG_ED25519:
		return s->sig_len == GSAKMP_SIG_LEN ? 0 : -GSAKMP_E_SIG_LENGTH;
	default:
		return -GSAKMP_E_SIG_TYPE;
	}
}

static int dec_notify(const uint8_t *b, size_t n, struct gsakmp_notify *nt)
{
	if (n < 2)
		return -GSAKMP_E_MALFORMED;
	nt->type = get16(b);
	nt->data = b + 2;
	nt->len = (uint16_t)(n - 2);
	switch (nt->type) {
	case 0:
		return -GSAKMP_E_NOTIFY;
	case GSAKMP_N_ACK:
		/* Ack Type (1); a Simple ack has no more data (§7.9.1.1) */
		if (nt->len < 1 || (nt->data[0] == GSAKMP_ACK_SIMPLE && nt->len != 1))
			return -GSAKMP_E_NOTIFY;
		return 0;
	case GSAKMP_N_COOKIE_REQUIRED:
	case GSAKMP_N_COOKIE:
		return nt->len >= 1 && nt->len <= 64 ? 0 : -GSAKMP_E_NOTIFY;
	case GSAKMP_N_MECH_CHOICES:
		return nt->len >= 3 && nt->len % 3 == 0 ? 0 : -GSAKMP_E_NOTIFY;
	case GSAKMP_N_IPV4_VALUE:
		return nt->len == 4 ? 0 : -GSAKMP_E_NOTIFY;
	case GSAKMP_N_IPV6_VALUE:
		return nt->len == 16 ? 0 : -GSAKMP_E_NOTIFY;
	default:
		return 0;
	}
}

static int dec_kc(const uint8_t *b, size_t n, struct gsakmp_kc *kc)
{
	if (n < 3)
		return -GSAKMP_E_MALFORMED;
	kc->type = get16(b);
	kc->data = b + 2;
	kc->len = (uint16_t)(n - 2);
	switch (kc->type) {
	case 0:
		return -GSAKMP_E_KC;
	case GSAKMP_KC_DH_1024_MODP:
		return kc->len <= 128 ? 0 : -GSAKMP_E_KC;
	case GSAKMP_KC_DH_2048_MODP:
		return kc->len <= 256 ? 0 : -GSAKMP_E_KC;
	case GSAKMP_KC_X25519:
		return kc->len == 32 ? 0 : -GSAKMP_E_KC;
	default:
		return 0;
	}
}

static int dec_nonce(const uint8_t *b, size_t n, struct gsakmp_nonce *nc)
{
	if (n < 1)
		return -GSAKMP_E_MALFORMED;
	nc->type = b[0];
	nc->data = b + 1;
	nc->len = (uint16_t)(n - 1);
	if (nc->type < GSAKMP_NONCE_I || nc->type > GSAKMP_NONCE_C ||
			nc->len < GSAKMP_NONCE_MIN || nc->len > GSAKMP_NONCE_MAX)
		return -GSAKMP_E_NONCE;
	return 0;
}

static int dec_body(const uint8_t *buf, struct gsakmp_payload *pl, const struct gsakmp_hdr *h,
		bool *profile)
{
	const uint8_t *b = buf + pl->offset + GSAKMP_PL_HDR_LEN;
	size_t n = pl->length - GSAKMP_PL_HDR_LEN;

	switch (pl->type) {
	case GSAKMP_PL_POLICY_TOKEN:
		return dec_pt(b, n, &pl->u.pt);
	case GSAKMP_PL_KEY_DOWNLOAD:
		return dec_kdl(b, n, &pl->u.kdl);
	case GSAKMP_PL_REKEY_EVENT:
		return dec_rekey(b, n, h, &pl->u.rekey);
	case GSAKMP_PL_ID:
		return dec_id(b, n, &pl->u.id);
	case GSAKMP_PL_CERT:
		return dec_cert(b, n, &pl->u.cert);
	case GSAKMP_PL_SIGNATURE:
		return dec_sig(b, n, pl->offset + GSAKMP_PL_HDR_LEN, &pl->u.sig);
	case GSAKMP_PL_NOTIFICATION:
		return dec_notify(b, n, &pl->u.notify);
	case GSAKMP_PL_VENDOR_ID:
		if (n < GSAKMP_VID_MIN)
			return -GSAKMP_E_VID;
		pl->u.vid.data = b;
		pl->u.vid.len = (uint16_t)n;
		if (n == GSAKMP_PROFILE_VID_LEN &&
				memcmp(b, GSAKMP_PROFILE_VID, GSAKMP_PROFILE_VID_LEN) == 0)
			*profile = true;
		return 0;
	case GSAKMP_PL_KEY_CREATION:
		return dec_kc(b, n, &pl->u.kc);
	case GSAKMP_PL_NONCE:
		return dec_nonce(b, n, &pl->u.nonce);
	default:
		return -GSAKMP_E_UNKNOWN_PAYLOAD;  /* not reached: the chain pass checked types */
	}
}

/* ------------------------------------------------------------------ the exchange */

static int check_notifications(const struct gsakmp_msg *m)
{
	uint64_t seen = 0;

	for (uint16_t i = 0; i < m->nb_payloads; i++) {
		const struct gsakmp_payload *pl = &m->pl[i];
		uint16_t t;
		bool ok;

		if (pl->type != GSAKMP_PL_NOTIFICATION)
			continue;
		t = pl->u.notify.type;
		switch (m->hdr.exch) {
		case GSAKMP_EXCH_RTJ:
			/* [Mechanism Choices], [Cookie], [IPValue] (§5.2.1.1) */
			ok = t == GSAKMP_N_MECH_CHOICES || t == GSAKMP_N_COOKIE ||
				t == GSAKMP_N_IPV4_VALUE || t == GSAKMP_N_IPV6_VALUE;
			break;
		case GSAKMP_EXCH_COOKIE_DL:
			ok = t == GSAKMP_N_COOKIE_REQUIRED;
			break;
		case GSAKMP_EXCH_RTD:
			ok = t == GSAKMP_N_LEAVE_GROUP;
			break;
		case GSAKMP_EXCH_DR:
			ok = t == GSAKMP_N_DEPARTURE_ACCEPTED || t == GSAKMP_N_DEPART_ERROR;
			break;
		default:
			ok = true;
			break;
		}
		if (!ok)
			return -GSAKMP_E_NOTIFY;
		if (t < 64) {
			if (seen & (UINT64_C(1) << t))
				return -GSAKMP_E_DUP_PAYLOAD;
			seen |= UINT64_C(1) << t;
		}
	}
	return 0;
}

static int check_exchange(struct gsakmp_msg *m)
{
	const struct exch_rule *r = &rules[m->hdr.exch];
	uint8_t cnt[GSAKMP_PL_TYPE_MAX] = { 0 };
	uint8_t nonces = 0;

	/* The Signature covers what precedes it; only Certificates may follow (§7.8). */
	for (uint16_t i = 0; i < m->nb_payloads; i++) {
		const struct gsakmp_payload *pl = &m->pl[i];

		cnt[pl->type]++;
		if (pl->type == GSAKMP_PL_SIGNATURE)
			m->sig_index = (int16_t)i;
		else if (m->sig_index >= 0 && pl->type != GSAKMP_PL_CERT && r->sig)
			return -GSAKMP_E_SIG_POSITION;
	}
	for (int t = 1; t < GSAKMP_PL_TYPE_MAX; t++) {
		if (cnt[t] > r->max[t])
			return r->max[t] == 0 ? -GSAKMP_E_UNEXPECTED_PAYLOAD :
				-GSAKMP_E_DUP_PAYLOAD;
		if (cnt[t] < r->min[t])
			return t == GSAKMP_PL_SIGNATURE ? -GSAKMP_E_NO_SIGNATURE :
				-GSAKMP_E_MISSING_PAYLOAD;
	}
	for (uint16_t i = 0; i < m->nb_payloads; i++) {
		const struct gsakmp_payload *pl = &m->pl[i];

		if (pl->type != GSAKMP_PL_NONCE)
			continue;
		if (!(r->nonce_types & NB(pl->u.nonce.type)) || (nonces & NB(pl->u.nonce.type)))
			return -GSAKMP_E_NONCE;
		nonces |= NB(pl->u.nonce.type);
	}
	/* [Nonce_R, Nonce_C]: both or neither (§5.2.1.2) */
	if (r->nonce_pair && cnt[GSAKMP_PL_NONCE] == 1)
		return -GSAKMP_E_NONCE;
	return check_notifications(m);
}

/* ------------------------------------------------------------------ the message */

static int dec_header(const uint8_t *buf, size_t len, struct gsakmp_hdr *h)
{
	size_t L, hlen;
	uint32_t mlen;

	if (len < 2)
		return -GSAKMP_E_SHORT_HEADER;
	L = buf[1];
	if (L == 0)
		return -GSAKMP_E_GID_LENGTH;
	hlen = GSAKMP_HDR_FIXED + L;
	if (len < hlen)
		return -GSAKMP_E_SHORT_HEADER;
	mlen = get32(buf + 9 + L);
	if (mlen < hlen || mlen > GSAKMP_MAX_MSG_LEN)
		return -GSAKMP_E_MSG_LENGTH;
	if (mlen > len)
		return -GSAKMP_E_TRUNCATED;
	if (mlen < len)
		return -GSAKMP_E_TRAILING;
	h->gid_type = buf[0];
	h->gid_len = (uint8_t)L;
	memcpy(h->gid, buf + 2, L);
	h->version = buf[3 + L];
	h->exch = buf[4 + L];
	h->seq = get32(buf + 5 + L);
	h->length = mlen;
	return 0;
}

static int decode_v1(const uint8_t *buf, size_t len, struct gsakmp_msg *m,
		const struct gsakmp_dec_ctx *ctx)
{
	struct gsakmp_hdr *h = &m->hdr;
	size_t off;
	uint8_t np;
	int rc;

	rc = dec_header(buf, len, h);
	if (rc != 0)
		return rc;
	if (h->version != GSAKMP_VERSION)
		return -GSAKMP_E_VERSION;
	rc = gid_check(h->gid_type, h->gid, h->gid_len);
	if (rc != 0)
		return rc;
	if (h->exch >= 16 || !rules[h->exch].valid)
		return -GSAKMP_E_EXCH_TYPE;
	/* §7.1.1: 0 on negotiation messages, from 1 up on group management (Rekey Event) */
	if ((h->exch == GSAKMP_EXCH_REKEY) != (h->seq != 0))
		return -GSAKMP_E_SEQUENCE;

	/* The caller's expectations come before the payloads (RFC 4535 §5.2.1: header and
	 * GroupID first), so a flood for another group costs a header parse only. */
	if (ctx != NULL) {
		if (ctx->gid != NULL && (ctx->gid_type != h->gid_type ||
				ctx->gid_len != h->gid_len ||
				memcmp(ctx->gid, h->gid, h->gid_len) != 0))
			return -GSAKMP_E_GROUP_ID;
		if (ctx->exch_mask != 0 && !(ctx->exch_mask & GSAKMP_EXCH_BIT(h->exch)))
			return -GSAKMP_E_UNEXPECTED_EXCH;
		if (ctx->check_seq && h->exch == GSAKMP_EXCH_REKEY &&
				gsakmp_seq_check(ctx->last_seq, h->seq) < 0)
			return -GSAKMP_E_REPLAY;
	}

	/* Chain pass: types and lengths only. */
	m->buf = buf;
	m->len = (uint32_t)len;
	m->nb_payloads = 0;
	m->sig_index = -1;
	m->profile = false;
	off = GSAKMP_HDR_FIXED + h->gid_len;
	np = buf[2 + h->gid_len];
	while (np != GSAKMP_PL_NONE) {
		struct gsakmp_payload *pl;
		size_t plen;

		if (np >= GSAKMP_PL_TYPE_MAX || !known_pl[np])
			return -GSAKMP_E_UNKNOWN_PAYLOAD;
		if (m->nb_payloads == GSAKMP_MAX_PAYLOADS)
			return -GSAKMP_E_TOO_MANY_PAYLOADS;
		if (len - off < GSAKMP_PL_HDR_LEN)
			return -GSAKMP_E_PAYLOAD_LENGTH;
		if (buf[off + 1] != 0)
			return -GSAKMP_E_RESERVED;
		plen = get16(buf + off + 2);
		if (plen < GSAKMP_PL_HDR_LEN || plen > len - off)
			return -GSAKMP_E_PAYLOAD_LENGTH;
		pl = &m->pl[m->nb_payloads++];
		memset(pl, 0, sizeof(*pl));
		pl->type = np;
		pl->length = (uint16_t)plen;
		pl->offset = (uint32_t)off;
		np = buf[off];
		off += plen;
	}
	if (off != len)
		return -GSAKMP_E_TRAILING;

	/* Body pass. */
	for (uint16_t i = 0; i < m->nb_payloads; i++) {
		rc = dec_body(buf, &m->pl[i], h, &m->profile);
		if (rc != 0)
			return rc;
	}
	return check_exchange(m);
}

int gsakmp_decode(const uint8_t *buf, size_t len, struct gsakmp_msg *out,
		const struct gsakmp_dec_ctx *ctx)
{
	int rc;

	if (buf == NULL || out == NULL)
		return -GSAKMP_E_INVALID;
	rc = decode_v1(buf, len, out, ctx);
	/*
	 * RFC 4535 §7.1.1: a v1 implementation receiving a later version tries the v1 header
	 * that follows the later one's. We take the outer header to have the v1 shape and
	 * length (no later version exists) and try once; failure is reported as the version.
	 */
	if (rc == -GSAKMP_E_VERSION && ctx != NULL && ctx->embedded_v1 &&
			out->hdr.version > GSAKMP_VERSION) {
		size_t hlen = GSAKMP_HDR_FIXED + out->hdr.gid_len;

		rc = decode_v1(buf + hlen, len - hlen, out, ctx);
		if (rc != 0)
			rc = -GSAKMP_E_VERSION;
	}
	return rc;
}

int gsakmp_frame_len(const uint8_t *buf, size_t avail, size_t max, uint32_t *msg_len)
{
	size_t hlen;
	uint32_t mlen;

	if (buf == NULL || msg_len == NULL)
		return -GSAKMP_E_INVALID;
	if (avail < 2)
		return 0;
	if (buf[1] == 0)
		return -GSAKMP_E_GID_LENGTH;
	hlen = GSAKMP_HDR_FIXED + buf[1];
	if (avail < hlen)
		return 0;
	mlen = get32(buf + 9 + buf[1]);
	if (max > GSAKMP_MAX_MSG_LEN || max == 0)
		max = GSAKMP_MAX_MSG_LEN;
	if (mlen < hlen || mlen > max)
		return -GSAKMP_E_MSG_LENGTH;
	*msg_len = mlen;
	return 1;
}

const struct gsakmp_payload *gsakmp_msg_find(const struct gsakmp_msg *msg, uint8_t type,
		unsigned int nth)
{
	for (uint16_t i = 0; i < msg->nb_payloads; i++)
		if (msg->pl[i].type == type && nth-- == 0)
			return &msg->pl[i];
	return NULL;
}

void gsakmp_red_iter_init(struct gsakmp_red_iter *it, const struct gsakmp_rekey *re)
{
	it->p = re->data;
	it->left = re->data_len;
	it->remaining = re->nb_data;
}

bool gsakmp_red_next(struct gsakmp_red_iter *it, struct gsakmp_red *out)
{
	uint16_t plen;

	/* The decoder proved the blocks fit; re-check anyway so a hand-made view cannot
	 * make us read past data_len. */
	if (it->remaining == 0 || it->left < RED_HDR)
		return false;
	plen = get16(it->p);
	if (plen > it->left - RED_HDR)
		return false;
	out->len = plen;
	out->wrap_id = get32(it->p + 2);
	out->wrap_handle = get32(it->p + 6);
	out->body = it->p + RED_HDR;
	it->p += RED_HDR + plen;
	it->left -= RED_HDR + plen;
	it->remaining--;
	return true;
}
