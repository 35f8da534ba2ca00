/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key Download contents (RFC 4535 §7.4.1), Key Packages of Rekey Event Data (§7.5.1.2.1) and
 * the profile's data SA attributes. These are the plaintexts of KEK-protected blobs: they are
 * parsed only after the protection has been removed, with the same validate-then-interpret
 * discipline as the message itself.
 */
#include <assert.h>
#include <string.h>

#include "gsakmp_pvt.h"

/* Item (and Key Package) header: Type (1) | Length (2) of the data that follows. */
#define ITEM_HDR 3u
/* Rekey Array fixed part: Rekey Version# (1) | Member ID (4) | Number of KEK Keys (2). */
#define RA_FIXED 7u
/* Data SA item fixed part: Key ID (4) | Key Handle (4). */
#define SA_FIXED 8u
/* Attribute header: Type (2, bit 15 critical) | Length (2). */
#define ATTR_HDR 4u
/*
 * TESLA attribute (doc/gsakmp-profile.md §9.1): a fixed part, then per sender a fixed part and
 * its SIDs. Every multi-octet field sits at a multiple of its size within its part.
 */
#define TESLA_FIXED 28u
#define TESLA_SENDER_FIXED 40u
#define TESLA_MAX (TESLA_FIXED + GSAKMP_TESLA_MAX_SENDERS * \
	(TESLA_SENDER_FIXED + 2u * GSAKMP_MAX_SIDS))
/* Longest data SA item: the fixed part and every attribute at its largest. */
#define SA_MAX (SA_FIXED + (GSAKMP_ATTR_MAX - 1u) * ATTR_HDR + 4u + 2u + 4u + 1u + \
	2u * GSAKMP_MAX_SIDS + 3u * 4u + 2u * 16u + TESLA_MAX)

static_assert(TESLA_MAX <= UINT16_MAX, "the TESLA attribute's length fits its 16-bit field");
static_assert(SA_MAX <= PL_MAX, "a data SA item's length fits its 16-bit field");

/* Which profile attributes must carry the critical bit (doc/gsakmp-profile.md §7). */
static const bool attr_critical[GSAKMP_ATTR_MAX] = {
	[GSAKMP_ATTR_SPI] = true, [GSAKMP_ATTR_SUITE] = true, [GSAKMP_ATTR_FLAGS] = true,
	[GSAKMP_ATTR_SID_BITS] = true, [GSAKMP_ATTR_SIDS] = true,
	[GSAKMP_ATTR_GROUP_ADDR] = true, [GSAKMP_ATTR_SOURCE_ADDR] = true,
	[GSAKMP_ATTR_TESLA] = true,
};

#define HAS(sa, a) (((sa)->present >> (a)) & 1u)

/* ------------------------------------------------------------------ Key Datum */

static int datum_check(const struct gsakmp_key_datum *d)
{
	uint16_t klen = gsakmp_key_type_len(d->type);

	if (klen == 0)
		return -GSAKMP_E_KEY_TYPE;
	if (d->key_len != klen)
		return -GSAKMP_E_KEY_LENGTH;
	if (d->expires <= d->created)
		return -GSAKMP_E_KEY_DATES;
	return 0;
}

/* A Key Datum of exactly len octets (§7.4.1.1). */
static int datum_parse(const uint8_t *p, size_t len, struct gsakmp_key_datum *d)
{
	int rc;

	if (len < GSAKMP_KEY_DATUM_FIXED)
		return -GSAKMP_E_MALFORMED;
	d->type = get16(p);
	d->id = get32(p + 2);
	d->handle = get32(p + 6);
	rc = gsakmp_time_parse(p + 10, &d->created);
	if (rc == 0)
		rc = gsakmp_time_parse(p + 25, &d->expires);
	if (rc != 0)
		return rc;
	d->key = p + GSAKMP_KEY_DATUM_FIXED;
	d->key_len = (uint16_t)(len - GSAKMP_KEY_DATUM_FIXED);
	if (gsakmp_key_type_len(d->type) == 0)
		return -GSAKMP_E_KEY_TYPE;
	return datum_check(d);
}

