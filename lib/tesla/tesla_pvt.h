/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tesla internals shared by params.c, prf.c, sender.c and receiver.c. The unit suite
 * includes it to give a sender known K_N values (the RFC-less KATs of doc/tesla.md).
 */
#ifndef TESLA_PVT_H
#define TESLA_PVT_H

#include <stdint.h>

#include <openssl/types.h>

#include "tesla.h"

/* Recent verified keys a receiver keeps besides the newest one of each chain. */
#define TESLA_RX_CACHE 32

/*
 * An HMAC-SHA-256 context fetched once per object and re-keyed per call: a third of the cost
 * of HMAC() (which fetches the digest and builds a context every time), measured in
 * doc/tesla.md. One user at a time.
 */
struct tesla_prf {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

int tesla_prf_open(struct tesla_prf *prf);
void tesla_prf_close(struct tesla_prf *prf);
int tesla_prf_hmac(struct tesla_prf *prf, const uint8_t *key, size_t key_len, const void *data,
		size_t len, uint8_t out[32]);
/* F and F' through an open context; out may equal k. */
int tesla_prf_f(struct tesla_prf *prf, const uint8_t k[TESLA_KEY_LEN],
		uint8_t out[TESLA_KEY_LEN]);
int tesla_prf_fp(struct tesla_prf *prf, const uint8_t k[TESLA_KEY_LEN],
		uint8_t out[TESLA_KEY_LEN]);

/* Where a sender's K_N come from: fill len octets, return 0 or a negative errno. */
typedef int (*tesla_rng_fn)(uint8_t *buf, size_t len, void *arg);

/* tesla_sender_create() with another source of K_N (tests and KATs only). */
int tesla_sender_create_rng(const struct tesla_params *p, uint32_t first_index,
		uint32_t n_newkcc, tesla_rng_fn rng, void *rng_arg, struct tesla_sender **out);

/* Checkpoint spacing C of a sender for N: ceil(sqrt(N + 1)). */
uint32_t tesla_cp_every(uint32_t n);

#endif /* TESLA_PVT_H */
