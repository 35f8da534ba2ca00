/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Intel IPsec-MB engine: AES-GCM (RFC 4106) and AES-GMAC (RFC 4543) through the direct API,
 * AES-CTR (RFC 3686) and NULL (RFC 2410) with HMAC-SHA-256-128 (RFC 4868) through the job API.
 * The TESLA MACs (mcrypto_mac_key_init()) take the same two paths: AES-GMAC a direct GCM call,
 * HMAC-SHA-256-128 a job with the precomputed inner and outer states.
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
 * HMAC has no direct API in 1.3: the cipher plus MAC suites submit jobs, and a manager's job
 * queue is state, so each thread gets its own manager (thread_mgr()). The HMAC key is turned
 * into its inner and outer SHA-256 states once, at session setup (IMB_SHA256_ONE_BLOCK over
 * key ^ ipad and key ^ opad), so a packet costs the hash of its own bytes and one more block.
 *
 * Caveat seen in the 1.3 disassembly: every direct GCM call first stores 0 into the library's
 * process-wide imb_errno (a plain global, not thread-local), so worker cores write one shared
 * cache line per packet. Harmless for correctness; watch it in multi-core benchmarks.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smmintrin.h>
#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include "mcrypto.h"

static pthread_once_t mgr_once = PTHREAD_ONCE_INIT;
static IMB_MGR *mgr;
static int mgr_err;

