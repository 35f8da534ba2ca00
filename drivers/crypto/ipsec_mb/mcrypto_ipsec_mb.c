/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AES-GCM (RFC 4106) through the Intel IPsec-MB direct API.
 *
 * The direct API is one synchronous call per packet on pre-expanded keys: no job queue, no
 * per-call parameter objects (OpenSSL EVP spends most of a 64-byte packet on its per-call
 * parameter handling). The IMB_MGR is only a table of function pointers chosen for this CPU
 * at init; the GCM functions keep no state in it, so one manager serves every thread. The GCM
 * context (struct gcm_context_data) lives on the caller's stack for each packet, and the key
 * schedule in the session is only read: workers share sessions without synchronisation, the
 * control thread publishes and retires them through RCU.
 *
 * AAD: the direct API takes any AAD length (a uint64_t), so both RFC 4106 §5 formats, SPI || SN
 * (8 bytes) and SPI || ESN (12 bytes), go through the same call. Version 1.3 has no separate entry
 * point per AAD length; its VAES/AVX-512 code has an internal shortcut for a 12-byte AAD and takes
 * the general AAD path for other lengths.
 *
 * Caveat seen in the 1.3 disassembly: every direct GCM call first stores 0 into the library's
 * process-wide imb_errno (a plain global, not thread-local), so worker cores write one shared
 * cache line per packet. Harmless for correctness; watch it in multi-core benchmarks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <smmintrin.h>
#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include "mcrypto.h"

static pthread_once_t mgr_once = PTHREAD_ONCE_INIT;
static IMB_MGR *mgr;
static int mgr_err;

/* Runs once per process, from the first session creation (a control thread). */
static void mgr_init(void)
{
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *m;

	m = alloc_mb_mgr(0);
	if (m == NULL) {
		mgr_err = -ENOMEM;
		return;
	}
	init_mb_mgr_auto(m, &arch);
	if (imb_get_errno(m) != 0 || arch == IMB_ARCH_NONE || m->gcm128_enc == NULL ||
			m->gcm256_enc == NULL) {
		free_mb_mgr(m);
		mgr_err = -ENOTSUP;
		return;
	}
	mgr = m;
}

static const IMB_MGR *get_mgr(int *err)
{
	/* pthread_once orders the writes in mgr_init() before every return from it */
	pthread_once(&mgr_once, mgr_init);
	*err = mgr_err;
	return mgr;
}

static inline const struct gcm_key_data *key_of(const struct mcrypto_session *s)
{
	return (const void *)s->ctx;
}

/*
 * Nonce and AAD as the library reads them: each with one masked 16-byte load, which the CPU
 * cannot forward from several smaller stores still in flight. The caller has just written the
 * IV (8-byte store) and the AAD (4-byte stores), and a nonce assembled from salt and IV is two
 * more, so passing them as they are stalls the call until those stores reach L1. Instead read
 * them with loads no wider than those stores (which do forward) and write each staged value with
 * a single 16-byte store. Measured with independent packets: 8 TSC cycles saved per 64-byte seal
 * (101 -> 93); with a dependency chain between calls the stall costs up to 45.
 */
struct stage {
	__m128i nonce;
	__m128i aad;
};

/* RFC 4106 §4: nonce = salt (4, from KEYMAT) || explicit IV (8, from the packet) */
static inline const uint8_t *stage_nonce(struct stage *st, const struct mcrypto_session *s,
		const uint8_t *iv)
{
	uint32_t salt;
	uint64_t v;

	memcpy(&salt, s->salt, sizeof(salt));
	memcpy(&v, iv, sizeof(v));
	/* little-endian: bytes 0-3 salt, 4-11 IV, 12-15 zero (not read) */
	st->nonce = _mm_set_epi64x((long long)(v >> 32), (long long)(salt | v << 32));
	return (const uint8_t *)&st->nonce;
}

/*
 * The RFC 4106 §5 AADs, SPI || SN (8) and SPI || ESN (12). Other lengths, and a NULL AAD (which
 * the library rejects, see tag_poison()), go through as given.
 */
static inline const uint8_t *stage_aad(struct stage *st, const uint8_t *aad, uint32_t aad_len)
{
	uint32_t w0, w1, w2 = 0;

	if ((aad_len != 8 && aad_len != 12) || aad == NULL)
		return aad;
	memcpy(&w0, aad, 4);
	memcpy(&w1, aad + 4, 4);
	if (aad_len == 12)
		memcpy(&w2, aad + 8, 4);
	st->aad = _mm_set_epi32(0, (int)w2, (int)w1, (int)w0);
	return (const uint8_t *)&st->aad;
}

/*
 * Per-packet wipe: memset plus a compiler barrier that makes the zeroed bytes observable, so the
 * stores are not dropped as dead. Inlined as a few vector stores, against a call and a byte loop
 * for OPENSSL_cleanse. Used for the GCM context, which the one-shot calls leave holding their GHASH
 * state and counter block (64 of its 88 bytes, measured on 1.3): a GHASH value over public AAD and
 * ciphertext gives away the hash key H.
 */
static inline void wipe(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/*
 * The library returns without writing the tag when it rejects a parameter. Start the computed
 * tag as the complement of the received one so that such a silent failure can never compare
 * equal: open() fails closed.
 */
static inline void tag_poison(uint8_t *tag, const uint8_t *icv, uint32_t n)
{
	if (__builtin_expect(n == 16, 1)) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)icv);

		_mm_storeu_si128((__m128i *)(void *)tag, _mm_xor_si128(v, _mm_set1_epi32(-1)));
		return;
	}
	/* n <= MCRYPTO_MAX_ICV_LEN (session_init checks it); saying so here keeps gcc -O3's
	 * vectorised loop from warning about a 32-byte store into the 16-byte tag */
	if (n > MCRYPTO_MAX_ICV_LEN)
		n = MCRYPTO_MAX_ICV_LEN;
	for (uint32_t i = 0; i < n; i++)
		tag[i] = (uint8_t)~icv[i];
}

