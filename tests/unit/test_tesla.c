/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tesla: RFC 4082 / RFC 5776 key chains (lib/tesla). HMAC-SHA-256 against RFC 4231; F, F',
 * the commitment and the MAC against the known answers of doc/tesla.md (cross-checked with
 * `openssl dgst -mac HMAC`), also through a sender given K_N = 00 01 .. 1f; parameter checks;
 * interval arithmetic and the safe-packet test at their exact boundaries; checkpointed chains of
 * 2^20 keys and their memory; receivers that lose disclosures, meet forged keys, long walks,
 * and switch across two and three chains through authenticated commitments.
 *
 * Senders get K_N from a counter (tesla_sender_create_rng) so every run sees the same keys.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "tesla.h"
#include "tesla_pvt.h"
#include "test_common.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KEY TESLA_KEY_LEN

/* ------------------------------------------------------------------ helpers */

static void hex(const char *h, uint8_t *out, size_t len)
{
	ck_assert_int_eq(test_hex(h, out, len), (int)len);
}

/* K_N source: call number c (from *arg) fills bytes 32c, 32c + 1, ... mod 256. */
static int counter_rng(uint8_t *buf, size_t len, void *arg)
{
	unsigned int *calls = arg;

	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(*calls * len + k);
	(*calls)++;
	return 0;
}

static int failing_rng(uint8_t *buf, size_t len, void *arg)
{
	(void)buf;
	(void)len;
	(void)arg;
	return -EIO;
}

static struct tesla_params params(uint32_t n, uint32_t d, uint32_t g)
{
	struct tesla_params p = {
		.t0 = 5000000, .t_int = 10000000, .d_t = 1000000, .n = n, .d = d, .max_walk = g,
	};

	return p;
}

