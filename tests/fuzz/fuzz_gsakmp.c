/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the GSAKMP codec (lib/gsakmp).
 *
 * Each input is tried as a whole message, as TCP stream framing, and as the plaintexts behind
 * a KEK (Key Download contents, Key Packages). Besides the sanitizers' checks, the library's
 * promises are asserted:
 * - a decoded message re-encodes to exactly its own bytes, and those decode to the same view;
 * - every error is a known reason;
 * - Rekey Event Data blocks can be walked to the count the decoder validated;
 * - signature verification on a decoded message fails cleanly (there is no trust anchor);
 * - parsed Key Download contents and Key Packages re-encode to bytes that parse to the same
 *   view (unknown non-critical attributes are dropped, so bytes may differ, views may not).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct gsakmp_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (gsakmp_trust_new(&trust) != 0)
		abort();
	return 0;
}

static void check_err(int rc)
{
	if (rc > 0 || rc <= -GSAKMP_E__MAX || strcmp(gsakmp_errname(rc), "unknown") == 0)
		abort();
}

static void check_same_view(const struct gsakmp_msg *a, const struct gsakmp_msg *b)
{
	if (a->hdr.gid_type != b->hdr.gid_type || a->hdr.gid_len != b->hdr.gid_len ||
			memcmp(a->hdr.gid, b->hdr.gid, a->hdr.gid_len) != 0 ||
			a->hdr.version != b->hdr.version || a->hdr.exch != b->hdr.exch ||
			a->hdr.seq != b->hdr.seq || a->hdr.length != b->hdr.length ||
			a->nb_payloads != b->nb_payloads || a->sig_index != b->sig_index ||
			a->profile != b->profile)
		abort();
	for (uint16_t i = 0; i < a->nb_payloads; i++)
		if (a->pl[i].type != b->pl[i].type || a->pl[i].length != b->pl[i].length ||
				a->pl[i].offset != b->pl[i].offset)
			abort();
}