/*
 * Constant time: the 16-byte ICV (both suites) is compared with one XOR and one PTEST, whose
 * timing does not depend on the data, inline instead of a call into libcrypto's byte loop.
 * Other lengths take CRYPTO_memcmp().
 */
static inline int tag_verify(uint8_t *tag, const uint8_t *icv, uint32_t n)
{
	int diff;

	if (__builtin_expect(n == 16, 1)) {
		__m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)tag),
				_mm_loadu_si128((const __m128i *)(const void *)icv));

		diff = !_mm_testz_si128(d, d);
	} else {
		diff = CRYPTO_memcmp(tag, icv, n);
	}
	/* the right tag for a forged packet is a forgery: leave none on the stack */
	wipe(tag, MCRYPTO_MAX_ICV_LEN);
	return diff == 0 ? 0 : -EBADMSG;
}

static void seal_128(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	const IMB_MGR *m = s->engine;
	struct gcm_context_data gctx;
	struct stage st;
	const uint8_t *nonce = stage_nonce(&st, s, iv);

	aad = stage_aad(&st, aad, aad_len);
	IMB_AES128_GCM_ENC(m, key_of(s), &gctx, data, data, len, nonce, aad, aad_len, icv,
			s->icv_len);
	wipe(&gctx, sizeof(gctx));
}

static void seal_256(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	const IMB_MGR *m = s->engine;
	struct gcm_context_data gctx;
	struct stage st;
	const uint8_t *nonce = stage_nonce(&st, s, iv);

	aad = stage_aad(&st, aad, aad_len);
	IMB_AES256_GCM_ENC(m, key_of(s), &gctx, data, data, len, nonce, aad, aad_len, icv,
			s->icv_len);
	wipe(&gctx, sizeof(gctx));
}

/*
 * GCM decryption hashes the ciphertext as it reads it, so the tag is over the received bytes
 * even though the plaintext overwrites them in place. On a mismatch the buffer holds unverified
 * plaintext; the caller drops the packet (mcrypto_open_t says the data is then undefined).
 */
static int open_128(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, const uint8_t *icv)
{
	const IMB_MGR *m = s->engine;
	struct gcm_context_data gctx;
	struct stage st;
	const uint8_t *nonce = stage_nonce(&st, s, iv);
	uint8_t tag[MCRYPTO_MAX_ICV_LEN];

	aad = stage_aad(&st, aad, aad_len);
	tag_poison(tag, icv, s->icv_len);
	IMB_AES128_GCM_DEC(m, key_of(s), &gctx, data, data, len, nonce, aad, aad_len, tag,
			s->icv_len);
	wipe(&gctx, sizeof(gctx));
	return tag_verify(tag, icv, s->icv_len);
}

static int open_256(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, const uint8_t *icv)
{
	const IMB_MGR *m = s->engine;
	struct gcm_context_data gctx;
	struct stage st;
	const uint8_t *nonce = stage_nonce(&st, s, iv);
	uint8_t tag[MCRYPTO_MAX_ICV_LEN];

	aad = stage_aad(&st, aad, aad_len);
	tag_poison(tag, icv, s->icv_len);
	IMB_AES256_GCM_DEC(m, key_of(s), &gctx, data, data, len, nonce, aad, aad_len, tag,
			s->icv_len);
	wipe(&gctx, sizeof(gctx));
	return tag_verify(tag, icv, s->icv_len);
}

static uint32_t imb_ctx_size(enum mcrypto_suite suite)
{
	switch (suite) {
	case MCRYPTO_SUITE_AES_GCM_128:
	case MCRYPTO_SUITE_AES_GCM_256:
		return sizeof(struct gcm_key_data);
	default:
		return 0;
	}
}

static int imb_session_init(struct mcrypto_session *s, const uint8_t *key, size_t key_len)
{
	/* the key schedule is written through s->ctx; the session is not shared yet */
	struct gcm_key_data *kd = (void *)s->ctx;
	const IMB_MGR *m;
	int err;

	m = get_mgr(&err);
	if (m == NULL)
		return err != 0 ? err : -ENOTSUP;
	if (s->icv_len == 0 || s->icv_len > MCRYPTO_MAX_ICV_LEN)
		return -EINVAL;

	switch (s->suite) {
	case MCRYPTO_SUITE_AES_GCM_128:
		if (key_len != IMB_GCM_128_KEY_LEN)
			return -EINVAL;
		IMB_AES128_GCM_PRE(m, key, kd);
		s->seal = seal_128;
		s->open = open_128;
		break;
	case MCRYPTO_SUITE_AES_GCM_256:
		if (key_len != IMB_GCM_256_KEY_LEN)
			return -EINVAL;
		IMB_AES256_GCM_PRE(m, key, kd);
		s->seal = seal_256;
		s->open = open_256;
		break;
	default:
		return -ENOTSUP;
	}
	s->engine = m;
	return 0;
}

const struct mcrypto_engine mcrypto_engine_ipsec_mb = {
	.name = "ipsec_mb",
	.ctx_size = imb_ctx_size,
	.session_init = imb_session_init,
};
