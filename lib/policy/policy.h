/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Group Security Policy Token (RFC 4534): the Group Owner's signed statement of who may run,
 * join and send in a group, how it is rekeyed and which data SAs protect its traffic.
 *
 * The token is a DER CMS SignedData (RFC 5652) with eContentType id-ct-msec-token
 * (1.3.6.1.5.5.12.1.1), one SignerInfo (the Group Owner) and a signing-time signed attribute.
 * Its content is RFC 4534's Token; the registration, rekey and data protocols inside it are
 * msecgw profiles under a private OID arc. doc/policy-token.md gives the ASN.1, the OIDs and the
 * JSON form that `msec-token` turns into a token.
 *
 * No DPDK dependency. A token object is immutable once built or verified and may be read from
 * several threads; the library registers its OIDs once (thread-safe) on first use.
 *
 * Functions return 0 (POLICY_OK) or a negative enum policy_error; policy_strerror() names it.
 * Those that take `err` also write a one-line detail there (what was wrong and where), which
 * never contains key material.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define POLICY_NAME_MAX 64          /**< group names, NUL included */
#define POLICY_GROUP_ID_LEN 8       /**< random part of the GSAKMP GroupID (RFC 4535 §7.1.1.1) */
#define POLICY_ERR_MAX 512          /**< size of a detail message buffer */
#define POLICY_TOKEN_MAX 65536      /**< largest DER token accepted */
#define POLICY_MAX_DATA 16          /**< data protocols per token */
#define POLICY_URL_MAX 256          /**< reliability "post" location, NUL included */
#define POLICY_CLOCK_SKEW 300       /**< seconds of clock skew tolerated (RFC 4535 §3.1 item 4) */

/** Error codes. Every failure of a check has its own code. */
enum policy_error {
	POLICY_OK = 0,
	POLICY_E_INVAL = -1,            /**< bad argument */
	POLICY_E_NOMEM = -2,            /**< out of memory */
	POLICY_E_SIZE = -3,             /**< empty, or larger than POLICY_TOKEN_MAX */
	POLICY_E_TRUNCATED = -4,        /**< a DER length runs past the end of its container */
	POLICY_E_TRAILING = -5,         /**< bytes after the end of a DER object */
	POLICY_E_DER = -6,              /**< BER that is not DER (indefinite or long-form-when-short
					 *   lengths, constructed strings), or nesting too deep */
	POLICY_E_NOT_CMS = -7,          /**< well-formed DER, but not a CMS ContentInfo */
	POLICY_E_NOT_SIGNED = -8,       /**< the ContentInfo is not a SignedData */
	POLICY_E_CONTENT_TYPE = -9,     /**< eContentType is not id-ct-msec-token */
	POLICY_E_NO_CONTENT = -10,      /**< detached signature: no eContent */
	POLICY_E_SIGNER = -11,          /**< not exactly one SignerInfo, or its certificate is not
					 *   in the token */
	POLICY_E_NO_SIGNING_TIME = -12, /**< no (or more than one) signing-time signed attribute */
	POLICY_E_SIGNATURE = -13,       /**< the signature does not verify: content or signed
					 *   attributes altered */
	POLICY_E_CHAIN = -14,           /**< the signer's certificate does not chain to the trust
					 *   anchor (or is expired, revoked, malformed) */
	POLICY_E_NOT_GO = -15,          /**< the signer is not a Group Owner (its certificate lacks
					 *   the Group Owner extended key usage) */
	POLICY_E_SYNTAX = -16,          /**< the token content does not decode as a Token */
	POLICY_E_NONCANONICAL = -17,    /**< the content decodes but is not in DER */
	POLICY_E_VERSION = -18,         /**< tokenDefVersion is not 1 */
	POLICY_E_VALUE = -19,           /**< a field is missing or out of range */
	POLICY_E_UNSUPPORTED = -20,     /**< a data protocol this library does not implement
					 *   (RFC 4534: a member must support every one) */
	POLICY_E_NOT_YET_VALID = -21,   /**< before the token's notBefore */
	POLICY_E_EXPIRED = -22,         /**< at or after the token's notAfter */
	POLICY_E_GROUP = -23,           /**< for another group than the last accepted token */
	POLICY_E_EDITION = -24,         /**< edition not greater than the last accepted one */
	POLICY_E_SIGNING_TIME = -25,    /**< signing-time older than the last accepted token's, or
					 *   in the future */
	POLICY_E_NOT_LISTED = -26,      /**< authorization: no access rule names the certificate */
	POLICY_E_EXCLUDED = -27,        /**< authorization: an exclusion rule names it */
	POLICY_E_NO_POLICY = -28,       /**< the token has no policy of the kind asked for */
	POLICY_E_KEY = -29,             /**< signing: key and certificate do not match, or the key
					 *   type cannot sign CMS here */
	POLICY_E_JSON = -30,            /**< JSON policy invalid (details in err) */
	POLICY_E_CRYPTO = -31,          /**< unexpected OpenSSL failure */
};