static struct tesla_sender *sender(const struct tesla_params *p, uint32_t first,
		uint32_t newkcc, unsigned int *calls)
{
	struct tesla_sender *s = NULL;

	ck_assert_int_eq(tesla_sender_create_rng(p, first, newkcc, counter_rng, calls, &s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

static struct tesla_rx *rx_chain0(const struct tesla_params *p, struct tesla_sender *s)
{
	uint8_t c[KEY];
	struct tesla_rx *r = NULL;

	ck_assert_int_eq(tesla_sender_commitment(s, 0, c), 0);
	ck_assert_int_eq(tesla_rx_create(p, 0, c, &r), 0);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void skey(struct tesla_sender *s, uint32_t i, uint8_t k[KEY])
{
	ck_assert_msg(tesla_sender_key(s, i, k) == 0, "sender key %u", i);
}

static void newest_is(const struct tesla_rx *r, uint32_t want)
{
	uint32_t v = ~want;

	ck_assert_int_eq(tesla_rx_newest(r, &v), 0);
	ck_assert_uint_eq(v, want);
}

/* ------------------------------------------------------------------ PRF and KATs */

/* RFC 4231 §4.2-4.8. A key or data of the form "xx*n" is the byte xx repeated n times. */
static const struct {
	const char *key, *data, *mac;
	size_t mac_len;
} rfc4231[] = {
	{ "0b*20", "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32 },
	{ "4a656665", "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32 },
	{ "aa*20", "dd*50",
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32 },
	{ "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32 },
	{ "0c*20", "Test With Truncation", "a3b6167473100ee06e0c796c2955552b", 16 },
	{ "aa*131", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32 },
	{ "aa*131", "This is a test using a larger than block-size key and a larger than "
		"block-size data. The key needs to be hashed before being used by the HMAC "
		"algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32 },
};

/* "xx*n" -> n bytes xx; otherwise hex (key) or text (data). */
static size_t field(const char *s, bool is_hex, uint8_t *out, size_t cap)
{
	unsigned int b, n;

	if (sscanf(s, "%2x*%u", &b, &n) == 2 && strchr(s, '*') != NULL) {
		ck_assert_uint_le(n, cap);
		memset(out, (int)b, n);
		return n;
	}
	if (!is_hex) {
		ck_assert_uint_le(strlen(s), cap);
		memcpy(out, s, strlen(s));
		return strlen(s);
	}
	int len = test_hex(s, out, cap);

	ck_assert_int_gt(len, 0);
	return (size_t)len;
}

START_TEST(hmac_rfc4231)
{
	uint8_t key[200], data[200], want[32], got[32];
	size_t kl = field(rfc4231[_i].key, true, key, sizeof(key));
	size_t dl = field(rfc4231[_i].data, false, data, sizeof(data));

	hex(rfc4231[_i].mac, want, rfc4231[_i].mac_len);
	ck_assert_int_eq(tesla_hmac_sha256(key, kl, data, dl, got), 0);
	ck_assert_mem_eq(got, want, rfc4231[_i].mac_len);
}
END_TEST

START_TEST(hmac_errors)
{
	uint8_t out[32], k[KEY] = { 0 };

	ck_assert_int_eq(tesla_hmac_sha256(NULL, 4, "x", 1, out), -EINVAL);
	ck_assert_int_eq(tesla_hmac_sha256(k, KEY, NULL, 1, out), -EINVAL);
	ck_assert_int_eq(tesla_hmac_sha256(k, KEY, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(tesla_f(NULL, out), -EINVAL);
	ck_assert_int_eq(tesla_f_prime(NULL, out), -EINVAL);
	ck_assert_int_eq(tesla_mac(NULL, "x", 1, out), -EINVAL);
	ck_assert_int_eq(tesla_mac_check(k, "x", 1, NULL), -EINVAL);
	/* empty key and empty message are valid HMAC inputs */
	ck_assert_int_eq(tesla_hmac_sha256(NULL, 0, NULL, 0, out), 0);
	hex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad", k, KEY);
	ck_assert_mem_eq(out, k, KEY);
}
END_TEST

/* doc/tesla.md "Key chains", known answers: K_N = 00 01 .. 1f, N = 4. */
static const char *const kat_k[] = {
	"e508621a726a2da046a8d6b550e57e7355b54fb8a55d23eda1a98c5113914499",   /* K_0 */
	"e72edd7531527a20c77f04bfd35c6d47fd3e70e6bb61c586c9c4265903ec473b",
	"ba9a2cddf57c631556b0f46e51252e5e2360719f24b69ccf2dc30ee12a1e9bbf",
	"e711546e3faad4c7c4aa756bc26cad6abea8241984a0f6b0839c70ca61c4ef88",
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",   /* K_4 */
};
static const char kat_commit[] =
	"3b0c3febdb53cc35b33e1511a472a4b16ccb56d1bf158b3970e98295d1e3731a";
static const char kat_kp3[] = "d7604e032697a057eebb59e4051a011f04edd1c84d6c45bdddc512fb98283574";
static const char kat_mac3[] = "ce943ad703e1d61bc11a67503cece46e";
static const char kat_msg[] = "TESLA test message";

START_TEST(kat_f_chain)
{
	uint8_t k[KEY], want[KEY];

	hex(kat_k[4], k, KEY);
	for (int i = 3; i >= 0; i--) {
		ck_assert_int_eq(tesla_f(k, k), 0);      /* in place */
		hex(kat_k[i], want, KEY);
		ck_assert_msg(memcmp(k, want, KEY) == 0, "K_%d", i);
	}
	ck_assert_int_eq(tesla_f(k, k), 0);
	hex(kat_commit, want, KEY);
	ck_assert_mem_eq(k, want, KEY);
}
END_TEST

START_TEST(kat_f_prime_mac)
{
	uint8_t k3[KEY], kp[KEY], want[KEY], mac[TESLA_MAC_LEN];

	hex(kat_k[3], k3, KEY);
	ck_assert_int_eq(tesla_f_prime(k3, kp), 0);
	hex(kat_kp3, want, KEY);
	ck_assert_mem_eq(kp, want, KEY);
	ck_assert_int_eq(tesla_mac(kp, kat_msg, strlen(kat_msg), mac), 0);
	hex(kat_mac3, want, TESLA_MAC_LEN);
	ck_assert_mem_eq(mac, want, TESLA_MAC_LEN);
	ck_assert_int_eq(tesla_mac_check(kp, kat_msg, strlen(kat_msg), mac), 0);
	mac[15] ^= 0x01;
	ck_assert_int_eq(tesla_mac_check(kp, kat_msg, strlen(kat_msg), mac), -EBADMSG);
	mac[15] ^= 0x01;
	ck_assert_int_eq(tesla_mac_check(kp, kat_msg, strlen(kat_msg) - 1, mac), -EBADMSG);
	/* F' is not F: the MAC key is never the next chain key (the CMU library's flaw) */
	ck_assert_int_eq(tesla_f(k3, want), 0);
	ck_assert_mem_ne(kp, want, KEY);
}
END_TEST

/* The input of F is one octet 0x00, not the 4-byte zero some implementations use. */
START_TEST(kat_encoding_is_one_octet)
{
	static const uint8_t zero4[4];
	uint8_t k4[KEY], f[KEY], alt[KEY], want[KEY];

	hex(kat_k[4], k4, KEY);
	ck_assert_int_eq(tesla_f(k4, f), 0);
	ck_assert_int_eq(tesla_hmac_sha256(k4, KEY, zero4, sizeof(zero4), alt), 0);
	hex("a86acbcbc29b8fa83c83582d56a892d0f06f0e487df5277680b0635c3927e3c5", want, KEY);
	ck_assert_mem_eq(alt, want, KEY);
	ck_assert_mem_ne(f, alt, KEY);
}
END_TEST

/* The same answers through a sender (checkpointed chain) and a receiver. */
START_TEST(kat_sender_receiver)
{
	struct tesla_params p = params(4, 2, 4);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_rx *r;
	uint8_t k[KEY], want[KEY];
	uint32_t first = 99;

	ck_assert_uint_eq(calls, 1);
	ck_assert_int_eq(tesla_sender_commitment(s, 0, k), 0);
	hex(kat_commit, want, KEY);
	ck_assert_mem_eq(k, want, KEY);
	for (uint32_t i = 0; i <= 4; i++) {
		skey(s, i, k);
		hex(kat_k[i], want, KEY);
		ck_assert_msg(memcmp(k, want, KEY) == 0, "K_%u", i);
	}
	ck_assert_int_eq(tesla_sender_mac_key(s, 3, k), 0);
	hex(kat_kp3, want, KEY);
	ck_assert_mem_eq(k, want, KEY);

	hex(kat_commit, want, KEY);
	ck_assert_int_eq(tesla_rx_create(&p, 0, want, &r), 0);
	hex(kat_k[3], k, KEY);
	ck_assert_int_eq(tesla_rx_verify_key(r, 3, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 0);
	ck_assert_int_eq(tesla_rx_key(r, 1, k), 0);
	hex(kat_k[1], want, KEY);
	ck_assert_mem_eq(k, want, KEY);
	ck_assert_int_eq(tesla_rx_mac_key(r, 3, k), 0);
	hex(kat_kp3, want, KEY);
	ck_assert_mem_eq(k, want, KEY);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/* ------------------------------------------------------------------ parameters and time */

static const struct {
	const char *what;
	struct tesla_params p;
	enum tesla_param_error why;
} param_cases[] = {
	{ "valid", { 0, 10, 0, 100, 2, 1 }, TESLA_PARAM_OK },
	{ "T_int 0", { 0, 0, 0, 100, 2, 1 }, TESLA_PARAM_T_INT },
	{ "d 0", { 0, 10, 0, 100, 0, 1 }, TESLA_PARAM_D_SMALL },
	{ "d 1", { 0, 10, 0, 100, 1, 1 }, TESLA_PARAM_D_SMALL },
	{ "d 255", { 0, 10, 0, 300, 255, 1 }, TESLA_PARAM_OK },
	{ "d 256", { 0, 10, 0, 300, 256, 1 }, TESLA_PARAM_D_LARGE },
	{ "N 0", { 0, 10, 0, 0, 2, 1 }, TESLA_PARAM_N },
	{ "N max", { 0, 10, 0, UINT32_MAX, 2, 1 }, TESLA_PARAM_N },
	{ "N max - 1", { 0, 10, 0, UINT32_MAX - 1, 2, 1 }, TESLA_PARAM_OK },
	{ "d = N", { 0, 10, 0, 3, 3, 1 }, TESLA_PARAM_OK },
	{ "d > N", { 0, 10, 0, 2, 3, 1 }, TESLA_PARAM_D_N },
	{ "g 0", { 0, 10, 0, 100, 2, 0 }, TESLA_PARAM_WALK },
	{ "D_t d T_int - 1", { 0, 10, 19, 100, 2, 1 }, TESLA_PARAM_OK },
	{ "D_t d T_int", { 0, 10, 20, 100, 2, 1 }, TESLA_PARAM_D_T },
	{ "D_t negative", { 0, 10, INT64_MIN, 100, 2, 1 }, TESLA_PARAM_OK },
	{ "d T_int overflows", { 0, UINT64_MAX, INT64_MAX, 100, 2, 1 }, TESLA_PARAM_OK },
};

START_TEST(params_check)
{
	enum tesla_param_error why = (enum tesla_param_error)-1;
	int rc = tesla_params_check(&param_cases[_i].p, &why);

	ck_assert_msg(why == param_cases[_i].why, "%s: why %d", param_cases[_i].what, why);
	ck_assert_int_eq(rc, why == TESLA_PARAM_OK ? 0 : -EINVAL);
	ck_assert_int_eq(tesla_params_check(&param_cases[_i].p, NULL), rc);
}
END_TEST

START_TEST(params_strerror)
{
	ck_assert_int_eq(tesla_params_check(NULL, NULL), -EINVAL);
	for (int a = TESLA_PARAM_OK; a <= TESLA_PARAM_D_T; a++) {
		const char *sa = tesla_param_strerror((enum tesla_param_error)a);

		ck_assert_uint_gt(strlen(sa), 5);
		for (int b = a + 1; b <= TESLA_PARAM_D_T; b++)
			ck_assert_str_ne(sa, tesla_param_strerror((enum tesla_param_error)b));
	}
	ck_assert_str_eq(tesla_param_strerror((enum tesla_param_error)99),
		"unknown parameter error");
}
END_TEST

START_TEST(interval_boundaries)
{
	struct tesla_params p = params(100, 2, 4);   /* T_0 = 5 ms, T_int = 10 ms */
	uint32_t i = 77;
	uint64_t t = 0;

	for (uint32_t k = 1; k < 5; k++) {
		ck_assert_int_eq(tesla_interval(&p, p.t0 + k * p.t_int - 1, &i), 0);
		ck_assert_uint_eq(i, k - 1);
		ck_assert_int_eq(tesla_interval(&p, p.t0 + k * p.t_int, &i), 0);
		ck_assert_uint_eq(i, k);
		ck_assert_int_eq(tesla_interval_start(&p, k, &t), 0);
		ck_assert_uint_eq(t, p.t0 + k * p.t_int);
	}
	ck_assert_int_eq(tesla_interval(&p, p.t0, &i), 0);
	ck_assert_uint_eq(i, 0);
	i = 77;
	ck_assert_int_eq(tesla_interval(&p, p.t0 - 1, &i), -ERANGE);
	ck_assert_int_eq(tesla_interval(&p, 0, &i), -ERANGE);
	ck_assert_uint_eq(i, 77);
	/* UINT64_MAX ns is 1.8e12 intervals of 10 ms, 2.1e9 of 2^33 ns */
	ck_assert_int_eq(tesla_interval(&p, UINT64_MAX, &i), -EOVERFLOW);
	p.t_int = UINT64_C(1) << 33;
	ck_assert_int_eq(tesla_interval(&p, UINT64_MAX, &i), 0);
	ck_assert_uint_eq(i, (UINT64_MAX - p.t0) >> 33);
	ck_assert_uint_eq(i, 2147483647);
	/* the last 32-bit index, and one past it */
	p.t_int = 1;
	p.t0 = 5;
	ck_assert_int_eq(tesla_interval(&p, 5 + (uint64_t)UINT32_MAX, &i), 0);
	ck_assert_uint_eq(i, UINT32_MAX);
	ck_assert_int_eq(tesla_interval(&p, 6 + (uint64_t)UINT32_MAX, &i), -EOVERFLOW);
	ck_assert_int_eq(tesla_interval(&p, UINT64_MAX, &i), -EOVERFLOW);
	ck_assert_int_eq(tesla_interval_start(&p, UINT32_MAX, &t), 0);
	ck_assert_uint_eq(t, 5 + (uint64_t)UINT32_MAX);
	/* start times that do not fit 64 bits */
	p.t0 = UINT64_MAX - 5;
	p.t_int = 10;
	ck_assert_int_eq(tesla_interval_start(&p, 0, &t), 0);
	ck_assert_uint_eq(t, UINT64_MAX - 5);
	ck_assert_int_eq(tesla_interval_start(&p, 1, &t), -EOVERFLOW);
	p.t0 = 0;
	p.t_int = UINT64_MAX / 2;
	ck_assert_int_eq(tesla_interval_start(&p, 2, &t), 0);
	ck_assert_int_eq(tesla_interval_start(&p, 3, &t), -EOVERFLOW);
}
END_TEST

START_TEST(latest_interval)
{
	struct tesla_params p = params(100, 2, 4);   /* D_t = 1 ms */

	/* x = floor((t + D_t - T_0) / T_int) */
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 - p.d_t - 1), -1);
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 - p.d_t), 0);
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 + 3 * p.t_int - p.d_t - 1), 2);
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 + 3 * p.t_int - p.d_t), 3);
	ck_assert_int_eq(tesla_latest_interval(&p, 0), -1);
	/* t + D_t saturates */
	ck_assert_int_eq(tesla_latest_interval(&p, UINT64_MAX),
		(int64_t)((UINT64_MAX - p.t0) / p.t_int));
	/* negative D_t: receiver clock ahead */
	p.d_t = -500;
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 + 499), -1);
	ck_assert_int_eq(tesla_latest_interval(&p, p.t0 + 500), 0);
	p.d_t = INT64_MIN;
	ck_assert_int_eq(tesla_latest_interval(&p, UINT64_MAX / 2), -1);
	ck_assert_int_eq(tesla_latest_interval(&p, UINT64_MAX), (int64_t)(
		(UINT64_MAX - (UINT64_C(1) << 63) - p.t0) / p.t_int));
	/* a 1 ns interval over the whole clock clamps to INT64_MAX */
	p.d_t = 0;
	p.t0 = 0;
	p.t_int = 1;
	ck_assert_int_eq(tesla_latest_interval(&p, UINT64_MAX), INT64_MAX);
}
END_TEST

START_TEST(safe_packet_test)
{
	struct tesla_params p = params(100, 3, 4);   /* d = 3 */
	const uint32_t i = 10;
	uint64_t start;

	/* on x directly: safe iff i <= x < i + d */
	ck_assert_int_eq(tesla_safety_x(&p, i - 1, i), TESLA_FUTURE);
	ck_assert_int_eq(tesla_safety_x(&p, i, i), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety_x(&p, i + p.d - 1, i), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety_x(&p, i + p.d, i), TESLA_UNSAFE);
	ck_assert_int_eq(tesla_safety_x(&p, -1, 0), TESLA_FUTURE);
	ck_assert_int_eq(tesla_safety_x(&p, 0, 0), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety_x(&p, INT64_MAX, UINT32_MAX), TESLA_UNSAFE);
	ck_assert_int_eq(tesla_safety_x(&p, (int64_t)UINT32_MAX + 2, UINT32_MAX), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety_x(&p, (int64_t)UINT32_MAX + 3, UINT32_MAX), TESLA_UNSAFE);

	/* on arrival times: x = i + d - 1 until T_0 + (i + d) T_int - D_t - 1 */
	ck_assert_int_eq(tesla_interval_start(&p, i + p.d, &start), 0);
	ck_assert_int_eq(tesla_safety(&p, start - (uint64_t)p.d_t - 1, i), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety(&p, start - (uint64_t)p.d_t, i), TESLA_UNSAFE);
	ck_assert_int_eq(tesla_interval_start(&p, i, &start), 0);
	ck_assert_int_eq(tesla_safety(&p, start - (uint64_t)p.d_t - 1, i), TESLA_FUTURE);
	ck_assert_int_eq(tesla_safety(&p, start - (uint64_t)p.d_t, i), TESLA_SAFE);
	ck_assert_int_eq(tesla_safety(&p, 0, 0), TESLA_FUTURE);
	ck_assert_int_eq(tesla_safety(&p, UINT64_MAX, 0), TESLA_UNSAFE);
}
END_TEST

START_TEST(chain_indices)
{
	struct tesla_params p = params(4, 2, 4);
	uint32_t first = 0;

	ck_assert_uint_eq(tesla_chain_of(&p, 4), 0);
	ck_assert_uint_eq(tesla_chain_of(&p, 5), 1);
	ck_assert_uint_eq(tesla_chain_pos(&p, 4), 4);
	ck_assert_uint_eq(tesla_chain_pos(&p, 7), 2);
	ck_assert_int_eq(tesla_chain_start(&p, 1, &first), 0);
	ck_assert_uint_eq(first, 5);
	/* 2^32 = 5 * 858993459 + 1: the last chain holds the single index 2^32 - 1 */
	ck_assert_uint_eq(tesla_chain_of(&p, UINT32_MAX), 858993459);
	ck_assert_int_eq(tesla_chain_start(&p, 858993459, &first), 0);
	ck_assert_uint_eq(first, UINT32_MAX);
	ck_assert_int_eq(tesla_chain_start(&p, 858993460, &first), -ERANGE);
	p.n = UINT32_MAX - 1;
	ck_assert_uint_eq(tesla_chain_of(&p, UINT32_MAX - 1), 0);
	ck_assert_uint_eq(tesla_chain_of(&p, UINT32_MAX), 1);
	ck_assert_uint_eq(tesla_chain_pos(&p, UINT32_MAX), 0);
	ck_assert_int_eq(tesla_chain_start(&p, 2, &first), -ERANGE);
	/* checkpoint spacing C = ceil(sqrt(N + 1)) */
	ck_assert_uint_eq(tesla_cp_every(3), 2);
	ck_assert_uint_eq(tesla_cp_every(4), 3);
	ck_assert_uint_eq(tesla_cp_every(8), 3);
	ck_assert_uint_eq(tesla_cp_every((1u << 20) - 1), 1024);
	ck_assert_uint_eq(tesla_cp_every(1u << 20), 1025);
	ck_assert_uint_eq(tesla_cp_every(UINT32_MAX - 1), 65536);
}
END_TEST

/* ------------------------------------------------------------------ sender */

START_TEST(sender_errors)
{
	struct tesla_params p = params(9, 2, 4);
	struct tesla_sender *s = NULL;
	unsigned int calls = 0;
	uint8_t k[KEY];

	ck_assert_int_eq(tesla_sender_create(&p, 0, 0, &s), -EINVAL);
	ck_assert_int_eq(tesla_sender_create(&p, 0, 9, &s), -EINVAL);    /* > N + 1 - d */
	ck_assert_int_eq(tesla_sender_create(&p, 0, 1, NULL), -EINVAL);
	ck_assert_int_eq(tesla_sender_create(NULL, 0, 1, &s), -EINVAL);
	ck_assert_int_eq(tesla_sender_create_rng(&p, 0, 1, failing_rng, NULL, &s), -EIO);
	ck_assert_ptr_null(s);
	p.d = 1;
	ck_assert_int_eq(tesla_sender_create(&p, 0, 1, &s), -EINVAL);
	p.d = 2;
	ck_assert_int_eq(tesla_sender_create(&p, 0, 8, &s), 0);         /* = N + 1 - d */
	tesla_sender_free(s);
	tesla_sender_free(NULL);

	/* a sender starting in chain 3 has no earlier chain, and never skips one */
	s = sender(&p, 35, 3, &calls);
	ck_assert_uint_eq(tesla_sender_chain(s), 3);
	ck_assert_int_eq(tesla_sender_key(s, 29, k), -ENOENT);
	ck_assert_int_eq(tesla_sender_key(s, 50, k), -ERANGE);
	ck_assert_int_eq(tesla_sender_commitment(s, 2, k), -ENOENT);
	ck_assert_int_eq(tesla_sender_commitment(s, 4, k), -ENOENT);
	ck_assert_int_eq(tesla_sender_commitment(s, 3, k), 0);
	ck_assert_int_eq(tesla_sender_key(NULL, 35, k), -EINVAL);
	ck_assert_int_eq(tesla_sender_mac_key(s, 35, NULL), -EINVAL);
	ck_assert_uint_eq(tesla_sender_chain(s), 3);
	tesla_sender_free(s);

	/* the last chain of the 32-bit index space has no successor */
	p = params(4, 2, 4);
	s = sender(&p, UINT32_MAX, 1, &calls);
	ck_assert_int_eq(tesla_sender_prepare_next(s), -ERANGE);
	ck_assert_int_eq(tesla_sender_newkcc(s, UINT32_MAX, k), 0);    /* position 0 */
	skey(s, UINT32_MAX, k);
	tesla_sender_free(s);
}
END_TEST

/* Every order of access gives the same chain: K_i = F(K_{i+1}), commitment F(K_0). */
START_TEST(sender_chain_consistent)
{
	static const uint32_t ns[] = { 2, 3, 8, 15, 16, 100, 1000 };
	struct tesla_params p = params(ns[_i], 2, 4);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	uint8_t k[KEY], f[KEY], up[KEY], c[KEY];

	skey(s, p.n, up);
	for (uint32_t i = p.n; i-- > 0;) {      /* downwards: a segment refill at each step */
		skey(s, i, k);
		ck_assert_int_eq(tesla_f(up, f), 0);
		ck_assert_msg(memcmp(f, k, KEY) == 0, "N %u: K_%u != F(K_%u)", p.n, i, i + 1);
		memcpy(up, k, KEY);
	}
	ck_assert_int_eq(tesla_f(up, f), 0);
	ck_assert_int_eq(tesla_sender_commitment(s, 0, c), 0);
	ck_assert_mem_eq(f, c, KEY);
	for (uint32_t i = 0; i <= p.n; i += 7) { /* and upwards, strided */
		uint8_t again[KEY];

		skey(s, i, k);
		skey(s, p.n - i, again);
		skey(s, i, again);
		ck_assert_mem_eq(k, again, KEY);
	}
	/* K'_i = F'(K_i) */
	skey(s, p.n / 2, k);
	ck_assert_int_eq(tesla_f_prime(k, f), 0);
	ck_assert_int_eq(tesla_sender_mac_key(s, p.n / 2, k), 0);
	ck_assert_mem_eq(k, f, KEY);
	tesla_sender_free(s);
}
END_TEST

/*
 * A long chain walked the way a sender and a receiver use it: every key in increasing order,
 * each verified by one F step. 2^16 keys, to stay quick under sanitizers.
 */
START_TEST(chain_walk_2_16)
{
	struct tesla_params p = params((1u << 16) - 1, 2, 1);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 2, &calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	uint8_t k[KEY], prev[KEY], f[KEY];
	uint32_t first;
	size_t mem;

	/* C = 256: 256 checkpoints and two segments of 256 keys */
	ck_assert_uint_lt(tesla_sender_mem(s), 768 * KEY + 1024);
	for (uint32_t i = 0; i <= p.n; i++) {
		skey(s, i, k);
		ck_assert_msg(tesla_rx_verify_key(r, i, k, &first) == TESLA_KEY_NEW, "K_%u", i);
		ck_assert_uint_eq(first, i);
		if (i % 4099 == 1) {
			ck_assert_int_eq(tesla_f(k, f), 0);
			ck_assert_mem_eq(f, prev, KEY);
		}
		memcpy(prev, k, KEY);
	}
	newest_is(r, p.n);
	ck_assert_uint_lt(tesla_rx_mem(r), 4 * 1024);
	/* the next chain adds exactly its checkpoints */
	mem = tesla_sender_mem(s);
	ck_assert_int_eq(tesla_sender_prepare_next(s), 0);
	ck_assert_uint_eq(tesla_sender_mem(s), mem + 256 * KEY);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/*
 * A chain of 2^20 keys: checkpoints every 1024 keys and two segments of 1024 stay below
 * 200 KB, also counting the 1024 checkpoints a prepared next chain adds (measured at 2^16
 * above; preparing one here would double the 2.6 s this test takes under ASan). Spot checks
 * across segments; timed loosely.
 */
START_TEST(chain_memory_2_20)
{
	struct tesla_params p = params((1u << 20) - 1, 2, 3);
	unsigned int calls = 0;
	struct tesla_sender *s;
	struct tesla_rx *r;
	uint8_t k[KEY], up[KEY], f[KEY];
	struct timespec t0, t1;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = sender(&p, 0, 2, &calls);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(ms < 30000, "2^20 keys took %.0f ms", ms);
	ck_assert_uint_lt(tesla_sender_mem(s), 200 * 1024);
	ck_assert_uint_gt(tesla_sender_mem(s), 3 * 1024 * KEY);    /* C = 1024, 3 C keys */
	r = rx_chain0(&p, s);
	skey(s, 2, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 2, k, NULL), TESLA_KEY_NEW);
	tesla_rx_free(r);
	/* segment edges: K_{mC-1} = F(K_{mC}) */
	for (uint32_t m = 1; m < 1024; m += 97) {
		skey(s, m * 1024, up);
		skey(s, m * 1024 - 1, k);
		ck_assert_int_eq(tesla_f(up, f), 0);
		ck_assert_mem_eq(f, k, KEY);
	}
	skey(s, p.n, up);
	skey(s, p.n - 1, k);
	ck_assert_int_eq(tesla_f(up, f), 0);
	ck_assert_mem_eq(f, k, KEY);
	ck_assert_uint_lt(tesla_sender_mem(s) + 1024 * KEY, 200 * 1024);
	printf("tesla: 2^20-key chain generated in %.0f ms; sender holds %zu bytes\n", ms,
		tesla_sender_mem(s));
	tesla_sender_free(s);
}
END_TEST

START_TEST(sender_newkcc_and_tail)
{
	struct tesla_params p = params(9, 2, 4);     /* chains of 10 keys */
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 3, &calls);
	uint8_t c1[KEY], got[KEY], k[KEY], tail[2][KEY];

	ck_assert_uint_eq(calls, 1);
	ck_assert_int_eq(tesla_sender_newkcc(s, 6, got), 0);
	ck_assert_uint_eq(calls, 1);                /* nothing prepared outside the window */
	ck_assert_int_eq(tesla_sender_newkcc(s, 7, c1), 1);
	ck_assert_uint_eq(calls, 2);
	ck_assert_int_eq(tesla_sender_newkcc(s, 9, got), 1);
	ck_assert_mem_eq(got, c1, KEY);
	ck_assert_int_eq(tesla_sender_newkcc(s, 10, got), -ENOENT);
	ck_assert_int_eq(tesla_sender_commitment(s, 1, got), 0);
	ck_assert_mem_eq(got, c1, KEY);
	ck_assert_int_eq(tesla_sender_prepare_next(s), 0);
	ck_assert_uint_eq(calls, 2);                /* already there */
	skey(s, 8, tail[0]);
	skey(s, 9, tail[1]);

	/* index 10 switches chains; the commitment is F(K_10) */
	skey(s, 10, k);
	ck_assert_uint_eq(tesla_sender_chain(s), 1);
	ck_assert_int_eq(tesla_f(k, got), 0);
	ck_assert_mem_eq(got, c1, KEY);
	ck_assert_int_eq(tesla_sender_commitment(s, 0, got), -ENOENT);
	/* the old chain keeps its last d keys (K_{i-d} and the re-sent last key) */
	skey(s, 8, got);
	ck_assert_mem_eq(got, tail[0], KEY);
	skey(s, 9, got);
	ck_assert_mem_eq(got, tail[1], KEY);
	ck_assert_int_eq(tesla_sender_key(s, 7, got), -ENOENT);
	ck_assert_int_eq(tesla_sender_key(s, 30, got), -ERANGE);
	/* no next chain prepared: asking for it generates it */
	skey(s, 20, k);
	ck_assert_uint_eq(calls, 3);
	ck_assert_uint_eq(tesla_sender_chain(s), 2);
	ck_assert_int_eq(tesla_sender_key(s, 9, got), -ENOENT);
	skey(s, 19, got);
	tesla_sender_free(s);
}
END_TEST

/* ------------------------------------------------------------------ receiver */

START_TEST(rx_errors)
{
	struct tesla_params p = params(4, 2, 4);
	struct tesla_rx *r = NULL;
	uint8_t k[KEY] = { 0 };
	uint32_t v;

	ck_assert_int_eq(tesla_rx_create(&p, 0, NULL, &r), -EINVAL);
	ck_assert_int_eq(tesla_rx_create(&p, 0, k, NULL), -EINVAL);
	ck_assert_int_eq(tesla_rx_create(NULL, 0, k, &r), -EINVAL);
	ck_assert_int_eq(tesla_rx_create(&p, 858993460, k, &r), -ERANGE);
	p.max_walk = 0;
	ck_assert_int_eq(tesla_rx_create(&p, 0, k, &r), -EINVAL);
	ck_assert_int_eq(tesla_rx_create_key(&p, 3, k, &r), -EINVAL);
	ck_assert_ptr_null(r);
	p.max_walk = 4;
	ck_assert_int_eq(tesla_rx_create(&p, 0, k, &r), 0);
	ck_assert_int_eq(tesla_rx_newest(r, &v), -ENOENT);
	ck_assert_int_eq(tesla_rx_key(r, 0, k), -ENOENT);
	ck_assert_int_eq(tesla_rx_key(r, 7, k), -ENOENT);
	ck_assert_int_eq(tesla_rx_key(r, 0, NULL), -EINVAL);
	ck_assert_int_eq(tesla_rx_mac_key(r, 0, NULL), -EINVAL);
	ck_assert_int_eq(tesla_rx_verify_key(r, 0, NULL, NULL), TESLA_KEY_MISMATCH);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 1, NULL), -EINVAL);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 0, k), -ERANGE);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 2, k), -ERANGE);
	ck_assert_uint_eq(tesla_rx_chain(r), 0);
	tesla_rx_free(r);
	tesla_rx_free(NULL);
	/* the next chain must exist in the index space */
	ck_assert_int_eq(tesla_rx_create(&p, 858993459, k, &r), 0);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 858993460, k), -ERANGE);
	tesla_rx_free(r);
}
END_TEST

