/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GSAKMP message builder. Each payload is appended with its final length; the previous
 * payload's Next Payload octet (or the header's) is patched to name it, so the chain is always
 * well formed. The header Length is written at finish, then the signature (whose span includes
 * the header Length and the Signature payload's own length, RFC 4535 §7.8), then the result is
 * decoded to prove it is acceptable.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gsakmp_pvt.h"

int gsakmp_pvt_fail(struct gsakmp_enc *enc, int err)
{
	if (enc->err == 0)
		enc->err = err;
	return enc->err;
}

int gsakmp_enc_init(struct gsakmp_enc **out, uint8_t *buf, size_t cap,
		const struct gsakmp_hdr *hdr)
{
	struct gsakmp_enc *e;
	size_t L, hlen;

	if (out == NULL)
		return -GSAKMP_E_INVALID;
	*out = NULL;
	if (buf == NULL || hdr == NULL || hdr->gid_len == 0)
		return -GSAKMP_E_INVALID;
	L = hdr->gid_len;
	hlen = GSAKMP_HDR_FIXED + L;
	if (cap < hlen)
		return -GSAKMP_E_NO_SPACE;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -GSAKMP_E_NOMEM;
	e->buf = buf;
	e->cap = cap;
	e->hdr = *hdr;
	if (e->hdr.version == 0)
		e->hdr.version = GSAKMP_VERSION;
	buf[0] = hdr->gid_type;
	buf[1] = (uint8_t)L;
	memcpy(buf + 2, hdr->gid, L);
	buf[2 + L] = GSAKMP_PL_NONE;
	buf[3 + L] = e->hdr.version;
	buf[4 + L] = hdr->exch;
	put32(buf + 5 + L, hdr->seq);
	put32(buf + 9 + L, 0);
	e->np_off = 2 + L;
	e->len_off = 9 + L;
	e->off = hlen;
	*out = e;
	return 0;
}

uint8_t *gsakmp_pvt_pl_reserve(struct gsakmp_enc *e, uint8_t type, size_t body_len)
{
	uint8_t *p;

	if (e->err != 0)
		return NULL;
	if (e->rekey_off != 0) {
		gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);  /* a Rekey Event payload is still open */
		return NULL;
	}
	if (e->nb_payloads == GSAKMP_MAX_PAYLOADS) {
		gsakmp_pvt_fail(e, -GSAKMP_E_TOO_MANY_PAYLOADS);
		return NULL;
	}
	if (body_len > PL_MAX - GSAKMP_PL_HDR_LEN ||
			e->off + GSAKMP_PL_HDR_LEN + body_len > GSAKMP_MAX_MSG_LEN) {
		gsakmp_pvt_fail(e, -GSAKMP_E_LIMIT);
		return NULL;
	}
	if (e->cap - e->off < GSAKMP_PL_HDR_LEN + body_len) {
		gsakmp_pvt_fail(e, -GSAKMP_E_NO_SPACE);
		return NULL;
	}
	p = e->buf + e->off;
	p[0] = GSAKMP_PL_NONE;
	p[1] = 0;
	put16(p + 2, (uint16_t)(GSAKMP_PL_HDR_LEN + body_len));
	e->buf[e->np_off] = type;
	e->np_off = e->off;
	e->off += GSAKMP_PL_HDR_LEN + body_len;
	e->nb_payloads++;
	return p + GSAKMP_PL_HDR_LEN;
}

/* Append a payload made of a fixed prefix and a blob. */
static int pl_simple(struct gsakmp_enc *e, uint8_t type, const uint8_t *pre, size_t pre_len,
		const uint8_t *data, size_t len)
{
	uint8_t *b;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (data == NULL && len != 0)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	b = gsakmp_pvt_pl_reserve(e, type, pre_len + len);
	if (b == NULL)
		return e->err;
	if (pre_len != 0)
		memcpy(b, pre, pre_len);
	if (len != 0)
		memcpy(b + pre_len, data, len);
	return 0;
}

int gsakmp_enc_payload_pt(struct gsakmp_enc *e, uint16_t type, const uint8_t *data, size_t len)
{
	uint8_t pre[2];

	put16(pre, type);
	return pl_simple(e, GSAKMP_PL_POLICY_TOKEN, pre, sizeof(pre), data, len);
}

int gsakmp_enc_payload_kdl(struct gsakmp_enc *e, const uint8_t *body, size_t len)
{
	return pl_simple(e, GSAKMP_PL_KEY_DOWNLOAD, NULL, 0, body, len);
}

int gsakmp_enc_payload_id(struct gsakmp_enc *e, uint8_t cls, uint8_t type, const uint8_t *data,
		size_t len)
{
	uint8_t pre[2] = { cls, type };

	return pl_simple(e, GSAKMP_PL_ID, pre, sizeof(pre), data, len);
}

int gsakmp_enc_payload_cert(struct gsakmp_enc *e, uint16_t type, const uint8_t *data,
		size_t len)
{
	uint8_t pre[2];

	put16(pre, type);
	return pl_simple(e, GSAKMP_PL_CERT, pre, sizeof(pre), data, len);
}