/** Roles a token authorizes (RFC 4535 §4.1). */
enum policy_role {
	POLICY_ROLE_GCKS = 0,      /**< Group Controller / Key Server */
	POLICY_ROLE_SUBGCKS = 1,   /**< subordinate GC/KS */
	POLICY_ROLE_SENDER = 2,    /**< member allowed to send */
	POLICY_ROLE_MEMBER = 3,    /**< group member (receiver) */
	POLICY_ROLE_COUNT = 4,
};

/** Registration transport (RFC 4534 Appendix B, Transport). */
enum policy_transport {
	POLICY_TRANSPORT_TCP = 0,
	POLICY_TRANSPORT_UDP = 1,
	POLICY_TRANSPORT_UDP_RTJ_TCP_OTHER = 2,   /**< UDP for Request to Join, TCP otherwise */
};

/** Registration policy (the first registration entry this library understands). */
struct policy_registration {
	enum policy_transport transport;
	uint32_t timeout_seconds;        /**< registration exchange timeout */
	bool deregistration;             /**< members may send Request to Depart */
	enum policy_transport dereg_transport;
};

enum policy_rekey_method {
	POLICY_REKEY_NONE = 0,           /**< no rekey protocol: the group is never rekeyed */
	POLICY_REKEY_LKH = 1,            /**< Logical Key Hierarchy (RFC 2627 §5.4), d-ary */
};

enum policy_key_wrap {
	POLICY_WRAP_AES256_KW = 1,       /**< RFC 3394, id-aes256-wrap */
	POLICY_WRAP_AES256_GCM = 2,      /**< id-aes256-GCM */
};

enum policy_reliability {
	POLICY_REL_NONE = 0,             /**< id-reliabilityNone */
	POLICY_REL_RESEND = 1,           /**< id-reliabilityResend: each rekey sent count times */
	POLICY_REL_POST = 2,             /**< id-reliabilityPost: rekeys also posted at a URL */
};

/** Rekey policy (RFC 4534 Appendix B.5, msecgw profile). */
struct policy_rekey {
	enum policy_rekey_method method;
	uint8_t degree;                  /**< LKH tree degree, 2..16 */
	enum policy_key_wrap key_wrap;   /**< how LKH wraps keys */
	uint32_t period_seconds;         /**< scheduled rekey every ...; 0 = none */
	uint32_t events;                 /**< rekey after this many membership changes; 0 = none */
	uint32_t max_silence_seconds;    /**< rekeyInterval: a member that hears no valid rekey for
					  *   this long re-registers */
	enum policy_reliability reliability;
	uint32_t resend_count;           /**< POLICY_REL_RESEND: 1..10 */
	char post_url[POLICY_URL_MAX];   /**< POLICY_REL_POST */
};

/**
 * Group ESP transform suites (doc/architecture.md, "Transforms"): the values of enum
 * mcrypto_suite and enum gsakmp_suite, named as the gateway's configuration names them.
 */