static int datum_build(const struct gsakmp_key_datum *d, uint8_t *p, size_t cap, size_t *len)
{
	char ts[GSAKMP_TS_LEN + 1];
	int rc;

	rc = datum_check(d);
	if (rc != 0)
		return rc;
	if (d->key == NULL)
		return -GSAKMP_E_INVALID;
	if (cap < GSAKMP_KEY_DATUM_FIXED + (size_t)d->key_len)
		return -GSAKMP_E_NO_SPACE;
	put16(p, d->type);
	put32(p + 2, d->id);
	put32(p + 6, d->handle);
	rc = gsakmp_time_format(d->created, ts);
	if (rc != 0)
		return rc;
	memcpy(p + 10, ts, GSAKMP_TS_LEN);
	rc = gsakmp_time_format(d->expires, ts);
	if (rc != 0)
		return rc;
	memcpy(p + 25, ts, GSAKMP_TS_LEN);
	memcpy(p + GSAKMP_KEY_DATUM_FIXED, d->key, d->key_len);
	*len = GSAKMP_KEY_DATUM_FIXED + d->key_len;
	return 0;
}

/* ------------------------------------------------------------------ Rekey Array */

/*
 * Rekey Array (§7.4.1.2). Its Key Datums carry no length: each one's size follows from its
 * Key Type (doc/gsakmp-profile.md §9 item 2), so an unknown type stops the walk.
 */
static int ra_parse(const uint8_t *p, size_t len, struct gsakmp_kd *kd,
		struct gsakmp_rekey_array *ra)
{
	size_t off = RA_FIXED;

	if (len < RA_FIXED)
		return -GSAKMP_E_MALFORMED;
	ra->version = p[0];
	ra->member_id = get32(p + 1);
	ra->nb_keys = get16(p + 5);
	ra->first_key = kd->nb_keys;
	if (ra->version != 1)
		return -GSAKMP_E_REKEY_TYPE;
	if ((size_t)ra->nb_keys * GSAKMP_KEY_DATUM_FIXED > len - off)
		return -GSAKMP_E_COUNT;
	if (ra->nb_keys > GSAKMP_KD_MAX_KEYS - kd->nb_keys)
		return -GSAKMP_E_LIMIT;
	for (uint16_t i = 0; i < ra->nb_keys; i++) {
		uint16_t klen;
		int rc;

		if (len - off < GSAKMP_KEY_DATUM_FIXED)
			return -GSAKMP_E_COUNT;
		klen = gsakmp_key_type_len(get16(p + off));
		if (klen == 0)
			return -GSAKMP_E_KEY_TYPE;
		if (len - off < GSAKMP_KEY_DATUM_FIXED + (size_t)klen)
			return -GSAKMP_E_COUNT;
		rc = datum_parse(p + off, GSAKMP_KEY_DATUM_FIXED + klen, &kd->keys[kd->nb_keys]);
		if (rc != 0)
			return rc;
		kd->nb_keys++;
		off += GSAKMP_KEY_DATUM_FIXED + klen;
	}
	return off == len ? 0 : -GSAKMP_E_COUNT;
}

static int ra_build(const struct gsakmp_kd *kd, const struct gsakmp_rekey_array *ra, uint8_t *p,
		size_t cap, size_t *len)
{
	size_t off = RA_FIXED, n;
	int rc;

	if (ra->version != 1)
		return -GSAKMP_E_REKEY_TYPE;
	if (ra->first_key > kd->nb_keys || ra->nb_keys > kd->nb_keys - ra->first_key)
		return -GSAKMP_E_INVALID;
	if (cap < RA_FIXED)
		return -GSAKMP_E_NO_SPACE;
	p[0] = ra->version;
	put32(p + 1, ra->member_id);
	put16(p + 5, ra->nb_keys);
	for (uint16_t i = 0; i < ra->nb_keys; i++) {
		rc = datum_build(&kd->keys[ra->first_key + i], p + off, cap - off, &n);
		if (rc != 0)
			return rc;
		off += n;
	}
	*len = off;
	return 0;
}