/* Disclosures lost: one later key recovers every key in between (RFC 4082 §3.5 step 4). */
START_TEST(rx_lost_disclosures)
{
	struct tesla_params p = params(63, 2, 8);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	uint8_t k[KEY], want[KEY];
	uint32_t first = 99;

	skey(s, 0, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 0, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 0);
	ck_assert_int_eq(tesla_rx_verify_key(r, 0, k, &first), TESLA_KEY_KNOWN);
	/* K_1 .. K_5 never arrive */
	skey(s, 6, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 6, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 1);
	newest_is(r, 6);
	for (uint32_t w = first; w <= 6; w++) {
		skey(s, w, want);
		ck_assert_int_eq(tesla_rx_key(r, w, k), 0);
		ck_assert_msg(memcmp(k, want, KEY) == 0, "K_%u", w);
		ck_assert_int_eq(tesla_sender_mac_key(s, w, want), 0);
		ck_assert_int_eq(tesla_rx_mac_key(r, w, k), 0);
		ck_assert_msg(memcmp(k, want, KEY) == 0, "K'_%u", w);
		/* a late disclosure of a recovered key is known */
		skey(s, w, k);
		ck_assert_int_eq(tesla_rx_verify_key(r, w, k, NULL), TESLA_KEY_KNOWN);
	}
	ck_assert_int_eq(tesla_rx_key(r, 7, k), -ENOENT);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/* The walk bound is exact: max_walk steps verify, max_walk + 1 are refused, state intact. */
START_TEST(rx_walk_bound)
{
	struct tesla_params p = params(63, 2, 8);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	uint8_t k[KEY];
	uint32_t first = 99;

	/* from the commitment (position -1): K_7 is 8 steps, K_8 is 9 */
	skey(s, 8, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 8, k, &first), TESLA_KEY_WALK_TOO_LONG);
	ck_assert_uint_eq(first, 99);
	ck_assert_int_eq(tesla_rx_newest(r, &first), -ENOENT);
	skey(s, 7, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 7, k, NULL), TESLA_KEY_NEW);
	skey(s, 16, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 16, k, NULL), TESLA_KEY_WALK_TOO_LONG);
	newest_is(r, 7);
	ck_assert_int_eq(tesla_rx_key(r, 16, k), -ENOENT);
	skey(s, 15, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 15, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 8);
	newest_is(r, 15);
	/* a forged key far ahead costs no hashing and changes nothing */
	memset(k, 0x5a, KEY);
	ck_assert_int_eq(tesla_rx_verify_key(r, 60, k, NULL), TESLA_KEY_WALK_TOO_LONG);
	newest_is(r, 15);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/* Keys older than the kept ones by more than max_walk are not derived. */
