/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key Download contents (RFC 4535 §7.4.1), Key Packages of Rekey Event Data (§7.5.1.2.1) and
 * the profile's data SA attributes. These are the plaintexts of KEK-protected blobs: they are
 * parsed only after the protection has been removed, with the same validate-then-interpret
 * discipline as the message itself.
 */
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
/* TESLA attribute fixed part before the commitment. */
#define TESLA_FIXED 24u

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

int gsakmp_pvt_sa_check(const struct gsakmp_sa_attrs *sa)
{
	if (sa->present & ~((1u << GSAKMP_ATTR_MAX) - 2u))
		return -GSAKMP_E_ATTR;
	if (!HAS(sa, GSAKMP_ATTR_SPI) || !HAS(sa, GSAKMP_ATTR_SUITE))
		return -GSAKMP_E_ATTR;
	if (sa->suite < GSAKMP_SUITE_AES_GCM_128 || sa->suite > GSAKMP_SUITE_NULL_HMAC_SHA256)
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
	if (HAS(sa, GSAKMP_ATTR_TESLA)) {
		const struct gsakmp_tesla *t = &sa->tesla;

		if (t->interval_ms == 0 || t->disclosure_delay == 0 || t->chain_len == 0 ||
				t->key_len < 16 || t->key_len > GSAKMP_TESLA_KEY_MAX ||
				t->mac_len < 10 || t->mac_len > 32)
			return -GSAKMP_E_ATTR;
	}
	return 0;
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
		struct gsakmp_tesla *t = &sa->tesla;

		if (l < TESLA_FIXED || l != TESLA_FIXED + (size_t)v[6] ||
				v[6] > GSAKMP_TESLA_KEY_MAX)
			return -GSAKMP_E_ATTR;
		t->interval_ms = get32(v);
		t->disclosure_delay = get16(v + 4);
		t->key_len = v[6];
		t->mac_len = v[7];
		t->t0_ms = get64(v + 8);
		t->chain_len = get32(v + 16);
		t->max_skew_ms = get32(v + 20);
		memcpy(t->commitment, v + TESLA_FIXED, t->key_len);
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

static size_t attr_put(uint8_t *p, unsigned int a, const void *v, size_t l)
{
	put16(p, (uint16_t)(a | (attr_critical[a] ? GSAKMP_ATTR_CRITICAL : 0)));
	put16(p + 2, (uint16_t)l);
	if (l != 0)
		memcpy(p + ATTR_HDR, v, l);
	return ATTR_HDR + l;
}

static int sa_build(const struct gsakmp_sa_attrs *sa, uint8_t *p, size_t cap, size_t *len)
{
	/* longest encoding: fixed part and every attribute at its largest */
	uint8_t tmp[SA_FIXED + GSAKMP_ATTR_MAX * ATTR_HDR + 4 + 2 + 4 + 1 + 2 * GSAKMP_MAX_SIDS +
		3 * 4 + 2 * 16 + TESLA_FIXED + GSAKMP_TESLA_KEY_MAX];
	uint8_t v[TESLA_FIXED + GSAKMP_TESLA_KEY_MAX];
	size_t off = SA_FIXED;
	int rc;

	rc = gsakmp_pvt_sa_check(sa);
	if (rc != 0)
		return rc;
	put32(tmp, sa->key_id);
	put32(tmp + 4, sa->key_handle);
	for (unsigned int a = 1; a < GSAKMP_ATTR_MAX; a++) {
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
			put32(v, sa->tesla.interval_ms);
			put16(v + 4, sa->tesla.disclosure_delay);
			v[6] = sa->tesla.key_len;
			v[7] = sa->tesla.mac_len;
			put64(v + 8, sa->tesla.t0_ms);
			put32(v + 16, sa->tesla.chain_len);
			put32(v + 20, sa->tesla.max_skew_ms);
			memcpy(v + TESLA_FIXED, sa->tesla.commitment, sa->tesla.key_len);
			l = TESLA_FIXED + sa->tesla.key_len;
			break;
		default:
			break;
		}
		off += attr_put(tmp + off, a, v, l);
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