/* ------------------------------------------------------------------ data SA attributes */

/*
 * The TESLA parameters' rules (doc/gsakmp-profile.md §9.1), the same on decode and before
 * encode. They are those lib/tesla and lib/gwconf apply to an SA, so that what a key server
 * sends can be installed: d from RFC 4082 §3.6, a chain long enough for d, one last-key and one
 * commitment interval (RFC 5776 §3.1.2.4), chain starts that fit the 32-bit interval index,
 * and senders told apart by their SIDs alone (doc/wire-format.md §7.6 step 8).
 */
static int tesla_check(const struct gsakmp_sa_attrs *sa)
{
	const struct gsakmp_tesla *t = &sa->tesla;
	uint64_t seen[(UINT16_MAX + 1) / 64];

	if (t->interval_ms == 0 || t->d < GSAKMP_TESLA_D_MIN ||
			(t->mac != GSAKMP_TESLA_MAC_HMAC_SHA256_128 &&
			 t->mac != GSAKMP_TESLA_MAC_AES_GMAC_128) ||
			t->chain_len < (uint32_t)t->d + 2u ||
			(uint64_t)t->max_skew_ms >= (uint64_t)t->d * t->interval_ms ||
			t->nb_senders == 0 || t->nb_senders > GSAKMP_TESLA_MAX_SENDERS)
		return -GSAKMP_E_ATTR;
	/* no IV: no GMAC nonce and no SID in the packet, so one sender, SID 0 (gwconf) */
	if (sa->suite == GSAKMP_SUITE_NULL_HMAC_SHA256 &&
			(t->mac != GSAKMP_TESLA_MAC_HMAC_SHA256_128 || t->nb_senders != 1 ||
			 t->senders[0].nb_sids != 1 || t->senders[0].sids[0] != 0))
		return -GSAKMP_E_ATTR;
	memset(seen, 0, sizeof(seen));
	for (unsigned int k = 0; k < t->nb_senders; k++) {
		const struct gsakmp_tesla_sender *s = &t->senders[k];

		if (s->nb_sids == 0 || s->nb_sids > GSAKMP_MAX_SIDS ||
				(uint64_t)s->chain * t->chain_len > UINT32_MAX)
			return -GSAKMP_E_ATTR;
		for (unsigned int i = 0; i < s->nb_sids; i++) {
			uint16_t sid = s->sids[i];

			if ((HAS(sa, GSAKMP_ATTR_SID_BITS) && (sid >> sa->sid_bits) != 0) ||
					(seen[sid / 64] >> (sid % 64)) & 1u)
				return -GSAKMP_E_ATTR;
			seen[sid / 64] |= UINT64_C(1) << (sid % 64);
		}
	}
	return 0;
}

int gsakmp_pvt_sa_check(const struct gsakmp_sa_attrs *sa)
{
	if (sa->present & ~((1u << GSAKMP_ATTR_MAX) - 2u))
		return -GSAKMP_E_ATTR;
	if (!HAS(sa, GSAKMP_ATTR_SPI) || !HAS(sa, GSAKMP_ATTR_SUITE))
		return -GSAKMP_E_ATTR;
	if (sa->suite < GSAKMP_SUITE_AES_GCM_128 ||
			sa->suite > GSAKMP_SUITE_AES_CTR_128_HMAC_SHA256)
		return -GSAKMP_E_ATTR;
	if (HAS(sa, GSAKMP_ATTR_FLAGS) && (sa->flags & ~GSAKMP_SAF_ALL))
		return -GSAKMP_E_ATTR;
	if (HAS(sa, GSAKMP_ATTR_SID_BITS) && sa->sid_bits != 8 && sa->sid_bits != 12 &&
			sa->sid_bits != 16)
		return -GSAKMP_E_ATTR;
	if (HAS(sa, GSAKMP_ATTR_SIDS)) {
		/* RFC 6054 §3: every SID fits the SA's SID length; ours are distinct */
		if (!HAS(sa, GSAKMP_ATTR_SID_BITS) || sa->nb_sids == 0 ||
				sa->nb_sids > GSAKMP_MAX_SIDS)
			return -GSAKMP_E_ATTR;
		for (unsigned int i = 0; i < sa->nb_sids; i++) {
			if (sa->sids[i] >> sa->sid_bits)
				return -GSAKMP_E_ATTR;
			for (unsigned int j = 0; j < i; j++)
				if (sa->sids[i] == sa->sids[j])
					return -GSAKMP_E_ATTR;
		}
	}
	if ((HAS(sa, GSAKMP_ATTR_GROUP_ADDR) || HAS(sa, GSAKMP_ATTR_SOURCE_ADDR)) &&
			sa->addr_len != 4 && sa->addr_len != 16)
		return -GSAKMP_E_ATTR;
	if (HAS(sa, GSAKMP_ATTR_TESLA))
		return tesla_check(sa);
	return 0;
}