START_TEST(rx_too_old)
{
	struct tesla_params p = params(63, 2, 8);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	uint8_t k[KEY], want[KEY];

	for (uint32_t i = 0; i <= 40; i++) {
		skey(s, i, k);
		ck_assert_int_eq(tesla_rx_verify_key(r, i, k, NULL), TESLA_KEY_NEW);
	}
	/* kept: K_9 .. K_40 (TESLA_RX_CACHE = 32); K_1 is 8 steps below K_9, K_0 nine */
	ck_assert_int_eq(TESLA_RX_CACHE, 32);
	skey(s, 1, want);
	ck_assert_int_eq(tesla_rx_key(r, 1, k), 0);
	ck_assert_mem_eq(k, want, KEY);
	ck_assert_int_eq(tesla_rx_verify_key(r, 1, want, NULL), TESLA_KEY_KNOWN);
	skey(s, 0, want);
	ck_assert_int_eq(tesla_rx_key(r, 0, k), -ERANGE);
	ck_assert_int_eq(tesla_rx_verify_key(r, 0, want, NULL), TESLA_KEY_TOO_OLD);
	newest_is(r, 40);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/* Forged keys: random bytes, a key of another chain, a genuine key at a wrong index. */
START_TEST(rx_forged_keys)
{
	struct tesla_params p = params(63, 2, 8);
	unsigned int calls = 0, other_calls = 7;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_sender *other = sender(&p, 0, 1, &other_calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	uint8_t k[KEY], bad[KEY], before[KEY], after[KEY];
	uint32_t first = 99;

	skey(s, 5, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 5, k, NULL), TESLA_KEY_NEW);
	ck_assert_int_eq(tesla_rx_key(r, 3, before), 0);

	for (int round = 0; round < 2; round++) {
		uint32_t j = round == 0 ? 9 : 4;      /* above, then below the newest key */

		memset(bad, 0xc3, KEY);
		bad[0] = (uint8_t)j;
		ck_assert_int_eq(tesla_rx_verify_key(r, j, bad, &first), TESLA_KEY_MISMATCH);
		skey(other, j, bad);
		ck_assert_int_eq(tesla_rx_verify_key(r, j, bad, &first), TESLA_KEY_MISMATCH);
		skey(s, j + 1, bad);
		ck_assert_int_eq(tesla_rx_verify_key(r, j, bad, &first), TESLA_KEY_MISMATCH);
		skey(s, j - 1, bad);
		ck_assert_int_eq(tesla_rx_verify_key(r, j, bad, &first), TESLA_KEY_MISMATCH);
		skey(s, j, bad);
		bad[31] ^= 0x80;
		ck_assert_int_eq(tesla_rx_verify_key(r, j, bad, &first), TESLA_KEY_MISMATCH);
		ck_assert_uint_eq(first, 99);
		newest_is(r, 5);
		ck_assert_int_eq(tesla_rx_key(r, 3, after), 0);
		ck_assert_mem_eq(before, after, KEY);
		ck_assert_int_eq(tesla_rx_key(r, j == 9 ? 6 : 5, after), j == 9 ? -ENOENT : 0);
	}
	/* the genuine keys still verify after all that */
	skey(s, 4, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 4, k, NULL), TESLA_KEY_KNOWN);
	skey(s, 9, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 9, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 6);
	/* a key of chain 1 before any commitment for it */
	skey(other, 64, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 64, k, NULL), TESLA_KEY_UNKNOWN_CHAIN);
	newest_is(r, 9);
	tesla_rx_free(r);
	tesla_sender_free(other);
	tesla_sender_free(s);
}
END_TEST