enum policy_suite {
	POLICY_SUITE_AES_GCM_128 = 1,                 /**< "aes-gcm-128" */
	POLICY_SUITE_AES_GCM_256 = 2,                 /**< "aes-gcm-256" */
	POLICY_SUITE_AES_GMAC_128 = 3,                /**< "aes-gmac-128" */
	POLICY_SUITE_AES_CBC_128_HMAC_SHA256_128 = 4, /**< "aes-cbc-128+hmac-sha256-128" (no
						       *   gateway suite) */
	POLICY_SUITE_NULL_HMAC_SHA256_128 = 5,        /**< "null-hmac-sha256-128" */
	POLICY_SUITE_AES_CTR_128_HMAC_SHA256_128 = 6, /**< "aes-ctr-128-hmac-sha256-128" */
};

/** Address preservation in the tunnel header (RFC 5374 §3.1; values as GDOI's attribute 14). */
enum policy_ap {
	POLICY_AP_NONE = 1,
	POLICY_AP_SRC = 2,
	POLICY_AP_DST = 3,
	POLICY_AP_SRC_DST = 4,
};

/** Who sends on a data SA. */
enum policy_direction {
	POLICY_DIR_SENDERS = 1,          /**< authorized senders send, every member receives */
	POLICY_DIR_SYMMETRIC = 2,        /**< every member sends and receives */
};

/** One data SA profile: a group ESP SA of the msecgw private data protocol. */
struct policy_data_sa {
	enum policy_suite suite;
	bool tesla;                      /**< TESLA source authentication (RFC 4082) inside EXT */
	uint8_t sid_bits;                /**< sender ID length: 8, 12 or 16 (RFC 6054) */
	uint32_t replay_window;          /**< bits, 0 = no anti-replay, at most 65536 */
	bool esn;                        /**< 64-bit extended sequence numbers */
	enum policy_ap ap;
	enum policy_direction direction;
	uint32_t activation_delay_ms;    /**< ATD (RFC 5374 §4.2.1) */
	uint32_t deactivation_delay_ms;  /**< DTD, not smaller than ATD */
	uint32_t lifetime_seconds;       /**< SA lifetime; 0 = until rekeyed */
	uint8_t family;                  /**< AF_INET or AF_INET6 of group (and source) */
	uint8_t group[16];               /**< multicast group address (IPv4: first 4 bytes) */
	bool has_source;                 /**< SSM source given */
	uint8_t source[16];
};

/**
 * What a receiver keeps of the last token it accepted, to refuse older ones. Plain data: store
 * it as it is. Zero it before the first token of a group.
 */
struct policy_state {
	char group_name[POLICY_NAME_MAX];          /**< "" before the first token */
	uint8_t group_id[POLICY_GROUP_ID_LEN];
	uint64_t edition;                          /**< 0 before the first token */
	int64_t signing_time;                      /**< seconds since the epoch */
};

/** A decoded token (opaque). */
struct policy_token;

/** @return the name of an error code, e.g. "POLICY_E_EDITION: edition not newer ...". */
const char *policy_strerror(int code);

/**
 * Build an unsigned token from a JSON policy (doc/policy-token.md).
 * Validation is strict: unknown keys, wrong types and out-of-range values are errors naming the
 * source, the JSON path and what was expected (`p.json: data[0].sid_bits: expected 8, 12 or 16,
 * got 9`).
 * @param name what messages call the source (usually the file name).
 * @param now time that relative validity ("lifetime_seconds") counts from; 0 = current time.
 * @return 0, POLICY_E_JSON or POLICY_E_NOMEM.
 */
int policy_token_from_json(const char *name, const char *buf, size_t len, time_t now,
		struct policy_token **out, char err[POLICY_ERR_MAX]);

/** policy_token_from_json() on a file; I/O errors are POLICY_E_INVAL. */
int policy_token_from_json_file(const char *path, time_t now, struct policy_token **out,
		char err[POLICY_ERR_MAX]);

/**
 * Sign a token as the Group Owner: DER CMS SignedData with the signer's certificate (and
 * `chain`, may be NULL) embedded and a signing-time attribute.
 * @param signing_time 0 = current time.
 * @param der receives an OPENSSL_malloc'd buffer (free with OPENSSL_free).
 */
