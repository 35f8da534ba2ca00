/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The msecgw GSAKMP security profile (doc/gsakmp-profile.md): message signatures (ECDSA P-256
 * with SHA-256, Ed25519) with X.509 certificates and a trust anchor, X25519 key creation,
 * HKDF-SHA-256, KEK protection with AES-256-GCM (or AES-256 key wrap with padding, RFC 5649),
 * SHA-256 Nonce_C and stateless HMAC cookies (RFC 4535 §5.2.2).
 *
 * Built on OpenSSL 3 (EVP, X509). Secrets are wiped on every exit path; MACs and nonces are
 * compared in constant time. Objects are opaque and carry no global state.
 */
#ifndef GSAKMP_CRYPTO_H
#define GSAKMP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "gsakmp.h"

/** Octets of a KEK, an X25519 value and a shared secret. */
#define GSAKMP_KEK_LEN 32
#define GSAKMP_X25519_LEN 32
/** Octets of a Nonce_C (SHA-256). */
#define GSAKMP_NONCE_C_LEN 32

/* ------------------------------------------------------------------ signing keys and trust */

struct gsakmp_key;
struct gsakmp_trust;

/**
 * A signing key with its certificate. The key must be EC P-256 or Ed25519 and match the
 * certificate. Both are reference-counted, not copied.
 */
int gsakmp_key_new(EVP_PKEY *pkey, X509 *cert, struct gsakmp_key **out);

/** Load a signing key and its certificate from PEM files. */
int gsakmp_key_load(const char *key_pem, const char *cert_pem, struct gsakmp_key **out);

/** Free a key (NULL is allowed). */
void gsakmp_key_free(struct gsakmp_key *key);

/** Signature type the key produces (GSAKMP_SIG_ECDSA_P256_SHA256 or GSAKMP_SIG_ED25519). */
uint16_t gsakmp_key_sig_type(const struct gsakmp_key *key);

/** DER of the key's certificate, for a Certificate payload (valid while the key lives). */
void gsakmp_key_cert_der(const struct gsakmp_key *key, const uint8_t **der, size_t *len);

/**
 * The Signer ID of a certificate for a Signature ID Type: GSAKMP_ID_DN_STRING (the subject as
 * an RFC 4514 string) or GSAKMP_ID_KEY_ID (SHA-256 of the SubjectPublicKeyInfo).
 */
int gsakmp_signer_id(X509 *cert, uint8_t id_type, uint8_t *out, size_t cap, size_t *len);

/** A set of trust anchors (out of band: certificates received in messages never become one). */
int gsakmp_trust_new(struct gsakmp_trust **out);

/** Add a trust anchor (reference-counted). */
int gsakmp_trust_add(struct gsakmp_trust *trust, X509 *anchor);

/** Add every certificate of a PEM file as a trust anchor. */
int gsakmp_trust_load(struct gsakmp_trust *trust, const char *pem);

/** Free a trust store (NULL is allowed). */
void gsakmp_trust_free(struct gsakmp_trust *trust);

/**
 * Append a Signature payload signed with key at gsakmp_enc_finish(): the Signature Data is
 * reserved now (64 octets) and computed once the header and payload lengths are final, over
 * the span RFC 4535 §7.8 defines (message start through the Signer ID Data). Certificate
 * payloads may follow; nothing else may.
 * @param id_type GSAKMP_ID_DN_STRING or GSAKMP_ID_KEY_ID.
 * @param now the Signature Timestamp, seconds since the epoch.
 */
int gsakmp_enc_payload_sig(struct gsakmp_enc *enc, const struct gsakmp_key *key,
		uint8_t id_type, int64_t now);

/**
 * (Re-)sign an encoded message in place: its Signature payload must have the key's type and
 * Signature Data of the right length; only the Signature Data is written.
 */
int gsakmp_sign(uint8_t *buf, size_t len, const struct gsakmp_key *key);

/**
 * Verify a decoded message's signature.
 *
 * The signer's certificate is `cert` when given (obtained out of band), otherwise the
 * Certificate payload whose Signer ID matches; other X.509 Certificate payloads are untrusted
 * intermediates. A given `cert` that chains to an anchor on its own is verified without
 * decoding the message's certificates. The certificate must chain to an anchor of `trust` at time `now`, match the
 * Signer ID and the signature type, and the signature must verify over the signed span.
 *
 * @param max_skew when non-zero, the Signature Timestamp must be within this many seconds of
 *   `now` (RFC 4535 §3.1 item 4: 300 by default).
 * @param signer optional: the verified certificate (a new reference) on success.
 */