/* Bootstrapped with a verified key instead of a commitment. */
START_TEST(rx_bootstrap_key)
{
	struct tesla_params p = params(63, 2, 8);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 1, &calls);
	struct tesla_rx *r = NULL;
	uint8_t k[KEY], want[KEY];
	uint32_t first = 0;

	skey(s, 10, k);
	ck_assert_int_eq(tesla_rx_create_key(&p, 10, k, &r), 0);
	newest_is(r, 10);
	ck_assert_int_eq(tesla_rx_verify_key(r, 10, k, NULL), TESLA_KEY_KNOWN);
	skey(s, 12, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 12, k, &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 11);
	skey(s, 3, want);                         /* below the bootstrap key: derived */
	ck_assert_int_eq(tesla_rx_verify_key(r, 3, want, NULL), TESLA_KEY_KNOWN);
	want[0] ^= 1;
	ck_assert_int_eq(tesla_rx_verify_key(r, 3, want, NULL), TESLA_KEY_MISMATCH);
	skey(s, 64, k);
	ck_assert_int_eq(tesla_rx_verify_key(r, 64, k, NULL), TESLA_KEY_UNKNOWN_CHAIN);
	newest_is(r, 12);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

/* ------------------------------------------------------------------ chain switching */

/*
 * A sender and a receiver over `intervals` intervals of N + 1 = 10 keys, d = 2, max_walk 4,
 * n_newkcc = 3, one packet per interval carrying (i, MAC(K'_i, payload), K_{i-d}), the payload
 * holding the next chain's commitment in the last three intervals of each chain. The receiver
 * verifies each disclosed key, authenticates the packet of interval i - d with it and only then
 * accepts the commitment that packet carried (RFC 5776 §4.3 steps 4-8). The disclosure sent in
 * interval `lose` is lost; the commitment packets of chain `tamper` are altered on the wire.
 */