int policy_token_sign(const struct policy_token *tok, EVP_PKEY *key, X509 *cert,
		STACK_OF(X509) *chain, time_t signing_time, uint8_t **der, size_t *len,
		char err[POLICY_ERR_MAX]);

/**
 * Check a received token and decode it. In order: DER well-formedness, CMS SignedData with
 * eContentType id-ct-msec-token, one SignerInfo with a signing-time, the signature, the signer's
 * chain to `trust` at `now`, the signer's Group Owner extended key usage, the content (strict
 * DER, values in range, every data protocol supported), the validity period, then against
 * `last`: same group, greater edition, signing-time not older (RFC 4534 §2).
 * @param trust trust anchors (the Group Owner's CA); not modified.
 * @param last the last accepted token's state, or NULL for none.
 * @param now 0 = current time.
 * @param out receives the token on success (may be NULL when only the verdict matters).
 */
int policy_token_verify(const uint8_t *der, size_t len, X509_STORE *trust,
		const struct policy_state *last, time_t now, struct policy_token **out,
		char err[POLICY_ERR_MAX]);

/**
 * Decode a token without checking its signature or dates (for display). The same structural
 * and content checks as policy_token_verify() apply.
 */
int policy_token_parse(const uint8_t *der, size_t len, struct policy_token **out,
		char err[POLICY_ERR_MAX]);

/** Free a token (NULL is fine). */
void policy_token_free(struct policy_token *tok);

/**
 * Access control (RFC 4534 Appendix B, AccessControl): is `cert` allowed in `role`? It is when
 * one of the role's access rules names it and none of its exclusion rules does. Rules match
 * the subject DN, a subjectAltName (dNSName, rfc822Name, iPAddress), optionally the issuer DN
 * and the issuer's key identifier. The certificate's chain is the caller's to verify.
 * @return 0 when allowed, POLICY_E_EXCLUDED, POLICY_E_NOT_LISTED, POLICY_E_NO_POLICY (no
 *   registration policy in the token) or POLICY_E_INVAL.
 */
int policy_authorize(const struct policy_token *tok, enum policy_role role, X509 *cert);

/** @return the group name (NUL-terminated). */
const char *policy_token_group_name(const struct policy_token *tok);
/** Copy the group ID (the random part of the GSAKMP GroupID). */
void policy_token_group_id(const struct policy_token *tok, uint8_t id[POLICY_GROUP_ID_LEN]);
uint64_t policy_token_edition(const struct policy_token *tok);
/** Validity period, seconds since the epoch. */
void policy_token_validity(const struct policy_token *tok, int64_t *not_before,
		int64_t *not_after);
/** @return the signing-time, or 0 for a token that was built and not parsed. */
int64_t policy_token_signing_time(const struct policy_token *tok);
/** @return true when the token came out of policy_token_verify(). */
bool policy_token_verified(const struct policy_token *tok);
/** Fill `st` with what policy_token_verify() needs to refuse older tokens later. */
void policy_token_state(const struct policy_token *tok, struct policy_state *st);

/** @return 0 or POLICY_E_NO_POLICY. */
int policy_token_registration(const struct policy_token *tok, struct policy_registration *out);
/** @return 0 or POLICY_E_NO_POLICY (no rekey protocol understood; method NONE is a policy). */
int policy_token_rekey(const struct policy_token *tok, struct policy_rekey *out);
/** @return the number of data SA profiles. */
unsigned int policy_token_data_count(const struct policy_token *tok);
/** @return 0 or POLICY_E_INVAL (index out of range). */
int policy_token_data(const struct policy_token *tok, unsigned int i, struct policy_data_sa *out);

/**
 * Render a token as JSON: {"signature": {...}, "policy": {...}} where "policy" has the input
 * format of policy_token_from_json() (validity as absolute times) and "signature" the signer,
 * signing-time and whether it was verified.
 * @param out receives a malloc'd NUL-terminated string (free with free()).
 */
int policy_token_to_json(const struct policy_token *tok, char **out);

#endif