static bool datum_eq(const struct gsakmp_key_datum *a, const struct gsakmp_key_datum *b)
{
	return a->type == b->type && a->id == b->id && a->handle == b->handle &&
		a->created == b->created && a->expires == b->expires &&
		a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Both sides were parsed into zeroed structures, so unused senders and SIDs compare too. */
static bool tesla_eq(const struct gsakmp_tesla *a, const struct gsakmp_tesla *b)
{
	if (a->interval_ms != b->interval_ms || a->d != b->d || a->mac != b->mac ||
			a->t0_ms != b->t0_ms || a->chain_len != b->chain_len ||
			a->max_skew_ms != b->max_skew_ms || a->nb_senders != b->nb_senders)
		return false;
	for (unsigned int k = 0; k < GSAKMP_TESLA_MAX_SENDERS; k++) {
		const struct gsakmp_tesla_sender *x = &a->senders[k], *y = &b->senders[k];

		if (x->nb_sids != y->nb_sids || x->chain != y->chain ||
				memcmp(x->sids, y->sids, sizeof(x->sids)) != 0 ||
				memcmp(x->commitment, y->commitment, sizeof(x->commitment)) != 0)
			return false;
	}
	return true;
}

static bool sa_eq(const struct gsakmp_sa_attrs *a, const struct gsakmp_sa_attrs *b)
{
	return a->key_id == b->key_id && a->key_handle == b->key_handle &&
		a->present == b->present && a->spi == b->spi && a->suite == b->suite &&
		a->flags == b->flags && a->sid_bits == b->sid_bits && a->nb_sids == b->nb_sids &&
		memcmp(a->sids, b->sids, sizeof(a->sids)) == 0 &&
		a->act_delay_ms == b->act_delay_ms && a->deact_delay_ms == b->deact_delay_ms &&
		a->replay_window == b->replay_window && a->addr_len == b->addr_len &&
		memcmp(a->group_addr, b->group_addr, sizeof(a->group_addr)) == 0 &&
		memcmp(a->source_addr, b->source_addr, sizeof(a->source_addr)) == 0 &&
		tesla_eq(&a->tesla, &b->tesla);
}

static void check_kd_eq(const struct gsakmp_kd *a, const struct gsakmp_kd *b, bool kpkg)
{
	if (a->nb_items != b->nb_items || a->nb_keys != b->nb_keys)
		abort();
	for (uint16_t i = 0; i < a->nb_items; i++) {
		const struct gsakmp_kd_item *x = &a->items[i], *y = &b->items[i];

		if (x->type != y->type)
			abort();
		if (x->type == GSAKMP_KDD_GTPK || (kpkg && x->type == GSAKMP_KDD_REKEY_LKH)) {
			if (!datum_eq(&x->u.datum, &y->u.datum) ||
					x->u.datum.key_len != gsakmp_key_type_len(x->u.datum.type))
				abort();
		} else if (x->type == GSAKMP_KDD_REKEY_LKH) {
			if (x->u.ra.version != 1 || x->u.ra.member_id != y->u.ra.member_id ||
					x->u.ra.nb_keys != y->u.ra.nb_keys ||
					x->u.ra.first_key != y->u.ra.first_key)
				abort();
			for (uint16_t k = 0; k < x->u.ra.nb_keys; k++)
				if (!datum_eq(&a->keys[x->u.ra.first_key + k],
						&b->keys[y->u.ra.first_key + k]))
					abort();
		} else if (x->type == GSAKMP_KDD_DATA_SA) {
			if (!sa_eq(&x->u.sa, &y->u.sa))
				abort();
		} else {
			abort();
		}
	}
}

static void kd_roundtrip(const uint8_t *data, size_t len, bool kpkg)
{
	static struct gsakmp_kd kd, back;
	static uint8_t out[1 << 17];
	size_t n;
	int rc;

	rc = kpkg ? gsakmp_kpkg_parse(data, len, &kd) : gsakmp_kd_parse(data, len, &kd);
	if (rc != 0) {
		check_err(rc);
		return;
	}
	rc = kpkg ? gsakmp_kpkg_build(&kd, out, sizeof(out), &n) :
		gsakmp_kd_build(&kd, out, sizeof(out), &n);
	if (rc != 0 || n > len)
		abort();
	rc = kpkg ? gsakmp_kpkg_parse(out, n, &back) : gsakmp_kd_parse(out, n, &back);
	if (rc != 0)
		abort();
	check_kd_eq(&kd, &back, kpkg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct gsakmp_msg m, m2;
	struct gsakmp_dec_ctx ctx = { .embedded_v1 = true };
	uint8_t *out;
	uint32_t flen;
	size_t n;
	int rc;

	rc = gsakmp_frame_len(data, len, 0, &flen);
	if (rc < 0)
		check_err(rc);
	else if (rc == 1 && flen < GSAKMP_HDR_FIXED + 1u)
		abort();

	rc = gsakmp_decode(data, len, &m, &ctx);
	if (rc != 0) {
		check_err(rc);
	} else {
		if (m.buf < data || m.buf + m.len != data + len)
			abort();
		out = malloc(m.len);
		if (out == NULL)
			abort();
		if (gsakmp_encode_msg(&m, out, m.len, &n) != 0 || n != m.len ||
				memcmp(out, m.buf, n) != 0)
			abort();
		if (gsakmp_decode(out, n, &m2, NULL) != 0)
			abort();
		check_same_view(&m, &m2);
		free(out);
		for (uint16_t i = 0; i < m.nb_payloads; i++) {
			struct gsakmp_red_iter it;
			struct gsakmp_red red;
			uint16_t nb = 0;

			if (m.pl[i].type == GSAKMP_PL_KEY_DOWNLOAD)
				kd_roundtrip(m.pl[i].u.kdl.body, m.pl[i].u.kdl.len, false);
			if (m.pl[i].type != GSAKMP_PL_REKEY_EVENT)
				continue;
			gsakmp_red_iter_init(&it, &m.pl[i].u.rekey);
			while (gsakmp_red_next(&it, &red)) {
				kd_roundtrip(red.body, red.len, true);
				nb++;
			}
			if (nb != m.pl[i].u.rekey.nb_data || it.left != 0)
				abort();
		}
		if (m.sig_index >= 0) {
			rc = gsakmp_verify(&m, NULL, trust, 0, 0, NULL);
			if (rc == 0)
				abort();
			check_err(rc);
		}
	}

	kd_roundtrip(data, len, false);
	kd_roundtrip(data, len, true);
	return 0;
}