int gsakmp_verify(const struct gsakmp_msg *msg, X509 *cert, const struct gsakmp_trust *trust,
		int64_t now, uint32_t max_skew, X509 **signer);

/* ------------------------------------------------------------------ key creation (X25519) */

struct gsakmp_kex;

/** A fresh X25519 key pair for one registration. */
int gsakmp_kex_x25519_new(struct gsakmp_kex **out);

/** An X25519 key pair from a private value (tests, receive-only members' static keys). */
int gsakmp_kex_x25519_from_private(const uint8_t priv[GSAKMP_X25519_LEN],
		struct gsakmp_kex **out);

/** The public value, as carried in a Key Creation payload of type GSAKMP_KC_X25519. */
int gsakmp_kex_x25519_public(const struct gsakmp_kex *kex, uint8_t pub[GSAKMP_X25519_LEN]);

/**
 * X25519 shared secret with a peer's public value. An all-zero result (a low-order peer value,
 * RFC 7748 §6.1) fails with -GSAKMP_E_KEX.
 */
int gsakmp_kex_x25519_derive(const struct gsakmp_kex *kex,
		const uint8_t peer[GSAKMP_X25519_LEN], uint8_t shared[GSAKMP_X25519_LEN]);

/** Free a key pair, wiping it (NULL is allowed). */
void gsakmp_kex_free(struct gsakmp_kex *kex);

/** HKDF-SHA-256 (RFC 5869), extract and expand. out_len at most 255 * 32. */
int gsakmp_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/** What the registration KEK is bound to (doc/gsakmp-profile.md §5). */
struct gsakmp_kek_info {
	const uint8_t *gid;              /**< the header's GroupID Value */
	uint8_t gid_len;
	const uint8_t *pub_gm;           /**< the member's X25519 value (Request to Join) */
	const uint8_t *pub_ks;           /**< the GC/KS's X25519 value (Key Download) */
	const uint8_t *nonce_i;          /**< NULL for receive-only members */
	size_t nonce_i_len;
	const uint8_t *nonce_r;
	size_t nonce_r_len;
};

/**
 * Registration KEK = HKDF-SHA-256(salt = Nonce_I || Nonce_R, IKM = X25519 shared secret,
 * info = "msecgw gsakmp kek" || L || GroupID || pub_gm || pub_ks, 32 octets).
 */
int gsakmp_kek_derive(const uint8_t shared[GSAKMP_X25519_LEN],
		const struct gsakmp_kek_info *info, uint8_t kek[GSAKMP_KEK_LEN]);

/**
 * KEK of a wrapping key: an AES-256 KEK key (LKH node) is used as is; any other key (the GTPK,
 * which protects a new Policy Token in a Rekey Event) gives HKDF-SHA-256(salt = "",
 * IKM = key, info = "msecgw gsakmp key kek" || Key ID || Key Handle).
 */
int gsakmp_key_kek(const struct gsakmp_key_datum *key, uint8_t kek[GSAKMP_KEK_LEN]);

/* ------------------------------------------------------------------ KEK protection */

/** KEK protection algorithms (Mechanism Choices, encryption). */
enum gsakmp_kek_alg {
	GSAKMP_KEK_AES256_GCM = GSAKMP_MECH_ENC_AES256_GCM, /**< IV (12) || C || tag (16) */
	GSAKMP_KEK_AES256_KWP = GSAKMP_MECH_ENC_AES256_KWP, /**< RFC 5649; AAD not bound */
};

/** Length of the protected form of len octets, or 0 for an unknown algorithm. */
size_t gsakmp_kek_wrap_len(uint16_t alg, size_t len);

/** Protect in[0..len) under kek; *out_len gets gsakmp_kek_wrap_len(). */
int gsakmp_kek_wrap(uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN], const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		size_t *out_len);

/** Check and remove the protection; on failure nothing is left in out. */
int gsakmp_kek_unwrap(uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN], const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		size_t *out_len);

/**
 * Policy Token payload whose PT Data is protected under kek. The AAD binds it to the group,
 * exchange, payload type and PT Type (doc/gsakmp-profile.md §6).
 */
