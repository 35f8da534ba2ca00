/* SPDX-License-Identifier: BSD-3-Clause */
/* Private layout of the GSAKMP builder and crypto objects, and helpers shared by the sources. */
#ifndef GSAKMP_PVT_H
#define GSAKMP_PVT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "gsakmp.h"
#include "gsakmp_crypto.h"

/* Fixed part of a Signature payload body: Type (2), ID Type (1), Timestamp (15), ID Length (2). */
#define SIG_FIXED 20u
/* Fixed part of a Rekey Event payload body besides the GroupID Value:
 * Type (1), Timestamp (15), Type (1), Algorithm Version (1), # of Rekey Event Data (2). */
#define REKEY_FIXED 20u
/* Rekey Event Data block header: Packet Length (2), Wrapping KeyID (4), Wrapping Handle (4). */
#define RED_HDR 10u
/* Longest Payload Length. */
#define PL_MAX 0xffffu
/* Longest AAD of KEK-protected content: L, GroupID, exchange, payload type, 8 context octets. */
#define AAD_MAX (1u + GSAKMP_GID_MAX + 2u + 8u)

struct gsakmp_enc {
	uint8_t *buf;
	size_t cap;
	size_t off;              /* bytes written */
	int err;                 /* first error, sticky (negative) */
	size_t np_off;           /* Next Payload octet to patch with the next payload's type */
	size_t len_off;          /* the header's Length field */
	uint16_t nb_payloads;
	struct gsakmp_hdr hdr;   /* for the AAD of protected payloads */
	size_t rekey_off;        /* open Rekey Event payload, 0 when none */
	uint16_t rekey_nb;       /* its Rekey Event Data blocks so far */
	size_t sig_data_off;     /* Signature Data to compute at finish, 0 when none */
	const struct gsakmp_key *sig_key;
};

struct gsakmp_key {
	EVP_PKEY *pkey;
	X509 *cert;
	uint16_t sig_type;
	uint8_t *der;
	size_t der_len;
};

struct gsakmp_trust {
	X509_STORE *store;
};

struct gsakmp_kex {
	EVP_PKEY *pkey;
};

struct gsakmp_cookie_ctx {
	uint8_t version;
	uint8_t has_prev;
	uint8_t cur[GSAKMP_COOKIE_SECRET_LEN];
	uint8_t prev[GSAKMP_COOKIE_SECRET_LEN];
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* encode.c: reserve a payload with a body of body_len octets; NULL (and enc->err) on error. */
uint8_t *gsakmp_pvt_pl_reserve(struct gsakmp_enc *enc, uint8_t type, size_t body_len);

/* encode.c: reserve a Rekey Event Data block's body in the open Rekey Event payload. */
uint8_t *gsakmp_pvt_red_reserve(struct gsakmp_enc *enc, uint32_t wrap_id, uint32_t wrap_handle,
		size_t body_len);

/* encode.c: record an error in the builder (first one wins) and return it. */
int gsakmp_pvt_fail(struct gsakmp_enc *enc, int err);

/* sign.c: sign buf[0..signed_len) with key into sig[GSAKMP_SIG_LEN]. */
int gsakmp_pvt_sign(const struct gsakmp_key *key, const uint8_t *buf, size_t signed_len,
		uint8_t sig[GSAKMP_SIG_LEN]);

/* keydl.c: validate a data SA attribute set as gsakmp_kd_build() would. */
int gsakmp_pvt_sa_check(const struct gsakmp_sa_attrs *sa);

#endif /* GSAKMP_PVT_H */