struct pkt {
	uint32_t i;
	bool has_commit;
	uint8_t payload[8 + KEY];
	uint8_t mac[TESLA_MAC_LEN];
};

struct run {
	uint32_t authenticated, bad_macs, unknown, chain;
};

static void send_pkt(struct tesla_sender *s, const struct tesla_params *p, uint32_t i,
		uint32_t tamper, struct pkt *pk)
{
	uint8_t kp[KEY];
	int nk;

	memset(pk, 0, sizeof(*pk));
	pk->i = i;
	memcpy(pk->payload, "payload", 8);
	ck_assert_int_eq(tesla_sender_mac_key(s, i, kp), 0);     /* first: may switch chains */
	nk = tesla_sender_newkcc(s, i, pk->payload + 8);
	ck_assert_int_ge(nk, 0);
	ck_assert_int_eq(nk, tesla_chain_pos(p, i) >= 7);
	pk->has_commit = nk == 1;
	ck_assert_int_eq(tesla_mac(kp, pk->payload, sizeof(pk->payload), pk->mac), 0);
	if (pk->has_commit && tesla_chain_of(p, i) == tamper)
		pk->payload[8 + 5] ^= 0x10;
}

static void receive_key(struct tesla_rx *r, const struct tesla_params *p, uint32_t j,
		const uint8_t k[KEY], const struct pkt *old, struct run *res)
{
	enum tesla_key_verdict v;
	uint8_t kp[KEY];
	uint32_t first = UINT32_MAX;

	v = tesla_rx_verify_key(r, j, k, &first);
	if (v == TESLA_KEY_UNKNOWN_CHAIN) {
		res->unknown++;
		return;
	}
	ck_assert_msg(v == TESLA_KEY_NEW, "key %u: verdict %d", j, v);
	ck_assert_uint_le(first, j);
	ck_assert_uint_eq(tesla_rx_chain(r), tesla_chain_of(p, j));
	ck_assert_uint_eq(old->i, j);
	ck_assert_int_eq(tesla_rx_mac_key(r, j, kp), 0);
	if (tesla_mac_check(kp, old->payload, sizeof(old->payload), old->mac) != 0) {
		res->bad_macs++;
		return;
	}
	res->authenticated++;
	if (old->has_commit)
		ck_assert_int_eq(tesla_rx_set_next_commitment(r, tesla_chain_of(p, j) + 1,
			old->payload + 8), 0);
}