/*
 * The TESLA attribute's structure: every length and count against the octets present, the
 * reserved octets zero, the counts within struct gsakmp_tesla. Values are tesla_check()'s,
 * once every attribute is known (the SID length is another attribute).
 */
static int tesla_parse(const uint8_t *v, size_t l, struct gsakmp_tesla *t)
{
	size_t off = TESLA_FIXED;

	if (l < TESLA_FIXED || v[6] != 0 || v[7] != 0 || v[25] != 0 || v[26] != 0 ||
			v[27] != 0)
		return -GSAKMP_E_ATTR;
	t->interval_ms = get32(v);
	t->d = v[4];
	t->mac = v[5];
	t->t0_ms = get64(v + 8);
	t->chain_len = get32(v + 16);
	t->max_skew_ms = get32(v + 20);
	t->nb_senders = v[24];
	if (t->nb_senders == 0 || t->nb_senders > GSAKMP_TESLA_MAX_SENDERS)
		return -GSAKMP_E_ATTR;
	for (unsigned int k = 0; k < t->nb_senders; k++) {
		struct gsakmp_tesla_sender *s = &t->senders[k];
		const uint8_t *q = v + off;

		if (l - off < TESLA_SENDER_FIXED || q[1] != 0 || q[2] != 0 || q[3] != 0)
			return -GSAKMP_E_ATTR;
		s->nb_sids = q[0];
		if (s->nb_sids == 0 || s->nb_sids > GSAKMP_MAX_SIDS ||
				l - off - TESLA_SENDER_FIXED < 2u * s->nb_sids)
			return -GSAKMP_E_ATTR;
		s->chain = get32(q + 4);
		memcpy(s->commitment, q + 8, GSAKMP_TESLA_COMMIT_LEN);
		for (unsigned int i = 0; i < s->nb_sids; i++)
			s->sids[i] = get16(q + TESLA_SENDER_FIXED + 2 * i);
		off += TESLA_SENDER_FIXED + 2u * s->nb_sids;
	}
	return off == l ? 0 : -GSAKMP_E_ATTR;
}

/* Write the TESLA attribute's value (checked by tesla_check()); its length. */
static size_t tesla_put(const struct gsakmp_tesla *t, uint8_t *v)
{
	size_t off = TESLA_FIXED;

	memset(v, 0, TESLA_FIXED);
	put32(v, t->interval_ms);
	v[4] = t->d;
	v[5] = t->mac;
	put64(v + 8, t->t0_ms);
	put32(v + 16, t->chain_len);
	put32(v + 20, t->max_skew_ms);
	v[24] = t->nb_senders;
	for (unsigned int k = 0; k < t->nb_senders; k++) {
		const struct gsakmp_tesla_sender *s = &t->senders[k];
		uint8_t *q = v + off;

		memset(q, 0, TESLA_SENDER_FIXED);
		q[0] = s->nb_sids;
		put32(q + 4, s->chain);
		memcpy(q + 8, s->commitment, GSAKMP_TESLA_COMMIT_LEN);
		for (unsigned int i = 0; i < s->nb_sids; i++)
			put16(q + TESLA_SENDER_FIXED + 2 * i, s->sids[i]);
		off += TESLA_SENDER_FIXED + 2u * s->nb_sids;
	}
	return off;
}