int gsakmp_enc_payload_notify(struct gsakmp_enc *e, uint16_t type, const uint8_t *data,
		size_t len)
{
	uint8_t pre[2];

	put16(pre, type);
	return pl_simple(e, GSAKMP_PL_NOTIFICATION, pre, sizeof(pre), data, len);
}

int gsakmp_enc_payload_vid(struct gsakmp_enc *e, const uint8_t *data, size_t len)
{
	return pl_simple(e, GSAKMP_PL_VENDOR_ID, NULL, 0, data, len);
}

int gsakmp_enc_payload_kc(struct gsakmp_enc *e, uint16_t type, const uint8_t *data, size_t len)
{
	uint8_t pre[2];

	put16(pre, type);
	return pl_simple(e, GSAKMP_PL_KEY_CREATION, pre, sizeof(pre), data, len);
}

int gsakmp_enc_payload_nonce(struct gsakmp_enc *e, uint8_t type, const uint8_t *data,
		size_t len)
{
	return pl_simple(e, GSAKMP_PL_NONCE, &type, 1, data, len);
}

/* Signature payload from a view: the Signature Data is copied as is. */
static int enc_sig_view(struct gsakmp_enc *e, const struct gsakmp_sig *s)
{
	char ts[GSAKMP_TS_LEN + 1];
	uint8_t *b;
	int rc;

	if (s->signer == NULL || s->sig == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	rc = gsakmp_time_format(s->timestamp, ts);
	if (rc != 0)
		return gsakmp_pvt_fail(e, rc);
	b = gsakmp_pvt_pl_reserve(e, GSAKMP_PL_SIGNATURE,
			SIG_FIXED + s->signer_len + 2u + s->sig_len);
	if (b == NULL)
		return e->err;
	put16(b, s->type);
	b[2] = s->id_type;
	memcpy(b + 3, ts, GSAKMP_TS_LEN);
	put16(b + 18, s->signer_len);
	memcpy(b + SIG_FIXED, s->signer, s->signer_len);
	put16(b + SIG_FIXED + s->signer_len, s->sig_len);
	memcpy(b + SIG_FIXED + s->signer_len + 2, s->sig, s->sig_len);
	return 0;
}

int gsakmp_enc_payload_rekey(struct gsakmp_enc *e, uint8_t type, uint8_t alg_version,
		int64_t timestamp)
{
	char ts[GSAKMP_TS_LEN + 1];
	size_t L;
	uint8_t *b;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	rc = gsakmp_time_format(timestamp, ts);
	if (rc != 0)
		return gsakmp_pvt_fail(e, rc);
	L = e->hdr.gid_len;
	b = gsakmp_pvt_pl_reserve(e, GSAKMP_PL_REKEY_EVENT, REKEY_FIXED + L);
	if (b == NULL)
		return e->err;
	/* Rekey Event Type | Rekey Event Header: GroupID Value | Time/Date Stamp | Rekey Event
	 * Type | Algorithm Version | # of Rekey Event Data(s) (§7.5.1.1) */
	b[0] = type;
	memcpy(b + 1, e->hdr.gid, L);
	memcpy(b + 1 + L, ts, GSAKMP_TS_LEN);
	b[16 + L] = type;
	b[17 + L] = alg_version;
	put16(b + 18 + L, 0);
	e->rekey_off = (size_t)(b - e->buf) - GSAKMP_PL_HDR_LEN;
	e->rekey_nb = 0;
	return 0;
}

uint8_t *gsakmp_pvt_red_reserve(struct gsakmp_enc *e, uint32_t wrap_id, uint32_t wrap_handle,
		size_t body_len)
{
	size_t plen;
	uint8_t *p;

	if (e->err != 0)
		return NULL;
	if (e->rekey_off == 0) {
		gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
		return NULL;
	}
	plen = get16(e->buf + e->rekey_off + 2);
	if (body_len < 2 || body_len > PL_MAX || plen + RED_HDR + body_len > PL_MAX ||
			e->rekey_nb == UINT16_MAX) {
		gsakmp_pvt_fail(e, -GSAKMP_E_LIMIT);
		return NULL;
	}
	if (e->cap - e->off < RED_HDR + body_len) {
		gsakmp_pvt_fail(e, -GSAKMP_E_NO_SPACE);
		return NULL;
	}
	/* Packet Length counts the octets after the Wrapping Key Handle, as sent (profile §9) */
	p = e->buf + e->off;
	put16(p, (uint16_t)body_len);
	put32(p + 2, wrap_id);
	put32(p + 6, wrap_handle);
	e->off += RED_HDR + body_len;
	e->rekey_nb++;
	put16(e->buf + e->rekey_off + 2, (uint16_t)(plen + RED_HDR + body_len));
	return p + RED_HDR;
}

int gsakmp_enc_rekey_data(struct gsakmp_enc *e, uint32_t wrap_id, uint32_t wrap_handle,
		const uint8_t *body, size_t len)
{
	uint8_t *p;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (body == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	p = gsakmp_pvt_red_reserve(e, wrap_id, wrap_handle, len);
	if (p == NULL)
		return e->err;
	memcpy(p, body, len);
	return 0;
}

int gsakmp_enc_rekey_end(struct gsakmp_enc *e)
{
	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (e->err != 0)
		return e->err;
	if (e->rekey_off == 0)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	put16(e->buf + e->rekey_off + GSAKMP_PL_HDR_LEN + REKEY_FIXED - 2 + e->hdr.gid_len,
			e->rekey_nb);
	e->rekey_off = 0;
	return 0;
}

/* Rekey Event payload from a view: the validated blocks are copied as they are. */
static int enc_rekey_view(struct gsakmp_enc *e, const struct gsakmp_rekey *re)
{
	struct gsakmp_red_iter it;
	struct gsakmp_red red;
	int rc;

	rc = gsakmp_enc_payload_rekey(e, re->type, re->alg_version, re->timestamp);
	if (rc != 0)
		return rc;
	gsakmp_red_iter_init(&it, re);
	while (gsakmp_red_next(&it, &red)) {
		rc = gsakmp_enc_rekey_data(e, red.wrap_id, red.wrap_handle, red.body, red.len);
		if (rc != 0)
			return rc;
	}
	if (it.remaining != 0 || it.left != 0)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	return gsakmp_enc_rekey_end(e);
}

int gsakmp_enc_payload(struct gsakmp_enc *e, const struct gsakmp_payload *pl)
{
	if (e == NULL)
		return -GSAKMP_E_INVALID;
	if (pl == NULL)
		return gsakmp_pvt_fail(e, -GSAKMP_E_INVALID);
	switch (pl->type) {
	case GSAKMP_PL_POLICY_TOKEN:
		return gsakmp_enc_payload_pt(e, pl->u.pt.type, pl->u.pt.data, pl->u.pt.len);
	case GSAKMP_PL_KEY_DOWNLOAD:
		return gsakmp_enc_payload_kdl(e, pl->u.kdl.body, pl->u.kdl.len);
	case GSAKMP_PL_REKEY_EVENT:
		return enc_rekey_view(e, &pl->u.rekey);
	case GSAKMP_PL_ID:
		return gsakmp_enc_payload_id(e, pl->u.id.cls, pl->u.id.type, pl->u.id.data,
				pl->u.id.len);
	case GSAKMP_PL_CERT:
		return gsakmp_enc_payload_cert(e, pl->u.cert.type, pl->u.cert.data,
				pl->u.cert.len);
	case GSAKMP_PL_SIGNATURE:
		return enc_sig_view(e, &pl->u.sig);
	case GSAKMP_PL_NOTIFICATION:
		return gsakmp_enc_payload_notify(e, pl->u.notify.type, pl->u.notify.data,
				pl->u.notify.len);
	case GSAKMP_PL_VENDOR_ID:
		return gsakmp_enc_payload_vid(e, pl->u.vid.data, pl->u.vid.len);
	case GSAKMP_PL_KEY_CREATION:
		return gsakmp_enc_payload_kc(e, pl->u.kc.type, pl->u.kc.data, pl->u.kc.len);
	case GSAKMP_PL_NONCE:
		return gsakmp_enc_payload_nonce(e, pl->u.nonce.type, pl->u.nonce.data,
				pl->u.nonce.len);
	default:
		return gsakmp_pvt_fail(e, -GSAKMP_E_UNKNOWN_PAYLOAD);
	}
}

void gsakmp_enc_abort(struct gsakmp_enc *e)
{
	free(e);
}

int gsakmp_enc_finish(struct gsakmp_enc *e, size_t *len)
{
	struct gsakmp_msg *m = NULL;
	int rc;

	if (e == NULL)
		return -GSAKMP_E_INVALID;
	rc = e->err;
	if (rc == 0 && e->rekey_off != 0)
		rc = -GSAKMP_E_INVALID;
	if (rc != 0)
		goto out;
	put32(e->buf + e->len_off, (uint32_t)e->off);
	if (e->sig_key != NULL) {
		/* the span ends before the Signature Length field */
		rc = gsakmp_pvt_sign(e->sig_key, e->buf, e->sig_data_off - 2,
				e->buf + e->sig_data_off);
		if (rc != 0)
			goto out;
	}
	m = malloc(sizeof(*m));
	if (m == NULL) {
		rc = -GSAKMP_E_NOMEM;
		goto out;
	}
	rc = gsakmp_decode(e->buf, e->off, m, NULL);
	if (rc == 0 && len != NULL)
		*len = e->off;
out:
	free(m);
	free(e);
	return rc;
}

int gsakmp_encode_msg(const struct gsakmp_msg *msg, uint8_t *buf, size_t cap, size_t *len)
{
	struct gsakmp_enc *e;
	int rc;

	if (msg == NULL)
		return -GSAKMP_E_INVALID;
	rc = gsakmp_enc_init(&e, buf, cap, &msg->hdr);
	if (rc != 0)
		return rc;
	for (uint16_t i = 0; i < msg->nb_payloads; i++)
		gsakmp_enc_payload(e, &msg->pl[i]);
	return gsakmp_enc_finish(e, len);
}