/* A manager for the best code path this CPU has; NULL with *err set when there is none. */
static IMB_MGR *mgr_new(int *err)
{
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *m;

	m = alloc_mb_mgr(0);
	if (m == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	init_mb_mgr_auto(m, &arch);
	if (imb_get_errno(m) != 0 || arch == IMB_ARCH_NONE || m->gcm128_enc == NULL ||
			m->gcm256_enc == NULL || m->gmac128_init == NULL ||
			m->sha256_one_block == NULL || m->sha256 == NULL) {
		free_mb_mgr(m);
		*err = -ENOTSUP;
		return NULL;
	}
	*err = 0;
	return m;
}

/* Runs once per process, from the first session creation (a control thread). */
static void mgr_init(void)
{
	mgr = mgr_new(&mgr_err);
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
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
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
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
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

/* ------------------------------------------------------------------ AES-GMAC (RFC 4543) */

/*
 * RFC 4543 §3.3 for ENCR_NULL_AUTH_AES_GMAC: the GCM plaintext is empty and everything is AAD,
 * in packet order: SPI || SN (SPI || SN high || SN low with ESN, as RFC 4106 §5), the IV, then
 * payload, padding, Pad Length and Next Header. The IV is authenticated with the rest, as in
 * the test case of draft-mcgrew-gcm-test-01 and in Linux (rfc4543) and DPDK lib/ipsec.
 *
 * Without ESN that AAD is the packet itself from the SPI on, so one GCM call with an empty
 * plaintext computes the tag. With ESN the high half sits between SPI and SN; as Linux's ESP
 * does for ESN, the header is rearranged in place for the call: the SPI moves into the 4
 * bytes before it (the end of the outer IP header, saved and put back) and the high half
 * takes the SPI's place, which makes SPI || SN high || SN || IV || payload contiguous. One
 * call instead of four (GMAC init, two updates, finalize), measured seal at 64 bytes: 68 TSC
 * cycles against 97 without ESN, 70 against 127 with it. SPI and SN are read in the
 * packet, like the ETM suites do (mcrypto_seal_t). A NULL AAD or one of another length
 * computes nothing: tag stays as given (seal zeroes it, open poisons it).
 */
static inline int gmac_tag(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, const uint8_t *data, uint32_t len,
		uint8_t *tag)
{
	const IMB_MGR *m = s->engine;
	struct gcm_context_data gctx;
	struct stage st;
	const uint8_t *nonce = stage_nonce(&st, s, iv);
	/* the packet is the caller's and writable; the const of the ops table is for GCM */
	uint8_t *esp = (uint8_t *)(uintptr_t)(iv - 8);
	uint32_t saved, spi;

	if (aad == NULL || (data == NULL && len != 0))
		return -EINVAL;
	/* len 0 plaintext: the library reads and writes nothing through in and out */
	if (aad_len == 8) {
		IMB_AES128_GCM_ENC(m, key_of(s), &gctx, tag, tag, 0, nonce, esp,
				16 + (uint64_t)len, tag, s->icv_len);
	} else if (aad_len == 12) {
		memcpy(&saved, esp - 4, 4);
		memcpy(&spi, esp, 4);
		memcpy(esp - 4, &spi, 4);
		memcpy(esp, aad + 4, 4);
		IMB_AES128_GCM_ENC(m, key_of(s), &gctx, tag, tag, 0, nonce, esp - 4,
				20 + (uint64_t)len, tag, s->icv_len);
		memcpy(esp, &spi, 4);
		memcpy(esp - 4, &saved, 4);
	} else {
		return -EINVAL;
	}
	wipe(&gctx, sizeof(gctx));
	return 0;
}

static void gmac_seal(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	if (gmac_tag(s, iv, aad, aad_len, data, len, icv) != 0)
		memset(icv, 0, s->icv_len);
}

static int gmac_open(const struct mcrypto_session *s, const uint8_t *iv, const uint8_t *aad,
		uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	uint8_t tag[MCRYPTO_MAX_ICV_LEN];

	tag_poison(tag, icv, s->icv_len);
	gmac_tag(s, iv, aad, aad_len, data, len, tag);
	return tag_verify(tag, icv, s->icv_len);
}

/* ----------------------------------------- AES-CTR / NULL + HMAC-SHA-256-128 (job API) */

/* HMAC-SHA-256 key: the inner and outer hash states after K ^ ipad and K ^ opad (RFC 2104). */
struct hmac_ctx {
	uint8_t ipad[IMB_SHA256_DIGEST_SIZE_IN_BYTES] __attribute__((aligned(16)));
	uint8_t opad[IMB_SHA256_DIGEST_SIZE_IN_BYTES] __attribute__((aligned(16)));
};

/* Key schedule of the cipher plus MAC suites. */
struct etm_ctx {
	uint8_t enc_keys[16 * 15] __attribute__((aligned(16))); /* AES-128 encryption rounds */
	struct hmac_ctx hmac;
};

static inline const struct etm_ctx *etm_of(const struct mcrypto_session *s)
{
	return (const void *)s->ctx;
}

/*
 * One job manager per thread. The key is created once (pthread_once) with a destructor that
 * frees a thread's manager when the thread exits; the pointer itself is a plain __thread
 * variable so that the packet path reads it with one load.
 */
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static int tls_key_err;
static __thread IMB_MGR *tls_mgr;

/*
 * The job manager is the SSE one, not the best one for the CPU: one packet is one job, and the
 * AVX2 and AVX-512 managers hash HMAC-SHA-256 in 8 and 16 lanes, which a flush with one job
 * pays for in full, while the SSE manager uses the SHA extensions when the CPU has them.
 * Measured on the Zen 5 build machine, TSC cycles per single CTR + HMAC-SHA-256 job at 64 /
 * 512 / 1420 bytes: AVX-512 manager 1643 / 4704 / 10389, SSE 393 / 1069 / 2423 (AVX2 404 /
 * 1067 / 2387). Without AES-NI the SSE manager cannot start: then the best one for the CPU.
 */
static IMB_MGR *job_mgr_new(int *err)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	init_mb_mgr_sse(m);
	if (imb_get_errno(m) == 0 && m->sha256_one_block != NULL) {
		*err = 0;
		return m;
	}
	free_mb_mgr(m);
	return mgr_new(err);
}

static void tls_free(void *p)
{
	free_mb_mgr(p);
}

static void tls_init(void)
{
	tls_key_err = pthread_key_create(&tls_key, tls_free) != 0 ? -ENOMEM : 0;
}

static int imb_thread_init(void)
{
	IMB_MGR *m;
	int err;

	if (tls_mgr != NULL)
		return 0;
	pthread_once(&tls_once, tls_init);
	if (tls_key_err != 0)
		return tls_key_err;
	m = job_mgr_new(&err);
	if (m == NULL)
		return err;
	if (pthread_setspecific(tls_key, m) != 0) {
		free_mb_mgr(m);
		return -ENOMEM;
	}
	tls_mgr = m;
	return 0;
}

static inline IMB_MGR *thread_mgr(void)
{
	if (__builtin_expect(tls_mgr == NULL, 0))
		(void)imb_thread_init();
	return tls_mgr;
}

/* Run one job to completion: the manager holds nothing else, so a flush returns it. */
static inline int run_job(IMB_MGR *m)
{
	IMB_JOB *job = IMB_SUBMIT_JOB(m);

	while (job == NULL)
		job = IMB_FLUSH_JOB(m);
	return job->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
}

/* RFC 3686 §4: counter block = nonce (4, from KEYMAT) || IV (8) || block counter, which starts
 * at 1; with a 12-byte IV the library supplies the 0x00000001 itself. */
static inline void ctr_job(IMB_JOB *job, const struct mcrypto_session *s, const uint8_t *esp,
		uint8_t *data, uint32_t len, const struct stage *st)
{
	const struct etm_ctx *k = etm_of(s);

	job->cipher_mode = IMB_CIPHER_CNTR;
	job->enc_keys = k->enc_keys;
	job->dec_keys = k->enc_keys;
	job->key_len_in_bytes = IMB_KEY_128_BYTES;
	job->src = esp;
	job->dst = data;
	job->cipher_start_src_offset_in_bytes = (uint64_t)(data - esp);
	job->msg_len_to_cipher_in_bytes = len;
	job->iv = (const uint8_t *)&st->nonce;
	job->iv_len_in_bytes = 12;
}

/*
 * RFC 4303 §2.2.1 / §3.3.2.1: the ICV covers SPI, SN, IV and the (encrypted) payload through
 * Next Header; with ESN the high half of the sequence number follows Next Header for the
 * computation only. That spot is where the ICV goes, so the high half is written there, hashed,
 * and then overwritten by the ICV. RFC 4868 §2.1.2: HMAC-SHA-256-128 is the leftmost 128 bits.
 */
static inline void hmac_job(IMB_JOB *job, const struct hmac_ctx *k, const uint8_t *src,
		uint64_t hash_len, uint8_t *tag, uint32_t tag_len)
{
	job->hash_alg = IMB_AUTH_HMAC_SHA_256;
	job->src = src;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = hash_len;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = tag_len;
	job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
}

/* The cipher part of a NULL job: nothing moves, but the library still wants sane fields. */
static inline void null_cipher_job(IMB_JOB *job, const uint8_t *esp, uint8_t *data)
{
	job->cipher_mode = IMB_CIPHER_NULL;
	job->enc_keys = NULL;
	job->dec_keys = NULL;
	job->key_len_in_bytes = 0;
	job->src = esp;
	job->dst = data;
	job->cipher_start_src_offset_in_bytes = (uint64_t)(data - esp);
	job->msg_len_to_cipher_in_bytes = 0;
	job->iv = NULL;
	job->iv_len_in_bytes = 0;
}

/*
 * Encrypt (AES-CTR, or nothing for NULL) then MAC, one job. `ctr` is a constant in each caller,
 * so every suite gets its own straight-line function. The packet layout comes from the ESP
 * contract of mcrypto_seal_t: the ESP header is the 8 bytes before the IV.
 *
 * Failure (no job manager for this thread, or the library refusing the job) must not send the
 * plaintext out under an ICV: the payload and ICV are zeroed, and the zero ICV fails at every
 * receiver.
 */
static inline void etm_seal(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv,
		const bool ctr)
{
	IMB_MGR *m = thread_mgr();
	const uint8_t *esp = iv - 8;
	uint32_t hash_len = 8u + s->iv_len + len;
	uint8_t tag[MCRYPTO_MAX_ICV_LEN];
	struct stage st;
	IMB_JOB *job;

	if (__builtin_expect(m == NULL || aad == NULL, 0))
		goto fail;
	if (aad_len == 12) {
		memcpy(icv, aad + 4, 4);
		hash_len += 4;
	}
	job = IMB_GET_NEXT_JOB(m);
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	/* the library refuses an empty counter-mode job: nothing to encrypt is NULL's job */
	if (ctr && len != 0) {
		stage_nonce(&st, s, iv);
		ctr_job(job, s, esp, data, len, &st);
	} else {
		null_cipher_job(job, esp, data);
	}
	hmac_job(job, &etm_of(s)->hmac, esp, hash_len, tag, s->icv_len);
	if (run_job(m) != 0)
		goto fail;
	memcpy(icv, tag, s->icv_len);
	return;
fail:
	if (data != NULL)
		memset(data, 0, len);
	memset(icv, 0, s->icv_len);
}

/*
 * MAC, compare in constant time, and only then decrypt (RFC 4303 §3.4.4: integrity first, and
 * nothing is decrypted for a forged packet). Two jobs for CTR, one for NULL.
 */
static inline int etm_open(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv,
		const bool ctr)
{
	IMB_MGR *m = thread_mgr();
	const uint8_t *esp = iv - 8;
	uint32_t hash_len = 8u + s->iv_len + len;
	uint8_t rx[MCRYPTO_MAX_ICV_LEN], tag[MCRYPTO_MAX_ICV_LEN];
	struct stage st;
	IMB_JOB *job;
	int rc;

	if (__builtin_expect(m == NULL || aad == NULL, 0))
		return -EBADMSG;
	memcpy(rx, icv, s->icv_len);
	tag_poison(tag, rx, s->icv_len);
	if (aad_len == 12) {
		memcpy(icv, aad + 4, 4);
		hash_len += 4;
	}
	job = IMB_GET_NEXT_JOB(m);
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	null_cipher_job(job, esp, data);
	hmac_job(job, &etm_of(s)->hmac, esp, hash_len, tag, s->icv_len);
	rc = run_job(m);
	if (aad_len == 12)
		memcpy(icv, rx, 4);
	if (rc != 0 || tag_verify(tag, rx, s->icv_len) != 0)
		return -EBADMSG;
	if (!ctr || len == 0)
		return 0;

	job = IMB_GET_NEXT_JOB(m);
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	stage_nonce(&st, s, iv);
	ctr_job(job, s, esp, data, len, &st);
	job->hash_alg = IMB_AUTH_NULL;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = 0;
	job->auth_tag_output = NULL;
	job->auth_tag_output_len_in_bytes = 0;
	return run_job(m) == 0 ? 0 : -EBADMSG;
}

static void ctr_hmac_seal(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	etm_seal(s, iv, aad, aad_len, data, len, icv, true);
}

static int ctr_hmac_open(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	return etm_open(s, iv, aad, aad_len, data, len, icv, true);
}

static void null_hmac_seal(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	etm_seal(s, iv, aad, aad_len, data, len, icv, false);
}

static int null_hmac_open(const struct mcrypto_session *s, const uint8_t *iv,
		const uint8_t *aad, uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t *icv)
{
	return etm_open(s, iv, aad, aad_len, data, len, icv, false);
}

/* RFC 2104: the first blocks K ^ ipad and K ^ opad; key_len <= the SHA-256 block (callers: 32). */
static void hmac_pads(uint8_t *ipad, uint8_t *opad, const uint8_t *key, size_t key_len)
{
	memset(ipad, 0x36, IMB_SHA_256_BLOCK_SIZE);
	memset(opad, 0x5c, IMB_SHA_256_BLOCK_SIZE);
	for (size_t i = 0; i < key_len; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
}

/* RFC 2104: the inner and outer hash states after the first block, for ESP and TESLA alike. */
static void hmac_precompute(const IMB_MGR *m, struct hmac_ctx *k, const uint8_t *key,
		size_t key_len)
{
	uint8_t ipad[IMB_SHA_256_BLOCK_SIZE] __attribute__((aligned(16)));
	uint8_t opad[IMB_SHA_256_BLOCK_SIZE] __attribute__((aligned(16)));

	hmac_pads(ipad, opad, key, key_len);
	IMB_SHA256_ONE_BLOCK(m, ipad, k->ipad);
	IMB_SHA256_ONE_BLOCK(m, opad, k->opad);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
}

/*
 * The leftmost MCRYPTO_MAC_LEN bytes of HMAC(K, "") = H(K ^ opad || H(K ^ ipad)), from the key
 * with two direct-API hashes. The job API refuses a zero-length hash (IMB_ERR_JOB_AUTH_LEN in
 * 1.3) and the precomputed states cannot be finished without it; only an empty TESLA message
 * comes here, so key set-up does not pay these 2300 TSC cycles (measured on the build machine;
 * the two state blocks cost 1100).
 */
static void hmac_empty(const IMB_MGR *m, const uint8_t *key, size_t key_len, uint8_t *out)
{
	uint8_t ipad[IMB_SHA_256_BLOCK_SIZE] __attribute__((aligned(16)));
	/* K ^ opad || H(K ^ ipad) */
	uint8_t outer[IMB_SHA_256_BLOCK_SIZE + IMB_SHA256_DIGEST_SIZE_IN_BYTES]
		__attribute__((aligned(16)));
	uint8_t digest[IMB_SHA256_DIGEST_SIZE_IN_BYTES] __attribute__((aligned(16)));

	hmac_pads(ipad, outer, key, key_len);
	IMB_SHA256(m, ipad, sizeof(ipad), outer + IMB_SHA_256_BLOCK_SIZE);
	IMB_SHA256(m, outer, sizeof(outer), digest);
	memcpy(out, digest, MCRYPTO_MAC_LEN);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(outer, sizeof(outer));
	OPENSSL_cleanse(digest, sizeof(digest));
}

/* ------------------------------------------------------------------ sessions */

static uint32_t imb_ctx_size(enum mcrypto_suite suite)
{
	switch (suite) {
	case MCRYPTO_SUITE_AES_GCM_128:
	case MCRYPTO_SUITE_AES_GCM_256:
	case MCRYPTO_SUITE_AES_GMAC_128:
		return sizeof(struct gcm_key_data);
	case MCRYPTO_SUITE_NULL_HMAC_SHA256:
	case MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256:
		return sizeof(struct etm_ctx);
	default:
		return 0;
	}
}

static int imb_session_init(struct mcrypto_session *s, const uint8_t *key, size_t key_len,
		const uint8_t *auth_key, size_t auth_key_len)
{
	/* the key schedule is written through s->ctx; the session is not shared yet */
	struct gcm_key_data *kd = (void *)s->ctx;
	struct etm_ctx *ek = (void *)s->ctx;
	uint8_t dec_keys[16 * 15] __attribute__((aligned(16)));
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
	case MCRYPTO_SUITE_AES_GMAC_128:
		if (key_len != IMB_GCM_128_KEY_LEN || s->iv_len != MCRYPTO_IV_LEN)
			return -EINVAL;
		IMB_AES128_GCM_PRE(m, key, kd);
		s->seal = gmac_seal;
		s->open = gmac_open;
		break;
	case MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256:
		if (key_len != IMB_KEY_128_BYTES || s->iv_len != MCRYPTO_IV_LEN ||
				auth_key_len != IMB_SHA256_DIGEST_SIZE_IN_BYTES)
			return -EINVAL;
		IMB_AES_KEYEXP_128(m, key, ek->enc_keys, dec_keys);
		OPENSSL_cleanse(dec_keys, sizeof(dec_keys));
		hmac_precompute(m, &ek->hmac, auth_key, auth_key_len);
		s->seal = ctr_hmac_seal;
		s->open = ctr_hmac_open;
		break;
	case MCRYPTO_SUITE_NULL_HMAC_SHA256:
		if (key_len != 0 || auth_key_len != IMB_SHA256_DIGEST_SIZE_IN_BYTES ||
				s->iv_len != 0)
			return -EINVAL;
		hmac_precompute(m, &ek->hmac, auth_key, auth_key_len);
		s->seal = null_hmac_seal;
		s->open = null_hmac_open;
		break;
	default:
		return -ENOTSUP;
	}
	s->engine = m;
	return 0;
}

/* ------------------------------------------------------------------ TESLA MACs */

/*
 * HMAC-SHA-256-128 key: the states, and the key itself for the empty message (hmac_empty()).
 * Both are the whole secret, as an AES key schedule holds its key as round key 0.
 */
struct mac_hmac_ctx {
	struct hmac_ctx hmac;
	uint8_t key[MCRYPTO_MAC_KEY_LEN];
};

/*
 * The key schedules of the TESLA MACs live in the caller's struct mcrypto_mac_key, which a
 * worker holds by value: they must fit its ctx, at its 64-byte alignment.
 */
static_assert(MCRYPTO_MAC_CTX_SIZE >= sizeof(struct gcm_key_data), "MAC ctx too small for GCM");
static_assert(MCRYPTO_MAC_CTX_SIZE >= sizeof(struct mac_hmac_ctx), "MAC ctx too small for HMAC");
static_assert(_Alignof(struct gcm_key_data) <= 64 && _Alignof(struct mac_hmac_ctx) <= 64,
	"MAC ctx under-aligned");
static_assert(MCRYPTO_MAC_LEN == 16 && MCRYPTO_MAC_NONCE_LEN == 12,
	"the MACs below write a 16-byte tag and read a 96-bit GCM IV");

static inline const struct mac_hmac_ctx *mac_hmac_of(const struct mcrypto_mac_key *k)
{
	return (const void *)k->ctx;
}

static inline const struct gcm_key_data *mac_gcm_of(const struct mcrypto_mac_key *k)
{
	return (const void *)k->ctx;
}

/*
 * HMAC-SHA-256-128 (RFC 2104 with the 32-byte key, the leftmost 128 bits as RFC 4868 §2.1.2 and
 * RFC 5776 §1.3.1 use it): one job on this thread's manager, as the ESP suites run it, with a
 * NULL cipher; the empty message, which the job API refuses, through hmac_empty(). -EIO when
 * the thread has no manager or the library refuses the job; `out` is then zeroed.
 */
static int mac_hmac(const struct mcrypto_mac_key *k, const uint8_t *nonce, const uint8_t *data,
		size_t len, uint8_t *out)
{
	const struct mac_hmac_ctx *h = mac_hmac_of(k);
	IMB_MGR *m;
	IMB_JOB *job;

	(void)nonce;
	if (__builtin_expect(len == 0, 0)) {
		hmac_empty(k->engine, h->key, sizeof(h->key), out);
		return 0;
	}
	if (data == NULL)
		return -EINVAL;
	m = thread_mgr();
	if (__builtin_expect(m == NULL, 0))
		goto fail;
	job = IMB_GET_NEXT_JOB(m);
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	/* nothing to encrypt: the cipher fields only point at `out`, hmac_job() sets src */
	null_cipher_job(job, out, out);
	hmac_job(job, &h->hmac, data, len, out, MCRYPTO_MAC_LEN);
	if (run_job(m) != 0)
		goto fail;
	return 0;
fail:
	memset(out, 0, MCRYPTO_MAC_LEN);
	return -EIO;
}

/*
 * AES-GMAC (SP 800-38D §3: GCM with an empty plaintext) as gmac_tag() computes it for RFC 4543:
 * one direct GCM call, the data as AAD, the 96-bit nonce as IV. The library reads the nonce
 * and the AAD and writes only the tag; every parameter it could refuse is checked here first
 * (it would return without a tag, and its error flag is process-wide).
 */
static int mac_gmac(const struct mcrypto_mac_key *k, const uint8_t *nonce, const uint8_t *data,
		size_t len, uint8_t *out)
{
	const IMB_MGR *m = k->engine;
	struct gcm_context_data gctx;

	if (nonce == NULL || (data == NULL && len != 0))
		return -EINVAL;
	/* an empty AAD is not read: any non-NULL pointer will do */
	IMB_AES128_GCM_ENC(m, mac_gcm_of(k), &gctx, out, out, 0, nonce,
			data != NULL ? data : nonce, (uint64_t)len, out, MCRYPTO_MAC_LEN);
	/* the GHASH state over public data would give away the hash key H */
	wipe(&gctx, sizeof(gctx));
	return 0;
}

/* mcrypto_mac_key_init() has checked alg and key and cleared k; it wipes k on error. */
static int imb_mac_init(struct mcrypto_mac_key *k, enum mcrypto_mac alg,
		const uint8_t key[MCRYPTO_MAC_KEY_LEN])
{
	/* the key schedule is written through k->ctx; k is the caller's and not shared yet */
	const IMB_MGR *m;
	int err;

	m = get_mgr(&err);
	if (m == NULL)
		return err != 0 ? err : -ENOTSUP;
	switch (alg) {
	case MCRYPTO_MAC_HMAC_SHA256_128: {
		struct mac_hmac_ctx *h = (void *)k->ctx;

		hmac_precompute(m, &h->hmac, key, MCRYPTO_MAC_KEY_LEN);
		memcpy(h->key, key, MCRYPTO_MAC_KEY_LEN);
		k->mac = mac_hmac;
		break;
	}
	case MCRYPTO_MAC_AES_GMAC_128:
		/* AES-128: the key's first 16 bytes, the rest is not used */
		IMB_AES128_GCM_PRE(m, key, (void *)k->ctx);
		k->mac = mac_gmac;
		break;
	default:
		return -ENOTSUP;
	}
	k->engine = m;
	return 0;
}

const struct mcrypto_engine mcrypto_engine_ipsec_mb = {
	.name = "ipsec_mb",
	.ctx_size = imb_ctx_size,
	.session_init = imb_session_init,
	.thread_init = imb_thread_init,
	.mac_init = imb_mac_init,
};