static int attr_value(struct gsakmp_sa_attrs *sa, unsigned int a, const uint8_t *v, size_t l)
{
	switch (a) {
	case GSAKMP_ATTR_SPI:
		if (l != 4)
			return -GSAKMP_E_ATTR;
		sa->spi = get32(v);
		break;
	case GSAKMP_ATTR_SUITE:
		if (l != 2)
			return -GSAKMP_E_ATTR;
		sa->suite = get16(v);
		break;
	case GSAKMP_ATTR_FLAGS:
		if (l != 4)
			return -GSAKMP_E_ATTR;
		sa->flags = get32(v);
		break;
	case GSAKMP_ATTR_SID_BITS:
		if (l != 1)
			return -GSAKMP_E_ATTR;
		sa->sid_bits = v[0];
		break;
	case GSAKMP_ATTR_SIDS:
		if (l == 0 || l % 2 != 0 || l / 2 > GSAKMP_MAX_SIDS)
			return -GSAKMP_E_ATTR;
		sa->nb_sids = (uint8_t)(l / 2);
		for (size_t i = 0; i < l / 2; i++)
			sa->sids[i] = get16(v + 2 * i);
		break;
	case GSAKMP_ATTR_ACT_DELAY:
	case GSAKMP_ATTR_DEACT_DELAY:
	case GSAKMP_ATTR_REPLAY_WINDOW:
		if (l != 4)
			return -GSAKMP_E_ATTR;
		*(a == GSAKMP_ATTR_ACT_DELAY ? &sa->act_delay_ms :
			a == GSAKMP_ATTR_DEACT_DELAY ? &sa->deact_delay_ms :
			&sa->replay_window) = get32(v);
		break;
	case GSAKMP_ATTR_GROUP_ADDR:
	case GSAKMP_ATTR_SOURCE_ADDR:
		if ((l != 4 && l != 16) || (sa->addr_len != 0 && sa->addr_len != l))
			return -GSAKMP_E_ATTR;
		sa->addr_len = (uint8_t)l;
		memcpy(a == GSAKMP_ATTR_GROUP_ADDR ? sa->group_addr : sa->source_addr, v, l);
		break;
	case GSAKMP_ATTR_TESLA: {
		int rc = tesla_parse(v, l, &sa->tesla);

		if (rc != 0)
			return rc;
		break;
	}
	default:
		return -GSAKMP_E_ATTR;
	}
	sa->present |= 1u << a;
	return 0;
}

/* Attributes come in strictly ascending type order, so each has one canonical encoding. */
static int sa_parse(const uint8_t *p, size_t len, struct gsakmp_sa_attrs *sa)
{
	size_t off = SA_FIXED;
	unsigned int last = 0;
	int rc;

	memset(sa, 0, sizeof(*sa));
	if (len < SA_FIXED)
		return -GSAKMP_E_MALFORMED;
	sa->key_id = get32(p);
	sa->key_handle = get32(p + 4);
	while (off < len) {
		uint16_t t, l;
		unsigned int a;
		bool crit;

		if (len - off < ATTR_HDR)
			return -GSAKMP_E_MALFORMED;
		t = get16(p + off);
		l = get16(p + off + 2);
		if (l > len - off - ATTR_HDR)
			return -GSAKMP_E_MALFORMED;
		a = t & ~GSAKMP_ATTR_CRITICAL;
		crit = (t & GSAKMP_ATTR_CRITICAL) != 0;
		if (a <= last)
			return -GSAKMP_E_ATTR;
		last = a;
		if (a == 0 || a >= GSAKMP_ATTR_MAX) {
			/* unknown: skip it unless the sender says we must understand it */
			if (crit)
				return -GSAKMP_E_CRITICAL_ATTR;
		} else {
			if (crit != attr_critical[a])
				return -GSAKMP_E_ATTR;
			rc = attr_value(sa, a, p + off + ATTR_HDR, l);
			if (rc != 0)
				return rc;
		}
		off += ATTR_HDR + l;
	}
	return gsakmp_pvt_sa_check(sa);
}