static struct run run_switch(uint32_t intervals, uint32_t lose, uint32_t tamper)
{
	struct tesla_params p = params(9, 2, 4);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 3, &calls);
	struct tesla_rx *r = rx_chain0(&p, s);
	struct pkt held[3];                       /* d + 1 intervals in flight */
	struct run res = { 0 };
	uint8_t k[KEY];

	for (uint32_t i = 0; i < intervals; i++) {
		send_pkt(s, &p, i, tamper, &held[i % 3]);
		if (i < p.d || i == lose)
			continue;
		skey(s, i - p.d, k);
		receive_key(r, &p, i - p.d, k, &held[(i - p.d) % 3], &res);
	}
	res.chain = tesla_rx_chain(r);
	tesla_rx_free(r);
	tesla_sender_free(s);
	return res;
}

START_TEST(switch_two_and_three_chains)
{
	struct run res;

	res = run_switch(20 + 2, UINT32_MAX, UINT32_MAX);      /* keys 0..19: chains 0, 1 */
	ck_assert_uint_eq(res.authenticated, 20);
	ck_assert_uint_eq(res.bad_macs + res.unknown, 0);
	ck_assert_uint_eq(res.chain, 1);
	res = run_switch(30 + 2, UINT32_MAX, UINT32_MAX);      /* chains 0, 1, 2 */
	ck_assert_uint_eq(res.authenticated, 30);
	ck_assert_uint_eq(res.bad_macs + res.unknown, 0);
	ck_assert_uint_eq(res.chain, 2);
}
END_TEST

/* Lost disclosures at the switch: the old chain's last key, the new chain's first. */
START_TEST(switch_with_losses)
{
	struct run res;

	res = run_switch(30 + 2, 11, UINT32_MAX);              /* K_9 never disclosed */
	ck_assert_uint_eq(res.authenticated, 29);
	ck_assert_uint_eq(res.chain, 2);
	res = run_switch(30 + 2, 12, UINT32_MAX);              /* K_10 never disclosed */
	ck_assert_uint_eq(res.authenticated, 29);
	ck_assert_uint_eq(res.chain, 2);
}
END_TEST

/*
 * Commitments altered on the wire fail their packets' MACs, so they are never accepted: the
 * receiver stays on chain 1 and every key of chain 2 is of an unknown chain.
 */
START_TEST(switch_tampered_commitment)
{
	struct run res = run_switch(30 + 2, UINT32_MAX, 1);

	ck_assert_uint_eq(res.bad_macs, 3);                    /* intervals 17, 18, 19 */
	ck_assert_uint_eq(res.unknown, 10);                    /* keys 20 .. 29 */
	ck_assert_uint_eq(res.authenticated, 17);
	ck_assert_uint_eq(res.chain, 1);
}
END_TEST