int gsakmp_enc_payload_pt_sealed(struct gsakmp_enc *enc, uint16_t pt_type, const uint8_t *data,
		size_t len, uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN]);

/** Key Download payload: gsakmp_kd_build(kd) protected under kek. */
int gsakmp_enc_payload_kdl_sealed(struct gsakmp_enc *enc, const struct gsakmp_kd *kd,
		uint16_t alg, const uint8_t kek[GSAKMP_KEK_LEN]);

/** Rekey Event Data block: gsakmp_kpkg_build(pkgs) protected under the wrapping key's KEK. */
int gsakmp_enc_rekey_data_sealed(struct gsakmp_enc *enc, uint32_t wrap_id,
		uint32_t wrap_handle, const struct gsakmp_kd *pkgs, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN]);

/** Open a protected Policy Token into out; *out_len gets the PT Data length. */
int gsakmp_pt_open(const struct gsakmp_msg *msg, const struct gsakmp_pt *pt, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *out, size_t cap, size_t *out_len);

/**
 * Open a protected Key Download into plain[0..cap) and parse it into kd (whose key pointers
 * then point into plain: wipe it when done).
 */
int gsakmp_kdl_open(const struct gsakmp_msg *msg, const struct gsakmp_kdl *kdl, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *plain, size_t cap,
		struct gsakmp_kd *kd);

/** Open a Rekey Event Data block into plain and parse its Key Packages into pkgs. */
int gsakmp_red_open(const struct gsakmp_msg *msg, const struct gsakmp_red *red, uint16_t alg,
		const uint8_t kek[GSAKMP_KEK_LEN], uint8_t *plain, size_t cap,
		struct gsakmp_kd *pkgs);

/* ------------------------------------------------------------------ nonces and cookies */

/** Fill buf with random octets (a Nonce_I or Nonce_R is GSAKMP_NONCE_LEN octets). */
int gsakmp_random(uint8_t *buf, size_t len);

/** Nonce_C = SHA-256(Nonce_I || Nonce_R) (profile nonce hash). */
int gsakmp_nonce_c(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		uint8_t out[GSAKMP_NONCE_C_LEN]);

/** Check a received Nonce_C in constant time; -GSAKMP_E_NONCE_C when it differs. */
int gsakmp_nonce_c_check(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		const uint8_t *nc, size_t nc_len);

/** Octets of a cookie: secret version (1) || HMAC-SHA-256 truncated to 16. */
#define GSAKMP_COOKIE_LEN 17
/** Octets of a cookie secret. */
#define GSAKMP_COOKIE_SECRET_LEN 32

struct gsakmp_cookie_ctx;

/** A cookie context with a fresh random secret (version 0). */
int gsakmp_cookie_ctx_new(struct gsakmp_cookie_ctx **out);

/**
 * Rotate the secret: the current one becomes the previous one (still accepted) and the version
 * advances. secret: GSAKMP_COOKIE_SECRET_LEN octets, or NULL for a random one.
 */
int gsakmp_cookie_rotate(struct gsakmp_cookie_ctx *c, const uint8_t *secret);

/** Free a cookie context, wiping its secrets (NULL is allowed). */
void gsakmp_cookie_ctx_free(struct gsakmp_cookie_ctx *c);

/** What a cookie is bound to: the requester's Nonce_I, address and the group. */
struct gsakmp_cookie_in {
	const uint8_t *nonce_i;
	size_t nonce_i_len;
	const uint8_t *ip;               /**< source address, or the IPValue notification's */
	size_t ip_len;
	const uint8_t *gid;
	size_t gid_len;
};

/**
 * Cookie = version || HMAC-SHA-256(secret[version], len-prefixed Nonce_I, IP, GroupID)[0..16).
 * Stateless: the GC/KS keeps nothing per requester.
 */
int gsakmp_cookie_make(const struct gsakmp_cookie_ctx *c, const struct gsakmp_cookie_in *in,
		uint8_t cookie[GSAKMP_COOKIE_LEN]);

/** Check a cookie against the current or previous secret, in constant time. */
int gsakmp_cookie_check(const struct gsakmp_cookie_ctx *c, const struct gsakmp_cookie_in *in,
		const uint8_t *cookie, size_t len);

#endif /* GSAKMP_CRYPTO_H */