/* Attribute header for a value of l octets already written after it. */
static size_t attr_hdr(uint8_t *p, unsigned int a, size_t l)
{
	put16(p, (uint16_t)(a | (attr_critical[a] ? GSAKMP_ATTR_CRITICAL : 0)));
	put16(p + 2, (uint16_t)l);
	return ATTR_HDR + l;
}

static int sa_build(const struct gsakmp_sa_attrs *sa, uint8_t *p, size_t cap, size_t *len)
{
	uint8_t tmp[SA_MAX];
	size_t off = SA_FIXED;
	int rc;

	rc = gsakmp_pvt_sa_check(sa);
	if (rc != 0)
		return rc;
	put32(tmp, sa->key_id);
	put32(tmp + 4, sa->key_handle);
	for (unsigned int a = 1; a < GSAKMP_ATTR_MAX; a++) {
		uint8_t *v = tmp + off + ATTR_HDR;
		size_t l = 0;

		if (!HAS(sa, a))
			continue;
		switch (a) {
		case GSAKMP_ATTR_SPI:
			put32(v, sa->spi);
			l = 4;
			break;
		case GSAKMP_ATTR_SUITE:
			put16(v, sa->suite);
			l = 2;
			break;
		case GSAKMP_ATTR_FLAGS:
			put32(v, sa->flags);
			l = 4;
			break;
		case GSAKMP_ATTR_SID_BITS:
			v[0] = sa->sid_bits;
			l = 1;
			break;
		case GSAKMP_ATTR_SIDS:
			for (unsigned int i = 0; i < sa->nb_sids; i++)
				put16(v + 2 * i, sa->sids[i]);
			l = 2u * sa->nb_sids;
			break;
		case GSAKMP_ATTR_ACT_DELAY:
			put32(v, sa->act_delay_ms);
			l = 4;
			break;
		case GSAKMP_ATTR_DEACT_DELAY:
			put32(v, sa->deact_delay_ms);
			l = 4;
			break;
		case GSAKMP_ATTR_REPLAY_WINDOW:
			put32(v, sa->replay_window);
			l = 4;
			break;
		case GSAKMP_ATTR_GROUP_ADDR:
			memcpy(v, sa->group_addr, sa->addr_len);
			l = sa->addr_len;
			break;
		case GSAKMP_ATTR_SOURCE_ADDR:
			memcpy(v, sa->source_addr, sa->addr_len);
			l = sa->addr_len;
			break;
		case GSAKMP_ATTR_TESLA:
			l = tesla_put(&sa->tesla, v);
			break;
		default:
			break;
		}
		off += attr_hdr(tmp + off, a, l);
	}
	if (cap < off)
		return -GSAKMP_E_NO_SPACE;
	memcpy(p, tmp, off);
	*len = off;
	return 0;
}

/* ------------------------------------------------------------------ items and packages */

/*
 * Key Download items (kpkg = false) and Key Packages (kpkg = true) share their framing,
 * Type (1) | Length (2) | data; they differ in what type 1 carries: a Rekey Array in a Key
 * Download, one Key Datum in a Key Package (§7.5.1.2.1, Table 15).
 */