START_TEST(switch_rules)
{
	struct tesla_params p = params(9, 2, 4);
	unsigned int calls = 0;
	struct tesla_sender *s = sender(&p, 0, 3, &calls);
	struct tesla_rx *r = NULL;
	uint8_t ks[31][KEY], c[3][KEY], bad[KEY], k[KEY];
	uint8_t zero[KEY] = { 0 };
	uint32_t first = 0;

	/* the sender walks up once, announcing each next chain in the last interval */
	ck_assert_int_eq(tesla_sender_commitment(s, 0, c[0]), 0);
	for (uint32_t i = 0; i <= 30; i++) {
		skey(s, i, ks[i]);
		if (i == 9 || i == 19)
			ck_assert_int_eq(tesla_sender_newkcc(s, i, c[i / 10 + 1]), 1);
	}
	ck_assert_int_eq(tesla_sender_key(s, 9, k), -ENOENT);     /* the sender dropped it */

	ck_assert_int_eq(tesla_rx_create(&p, 0, c[0], &r), 0);
	for (uint32_t i = 0; i <= 7; i++)
		ck_assert_int_eq(tesla_rx_verify_key(r, i, ks[i], NULL), TESLA_KEY_NEW);
	/* chain 1 before its commitment, chain 2 at any time: unknown */
	ck_assert_int_eq(tesla_rx_verify_key(r, 10, ks[10], NULL), TESLA_KEY_UNKNOWN_CHAIN);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 2, c[2]), -ERANGE);
	ck_assert_int_eq(tesla_rx_verify_key(r, 20, ks[20], NULL), TESLA_KEY_UNKNOWN_CHAIN);
	/* a wrong commitment (a caller that skipped authentication) verifies nothing */
	memcpy(bad, c[1], KEY);
	bad[0] ^= 1;
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 1, bad), 0);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 1, c[1]), -EEXIST);
	ck_assert_int_eq(tesla_rx_verify_key(r, 10, ks[10], NULL), TESLA_KEY_MISMATCH);
	ck_assert_uint_eq(tesla_rx_chain(r), 0);
	newest_is(r, 7);
	tesla_rx_free(r);

	ck_assert_int_eq(tesla_rx_create(&p, 0, c[0], &r), 0);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 1, c[1]), 0);
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 1, c[1]), 0);   /* repeated: fine */
	ck_assert_int_eq(tesla_rx_verify_key(r, 3, ks[3], NULL), TESLA_KEY_NEW);
	ck_assert_int_eq(tesla_rx_verify_key(r, 7, ks[7], NULL), TESLA_KEY_NEW);
	/* K_8 and K_9 lost; the new chain's first keys verify through the commitment */
	ck_assert_int_eq(tesla_rx_verify_key(r, 14, ks[14], NULL), TESLA_KEY_WALK_TOO_LONG);
	ck_assert_uint_eq(tesla_rx_chain(r), 0);
	ck_assert_int_eq(tesla_rx_verify_key(r, 13, ks[13], &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 10);
	ck_assert_uint_eq(tesla_rx_chain(r), 1);
	newest_is(r, 13);
	ck_assert_int_eq(tesla_rx_key(r, 10, k), 0);
	ck_assert_mem_eq(k, ks[10], KEY);
	/* the old chain's last key, re-sent (RFC 5776 tag type 4), still verifies */
	ck_assert_int_eq(tesla_rx_key(r, 9, k), -ENOENT);
	ck_assert_int_eq(tesla_rx_verify_key(r, 9, ks[9], &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 8);
	ck_assert_int_eq(tesla_rx_verify_key(r, 8, ks[8], NULL), TESLA_KEY_KNOWN);
	ck_assert_int_eq(tesla_rx_verify_key(r, 8, ks[9], NULL), TESLA_KEY_MISMATCH);
	newest_is(r, 13);

	/* on to chain 2: chain 0 is dropped, chain 1 kept */
	ck_assert_int_eq(tesla_rx_set_next_commitment(r, 2, c[2]), 0);
	ck_assert_int_eq(tesla_rx_verify_key(r, 20, ks[20], &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 20);
	ck_assert_uint_eq(tesla_rx_chain(r), 2);
	ck_assert_int_eq(tesla_rx_verify_key(r, 19, ks[19], NULL), TESLA_KEY_WALK_TOO_LONG);
	ck_assert_int_eq(tesla_rx_verify_key(r, 17, ks[17], &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 14);
	ck_assert_int_eq(tesla_rx_verify_key(r, 19, ks[19], &first), TESLA_KEY_NEW);
	ck_assert_uint_eq(first, 18);
	ck_assert_int_eq(tesla_rx_verify_key(r, 12, ks[12], NULL), TESLA_KEY_KNOWN);
	newest_is(r, 20);
	ck_assert_int_eq(tesla_rx_verify_key(r, 9, ks[9], NULL), TESLA_KEY_UNKNOWN_CHAIN);
	ck_assert_int_eq(tesla_rx_verify_key(r, 7, zero, NULL), TESLA_KEY_UNKNOWN_CHAIN);
	ck_assert_int_eq(tesla_rx_key(r, 9, k), -ENOENT);
	ck_assert_int_eq(tesla_rx_verify_key(r, 30, ks[30], NULL), TESLA_KEY_UNKNOWN_CHAIN);
	tesla_rx_free(r);
	tesla_sender_free(s);
}
END_TEST

Suite *tesla_suite(void);

Suite *tesla_suite(void)
{
	Suite *s = suite_create("tesla");
	TCase *tc;

	tc = tcase_create("prf");
	tcase_add_loop_test(tc, hmac_rfc4231, 0, (int)ARRAY_LEN(rfc4231));
	tcase_add_test(tc, hmac_errors);
	tcase_add_test(tc, kat_f_chain);
	tcase_add_test(tc, kat_f_prime_mac);
	tcase_add_test(tc, kat_encoding_is_one_octet);
	tcase_add_test(tc, kat_sender_receiver);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, params_check, 0, (int)ARRAY_LEN(param_cases));
	tcase_add_test(tc, params_strerror);
	tcase_add_test(tc, interval_boundaries);
	tcase_add_test(tc, latest_interval);
	tcase_add_test(tc, safe_packet_test);
	tcase_add_test(tc, chain_indices);
	suite_add_tcase(s, tc);

	tc = tcase_create("sender");
	tcase_add_test(tc, sender_errors);
	tcase_add_loop_test(tc, sender_chain_consistent, 0, 7);
	tcase_add_test(tc, sender_newkcc_and_tail);
	suite_add_tcase(s, tc);

	tc = tcase_create("chain");
	tcase_add_test(tc, chain_walk_2_16);
	tcase_add_test(tc, chain_memory_2_20);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("receiver");
	tcase_add_test(tc, rx_errors);
	tcase_add_test(tc, rx_lost_disclosures);
	tcase_add_test(tc, rx_walk_bound);
	tcase_add_test(tc, rx_too_old);
	tcase_add_test(tc, rx_forged_keys);
	tcase_add_test(tc, rx_bootstrap_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("switch");
	tcase_add_test(tc, switch_two_and_three_chains);
	tcase_add_test(tc, switch_with_losses);
	tcase_add_test(tc, switch_tampered_commitment);
	tcase_add_test(tc, switch_rules);
	suite_add_tcase(s, tc);
	return s;
}