static int items_parse(const uint8_t *in, size_t len, struct gsakmp_kd *kd, bool kpkg)
{
	size_t off = 2;
	uint16_t n;
	int rc;

	if (in == NULL || kd == NULL)
		return -GSAKMP_E_INVALID;
	kd->nb_items = 0;
	kd->nb_keys = 0;
	if (len < 2)
		return -GSAKMP_E_MALFORMED;
	n = get16(in);
	if ((size_t)n * ITEM_HDR > len - off)
		return -GSAKMP_E_COUNT;
	if (n > GSAKMP_KD_MAX_ITEMS)
		return -GSAKMP_E_LIMIT;
	for (uint16_t i = 0; i < n; i++) {
		struct gsakmp_kd_item *it = &kd->items[i];
		const uint8_t *d;
		size_t ilen;

		if (len - off < ITEM_HDR)
			return -GSAKMP_E_COUNT;
		memset(it, 0, sizeof(*it));
		it->type = in[off];
		ilen = get16(in + off + 1);
		if (ilen > len - off - ITEM_HDR)
			return -GSAKMP_E_MALFORMED;
		d = in + off + ITEM_HDR;
		switch (it->type) {
		case GSAKMP_KDD_GTPK:
			rc = datum_parse(d, ilen, &it->u.datum);
			break;
		case GSAKMP_KDD_REKEY_LKH:
			rc = kpkg ? datum_parse(d, ilen, &it->u.datum) :
				ra_parse(d, ilen, kd, &it->u.ra);
			break;
		case GSAKMP_KDD_DATA_SA:
			rc = sa_parse(d, ilen, &it->u.sa);
			break;
		default:
			rc = -GSAKMP_E_ITEM_TYPE;
			break;
		}
		if (rc != 0)
			return rc;
		kd->nb_items++;
		off += ITEM_HDR + ilen;
	}
	return off == len ? 0 : -GSAKMP_E_COUNT;
}

static int items_build(const struct gsakmp_kd *kd, uint8_t *out, size_t cap, size_t *len,
		bool kpkg)
{
	size_t off = 2, n;
	int rc;

	if (kd == NULL || out == NULL || len == NULL || kd->nb_items > GSAKMP_KD_MAX_ITEMS ||
			kd->nb_keys > GSAKMP_KD_MAX_KEYS)
		return -GSAKMP_E_INVALID;
	if (cap < 2)
		return -GSAKMP_E_NO_SPACE;
	put16(out, kd->nb_items);
	for (uint16_t i = 0; i < kd->nb_items; i++) {
		const struct gsakmp_kd_item *it = &kd->items[i];
		uint8_t *d;

		if (cap - off < ITEM_HDR)
			return -GSAKMP_E_NO_SPACE;
		d = out + off + ITEM_HDR;
		switch (it->type) {
		case GSAKMP_KDD_GTPK:
			rc = datum_build(&it->u.datum, d, cap - off - ITEM_HDR, &n);
			break;
		case GSAKMP_KDD_REKEY_LKH:
			rc = kpkg ? datum_build(&it->u.datum, d, cap - off - ITEM_HDR, &n) :
				ra_build(kd, &it->u.ra, d, cap - off - ITEM_HDR, &n);
			break;
		case GSAKMP_KDD_DATA_SA:
			rc = sa_build(&it->u.sa, d, cap - off - ITEM_HDR, &n);
			break;
		default:
			rc = -GSAKMP_E_ITEM_TYPE;
			break;
		}
		if (rc != 0)
			return rc;
		if (n > PL_MAX)
			return -GSAKMP_E_LIMIT;
		out[off] = it->type;
		put16(out + off + 1, (uint16_t)n);
		off += ITEM_HDR + n;
	}
	*len = off;
	return 0;
}

int gsakmp_kd_parse(const uint8_t *in, size_t len, struct gsakmp_kd *out)
{
	return items_parse(in, len, out, false);
}

int gsakmp_kd_build(const struct gsakmp_kd *kd, uint8_t *out, size_t cap, size_t *len)
{
	return items_build(kd, out, cap, len, false);
}

int gsakmp_kpkg_parse(const uint8_t *in, size_t len, struct gsakmp_kd *out)
{
	return items_parse(in, len, out, true);
}

int gsakmp_kpkg_build(const struct gsakmp_kd *pkgs, uint8_t *out, size_t cap, size_t *len)
{
	return items_build(pkgs, out, cap, len, true);
}
