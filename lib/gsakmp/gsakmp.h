/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * GSAKMP (RFC 4535) wire codec: the message header, every payload and every exchange.
 *
 * Decoding validates before it interprets: the header, the payload chain and every length and
 * count are checked against the bytes received before any field is given a meaning, and no
 * byte past `len` is ever read. Fixed-size fields are copied into aligned structures; opaque
 * blobs (certificates, signatures, ciphertexts, policy tokens) are pointers into the caller's
 * buffer, which must outlive the decoded view.
 *
 * Encoding goes through a builder (gsakmp_enc_init(), gsakmp_enc_payload_*(),
 * gsakmp_enc_finish()) that computes the lengths and the Next Payload chain and refuses to
 * finish a message that gsakmp_decode() would reject: whatever it emits decodes. Decoding then
 * re-encoding a message gives back the same bytes.
 *
 * Everything profile-specific (signatures, key creation, KEK protection, cookies) lives in
 * gsakmp_crypto.h; the identifiers of our private-use values are here, marked "profile", and
 * specified in doc/gsakmp-profile.md.
 *
 * The library has no global mutable state and no DPDK dependency. All functions return 0 or a
 * negative `enum gsakmp_err` value unless documented otherwise.
 */
#ifndef GSAKMP_H
#define GSAKMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** UDP and TCP port (RFC 4535 §9.1). */
#define GSAKMP_PORT 3761
/** The only version we speak (RFC 4535 §7.1.1). */
#define GSAKMP_VERSION 1
/** Longest GroupID Value (its length field is one octet). */
#define GSAKMP_GID_MAX 255
/** Octets of the random element that starts every GroupID Value (RFC 4535 §7.1.1.1). */
#define GSAKMP_GID_RANDOM_LEN 8
/** Fixed header bytes besides the GroupID Value: the header is 13 + L octets. */
#define GSAKMP_HDR_FIXED 13
/** Generic payload header (Next Payload, RESERVED, Payload Length). */
#define GSAKMP_PL_HDR_LEN 4
/** Most payloads one message may carry (implementation limit). */
#define GSAKMP_MAX_PAYLOADS 64
/** Longest message we accept (UDP datagrams are shorter; TCP may carry more). */
#define GSAKMP_MAX_MSG_LEN (1u << 20)
/** Octets of a GSAKMP timestamp, "YYYYMMDDHHMMSSZ" (RFC 4535 §7.4.1.1, §7.8). */
#define GSAKMP_TS_LEN 15
/** Sequence ID of a Rekey Event that destroys the group (RFC 4535 §5.3.1.3). */
#define GSAKMP_SEQ_DESTROY UINT32_MAX
/** Shortest nonce the RFC allows (RFC 4535 §7.12). */
#define GSAKMP_NONCE_MIN 4
/** Longest nonce we accept. */
#define GSAKMP_NONCE_MAX 256
/** Nonce length of our profile. */
#define GSAKMP_NONCE_LEN 32
/** Shortest Vendor ID (RFC 4535 §7.10). */
#define GSAKMP_VID_MIN 4

/** GroupID Types (RFC 4535 Table 11). */
enum gsakmp_gid_type {
	GSAKMP_GID_UTF8 = 1,    /**< 16 hex digits of the random value, then a UTF-8 name */
	GSAKMP_GID_OCTETS = 2,  /**< 8 random octets, then an octet string (MUST) */
	GSAKMP_GID_IPV4 = 3,    /**< 8 random octets, then an IPv4 address (L = 12) */
	GSAKMP_GID_IPV6 = 4,    /**< 8 random octets, then an IPv6 address (L = 24) */
};

/** Payload types (RFC 4535 Table 12). 5 and 7 are reserved. */
enum gsakmp_pl_type {
	GSAKMP_PL_NONE = 0,
	GSAKMP_PL_POLICY_TOKEN = 1,
	GSAKMP_PL_KEY_DOWNLOAD = 2,
	GSAKMP_PL_REKEY_EVENT = 3,
	GSAKMP_PL_ID = 4,
	GSAKMP_PL_CERT = 6,
	GSAKMP_PL_SIGNATURE = 8,
	GSAKMP_PL_NOTIFICATION = 9,
	GSAKMP_PL_VENDOR_ID = 10,
	GSAKMP_PL_KEY_CREATION = 11,
	GSAKMP_PL_NONCE = 12,
	GSAKMP_PL_TYPE_MAX = 13,  /**< first value we do not know */
};

/** Exchange types (RFC 4535 Table 13). */
enum gsakmp_exch {
	GSAKMP_EXCH_KEYDL_ACK = 4,   /**< Key Download - Ack/Failure, GM -> GC/KS */
	GSAKMP_EXCH_REKEY = 5,       /**< Rekey Event, GC/KS -> group */
	GSAKMP_EXCH_RTJ = 8,         /**< Request to Join, GM -> GC/KS */
	GSAKMP_EXCH_KEYDL = 9,       /**< Key Download, GC/KS -> GM */
	GSAKMP_EXCH_COOKIE_DL = 10,  /**< Cookie Download, GC/KS -> GM (unsigned) */
	GSAKMP_EXCH_RTJ_ERR = 11,    /**< Request to Join Error, GC/KS -> GM (unsigned) */
	GSAKMP_EXCH_LOA = 12,        /**< Lack of Ack, GC/KS -> GM */
	GSAKMP_EXCH_RTD = 13,        /**< Request to Depart, GM -> GC/KS */
	GSAKMP_EXCH_DR = 14,         /**< Departure Response, GC/KS -> GM */
	GSAKMP_EXCH_DA = 15,         /**< Departure Ack, GM -> GC/KS */
};

/** Bit of an exchange type in gsakmp_dec_ctx.exch_mask. */
#define GSAKMP_EXCH_BIT(x) (UINT32_C(1) << (x))

/** Policy Token types (RFC 4535 §7.3.1). */
#define GSAKMP_PT_ASN1_V1 1   /**< RFC 4534 token */

/** Key Download item types (RFC 4535 Table 15); also Key Package types (§7.5.1.2.1). */
enum gsakmp_kdd_type {
	GSAKMP_KDD_GTPK = 0,       /**< a Key Datum: the group traffic protection key */
	GSAKMP_KDD_REKEY_LKH = 1,  /**< KD item: a Rekey Array; Key Package: one Key Datum */
	GSAKMP_KDD_DATA_SA = 193,  /**< profile: data SA attributes (gsakmp_sa_attrs) */
};

/** Cryptographic Key Types (RFC 4535 Table 16); profile values from 49153. */
enum gsakmp_key_type {
	GSAKMP_KEY_3DES_CBC64_192 = 3,
	GSAKMP_KEY_AES_CBC_128 = 12,
	GSAKMP_KEY_AES_CTR = 13,                /**< RFC 3686 KEYMAT: 16 key + 4 nonce */
	GSAKMP_KEY_AES_GCM_128 = 49153,         /**< profile: RFC 4106 KEYMAT, 16 + 4 salt */
	GSAKMP_KEY_AES_GCM_256 = 49154,         /**< profile: RFC 4106 KEYMAT, 32 + 4 salt */
	GSAKMP_KEY_AES_GMAC_128 = 49155,        /**< profile: RFC 4543 KEYMAT, 16 + 4 salt */
	GSAKMP_KEY_AES_CBC_128_HMAC_SHA256 = 49156, /**< profile: 16 AES key || 32 HMAC key */
	GSAKMP_KEY_NULL_HMAC_SHA256 = 49157,    /**< profile: 32 HMAC key */
	GSAKMP_KEY_AES_256_KEK = 49158,         /**< profile: LKH node key, 32 octets */
	GSAKMP_KEY_AES_CTR_128_HMAC_SHA256 = 49159, /**< profile: RFC 3686 KEYMAT, 16 AES key
						     *   || 4 nonce, then 32 HMAC key */
};

/** Rekey Event Types (RFC 4535 §7.5.1). */
enum gsakmp_rekey_type {
	GSAKMP_REKEY_NONE = 0,  /**< policy-token-only update, no Rekey Event Data */
	GSAKMP_REKEY_LKH = 1,
};

/** Identification classifications (RFC 4535 §7.6.1). */
enum gsakmp_id_class {
	GSAKMP_IDC_SENDER = 0,
	GSAKMP_IDC_RECEIVER = 1,
	GSAKMP_IDC_THIRD_PARTY = 2,
};

/** Identification types (RFC 4535 Table 18); also Signature ID Types. */
enum gsakmp_id_type {
	GSAKMP_ID_IPV4_ADDR = 1,
	GSAKMP_ID_FQDN = 2,
	GSAKMP_ID_RFC822_ADDR = 3,
	GSAKMP_ID_IPV6_ADDR = 5,
	GSAKMP_ID_DER_ASN1_DN = 9,
	GSAKMP_ID_KEY_ID = 11,
	GSAKMP_ID_U_NAME = 30,      /**< Serial (20) | Length (4) | DN (Length) */
	GSAKMP_ID_DN_STRING = 31,   /**< RFC 4514 string (MUST) */
};

/** Certificate types (RFC 4535 Table 20). */
enum gsakmp_cert_type {
	GSAKMP_CERT_X509_SIG = 4,   /**< DER X.509v3 signature certificate (MUST) */
	GSAKMP_CERT_CRL = 7,
	GSAKMP_CERT_X509_ATTR = 10,
	GSAKMP_CERT_RAW_RSA = 11,
	GSAKMP_CERT_HASH_URL_X509 = 12,
	GSAKMP_CERT_HASH_URL_BUNDLE = 13,
};

/** Signature types (RFC 4535 Table 21); profile values from 49153. */
enum gsakmp_sig_type {
	GSAKMP_SIG_DSS_SHA1 = 0,
	GSAKMP_SIG_RSA1024_MD5 = 1,
	GSAKMP_SIG_ECDSA_P384_SHA3 = 2,
	GSAKMP_SIG_ECDSA_P256_SHA256 = 49153,  /**< profile: r || s, 32 + 32 octets */
	GSAKMP_SIG_ED25519 = 49154,            /**< profile: RFC 8032, 64 octets */
};

/** Signature Data length of the profile's signature types. */
#define GSAKMP_SIG_LEN 64

/** Notification types (RFC 4535 Table 22). */
enum gsakmp_notify_type {
	GSAKMP_N_INVALID_PAYLOAD_TYPE = 1,
	GSAKMP_N_INVALID_VERSION = 4,
	GSAKMP_N_INVALID_GROUP_ID = 5,
	GSAKMP_N_INVALID_SEQUENCE_ID = 6,
	GSAKMP_N_PAYLOAD_MALFORMED = 7,
	GSAKMP_N_INVALID_KEY_INFO = 8,
	GSAKMP_N_INVALID_ID_INFO = 9,
	GSAKMP_N_CERT_TYPE_UNSUPPORTED = 12,
	GSAKMP_N_INVALID_CERT_AUTHORITY = 13,
	GSAKMP_N_AUTHENTICATION_FAILED = 14,
	GSAKMP_N_CERT_UNAVAILABLE = 17,
	GSAKMP_N_UNAUTHORIZED_REQUEST = 19,
	GSAKMP_N_ACK = 23,
	GSAKMP_N_NACK = 26,
	GSAKMP_N_COOKIE_REQUIRED = 27,
	GSAKMP_N_COOKIE = 28,
	GSAKMP_N_MECH_CHOICES = 29,
	GSAKMP_N_LEAVE_GROUP = 30,
	GSAKMP_N_DEPARTURE_ACCEPTED = 31,
	GSAKMP_N_DEPART_ERROR = 32,
	GSAKMP_N_INVALID_EXCHANGE_TYPE = 33,
	GSAKMP_N_IPV4_VALUE = 34,
	GSAKMP_N_IPV6_VALUE = 35,
	GSAKMP_N_PROHIBITED_BY_GROUP = 36,
	GSAKMP_N_PROHIBITED_LOCALLY = 37,
};

/** Acknowledgement types (RFC 4535 §7.9.1.1). */
#define GSAKMP_ACK_SIMPLE 0

/** Mechanism types of a Mechanism Choices notification (RFC 4535 §7.9.1.3). */
enum gsakmp_mech_type {
	GSAKMP_MECH_KEY_CREATION = 0,
	GSAKMP_MECH_ENCRYPTION = 1,
	GSAKMP_MECH_NONCE_HASH = 2,
};

/** Mechanism choices of the profile (private-use values). */
#define GSAKMP_MECH_KC_X25519 49153         /**< key creation: X25519 */
#define GSAKMP_MECH_ENC_AES256_GCM 49153    /**< KEK protection: AES-256-GCM */
#define GSAKMP_MECH_ENC_AES256_KWP 49154    /**< KEK protection: AES-256 key wrap with padding */
#define GSAKMP_MECH_NONCE_SHA1 1            /**< RFC 4535 Suite 1 */
#define GSAKMP_MECH_NONCE_SHA256 49153      /**< profile */
/** Profile mechanism type "sender IDs": its choice is how many SIDs the member asks for
 *  (0 or absent: receive only; doc/key-management.md §2). */
#define GSAKMP_MECH_SENDER_IDS 193

/** Key Creation types (RFC 4535 Table 24); profile values from 49153. */
enum gsakmp_kc_type {
	GSAKMP_KC_DH_1024_MODP = 2,
	GSAKMP_KC_DH_2048_MODP = 14,
	GSAKMP_KC_X25519 = 49153,   /**< profile: 32-octet RFC 7748 public value */
};

/** Nonce types (RFC 4535 §7.12). */
enum gsakmp_nonce_type {
	GSAKMP_NONCE_I = 1,
	GSAKMP_NONCE_R = 2,
	GSAKMP_NONCE_C = 3,
};

/** The profile's Vendor ID (doc/gsakmp-profile.md §2). */
#define GSAKMP_PROFILE_VID "msecgw-gsakmp-01"
#define GSAKMP_PROFILE_VID_LEN 16

/**
 * Reasons a message, payload or operation is refused. Values and names are stable: the key
 * server and the gateway count rejections by reason (arrays of GSAKMP_E__MAX counters).
 */
enum gsakmp_err {
	GSAKMP_OK = 0,
	GSAKMP_E_SHORT_HEADER,       /**< fewer bytes than the fixed header needs */
	GSAKMP_E_GID_TYPE,           /**< unknown or reserved GroupID Type */
	GSAKMP_E_GID_LENGTH,         /**< GroupID Length 0 or wrong for its type */
	GSAKMP_E_GID_VALUE,          /**< GroupID Value not in its type's format */
	GSAKMP_E_VERSION,            /**< version other than 1 */
	GSAKMP_E_EXCH_TYPE,          /**< reserved or unknown exchange type */
	GSAKMP_E_MSG_LENGTH,         /**< header Length below the header size or above our limit */
	GSAKMP_E_TRUNCATED,          /**< header Length beyond the bytes received */
	GSAKMP_E_TRAILING,           /**< bytes past the header Length or past the last payload */
	GSAKMP_E_PAYLOAD_LENGTH,     /**< Payload Length below 4 or past the message end */
	GSAKMP_E_RESERVED,           /**< RESERVED field not zero */
	GSAKMP_E_UNKNOWN_PAYLOAD,    /**< Next Payload names a type we do not know */
	GSAKMP_E_TOO_MANY_PAYLOADS,  /**< more than GSAKMP_MAX_PAYLOADS */
	GSAKMP_E_DUP_PAYLOAD,        /**< a payload repeated where the exchange allows one */
	GSAKMP_E_MISSING_PAYLOAD,    /**< a payload the exchange requires is absent */
	GSAKMP_E_UNEXPECTED_PAYLOAD, /**< a payload the exchange does not carry */
	GSAKMP_E_SIG_POSITION,       /**< a payload other than Certificate after the Signature */
	GSAKMP_E_SEQUENCE,           /**< Sequence ID 0 on a Rekey Event, non-zero elsewhere */
	GSAKMP_E_REPLAY,             /**< Sequence ID not above the last one accepted */
	GSAKMP_E_GROUP_ID,           /**< not the group the caller expects */
	GSAKMP_E_UNEXPECTED_EXCH,    /**< valid exchange type the state machine does not expect */
	GSAKMP_E_MALFORMED,          /**< payload body shorter than its fixed fields */
	GSAKMP_E_COUNT,              /**< a count disagrees with the bytes that follow */
	GSAKMP_E_LIMIT,              /**< a count above this implementation's limits */
	GSAKMP_E_TIMESTAMP,          /**< timestamp not a valid "YYYYMMDDHHMMSSZ" */
	GSAKMP_E_PT_TYPE,            /**< reserved Policy Token type or empty token */
	GSAKMP_E_REKEY_TYPE,         /**< unknown Rekey Event Type, copies differ, bad version */
	GSAKMP_E_REKEY_GROUP,        /**< Rekey Event header GroupID differs from the header's */
	GSAKMP_E_ID_TYPE,            /**< unknown ID Type or classification, bad ID length */
	GSAKMP_E_CERT_TYPE,          /**< reserved certificate type */
	GSAKMP_E_CERT_TRUNCATED,     /**< DER certificate or CRL shorter than its own length */
	GSAKMP_E_CERT_DER,           /**< certificate data not exactly one DER SEQUENCE */
	GSAKMP_E_NOTIFY,             /**< notification data wrong for its type or exchange */
	GSAKMP_E_VID,                /**< Vendor ID shorter than 4 octets */
	GSAKMP_E_KC,                 /**< Key Creation data wrong for its type */
	GSAKMP_E_NONCE,              /**< nonce type or length wrong */
	GSAKMP_E_ITEM_TYPE,          /**< unknown Key Download item or Key Package type */
	GSAKMP_E_KEY_TYPE,           /**< unknown or reserved Key Type */
	GSAKMP_E_KEY_LENGTH,         /**< key data length wrong for its Key Type */
	GSAKMP_E_KEY_DATES,          /**< Key Expiration not after Key Creation */
	GSAKMP_E_ATTR,               /**< malformed, unordered or missing data SA attribute */
	GSAKMP_E_CRITICAL_ATTR,      /**< unknown attribute marked critical */
	GSAKMP_E_NO_SIGNATURE,       /**< signed exchange without a Signature payload */
	GSAKMP_E_SIG_TYPE,           /**< signature type unknown, unsupported or not the key's */
	GSAKMP_E_SIG_LENGTH,         /**< Signature Data length wrong for its type */
	GSAKMP_E_SIGNER_ID,          /**< Signer ID does not name the certificate */
	GSAKMP_E_BAD_SIGNATURE,      /**< signature does not verify */
	GSAKMP_E_NO_CERT,            /**< no certificate to verify with */
	GSAKMP_E_CERT_PARSE,         /**< certificate does not parse */
	GSAKMP_E_CERT_UNTRUSTED,     /**< certificate does not chain to a trust anchor */
	GSAKMP_E_STALE,              /**< signature timestamp outside the allowed skew */
	GSAKMP_E_NONCE_C,            /**< Nonce_C is not Hash(Nonce_I || Nonce_R) */
	GSAKMP_E_DECRYPT,            /**< KEK-protected data fails authentication */
	GSAKMP_E_KEX,                /**< key creation failed (bad or low-order public value) */
	GSAKMP_E_COOKIE,             /**< cookie missing, stale or forged */
	GSAKMP_E_NO_SPACE,           /**< output buffer too small */
	GSAKMP_E_INVALID,            /**< bad argument or call order */
	GSAKMP_E_CRYPTO,             /**< the crypto library failed */
	GSAKMP_E_NOMEM,              /**< allocation failed */
	GSAKMP_E__MAX
};

/** Human-readable text of an error (accepts e or -e); never NULL. */
const char *gsakmp_strerror(int err);

/** Stable short name of an error, e.g. "bad_signature", for counters (accepts e or -e). */
const char *gsakmp_errname(int err);

/** The Notification type a peer should be sent for an error (RFC 4535 Table 22), or 0. */
uint16_t gsakmp_err_notify(int err);

/* ------------------------------------------------------------------ decoded views */

/** Message header (RFC 4535 §7.1.1). */
struct gsakmp_hdr {
	uint8_t gid_type;                /**< enum gsakmp_gid_type */
	uint8_t gid_len;                 /**< L, 1..255 */
	uint8_t version;
	uint8_t exch;                    /**< enum gsakmp_exch */
	uint32_t seq;                    /**< Sequence ID */
	uint32_t length;                 /**< decode: total length; ignored when encoding */
	uint8_t gid[GSAKMP_GID_MAX];     /**< GroupID Value */
};

/** Policy Token payload (§7.3): PT Data plaintext or KEK-protected, the codec can't tell. */
struct gsakmp_pt {
	uint16_t type;
	uint16_t len;
	const uint8_t *data;
};

/** Key Download payload (§7.4): Number of Items and items, plaintext or KEK-protected. */
struct gsakmp_kdl {
	uint16_t len;
	const uint8_t *body;
};

/**
 * Rekey Event payload (§7.5). The Rekey Event Header's GroupID Value equals the message
 * header's (checked); the Rekey Event Data blocks are walked with gsakmp_red_next().
 */
struct gsakmp_rekey {
	uint8_t type;                    /**< both copies of the Rekey Event Type (checked equal) */
	uint8_t alg_version;
	uint16_t nb_data;                /**< # of Rekey Event Data(s) */
	int64_t timestamp;               /**< seconds since the Unix epoch, UTC */
	uint32_t data_len;
	const uint8_t *data;             /**< the Rekey Event Data blocks, validated */
};

/** One Rekey Event Data block (§7.5.1.2). `body` is the protected # of Key Packages + packages. */
struct gsakmp_red {
	uint32_t wrap_id;
	uint32_t wrap_handle;
	uint16_t len;                    /**< Packet Length: octets of `body` on the wire */
	const uint8_t *body;
};

/** Iterator over the Rekey Event Data of a gsakmp_rekey view. */
struct gsakmp_red_iter {
	const uint8_t *p;
	uint32_t left;
	uint16_t remaining;
};

/** Identification payload (§7.6). */
struct gsakmp_id {
	uint8_t cls;                     /**< enum gsakmp_id_class */
	uint8_t type;                    /**< enum gsakmp_id_type */
	uint16_t len;
	const uint8_t *data;
};

/** Certificate payload (§7.7). */
struct gsakmp_cert {
	uint16_t type;                   /**< enum gsakmp_cert_type */
	uint16_t len;
	const uint8_t *data;
};

/**
 * Signature payload (§7.8). The signature covers the message from its first octet through the
 * Signer ID Data: `signed_len` octets (decode only).
 */
struct gsakmp_sig {
	uint16_t type;                   /**< enum gsakmp_sig_type */
	uint8_t id_type;                 /**< enum gsakmp_id_type of the Signer ID */
	int64_t timestamp;
	uint16_t signer_len;
	uint16_t sig_len;
	const uint8_t *signer;
	const uint8_t *sig;
	uint32_t signed_len;
};

/** Notification payload (§7.9). */
struct gsakmp_notify {
	uint16_t type;                   /**< enum gsakmp_notify_type */
	uint16_t len;
	const uint8_t *data;
};

/** Vendor ID payload (§7.10). */
struct gsakmp_vid {
	uint16_t len;
	const uint8_t *data;
};

/** Key Creation payload (§7.11). */
struct gsakmp_kc {
	uint16_t type;                   /**< enum gsakmp_kc_type */
	uint16_t len;
	const uint8_t *data;
};

/** Nonce payload (§7.12). */
struct gsakmp_nonce {
	uint8_t type;                    /**< enum gsakmp_nonce_type */
	uint16_t len;
	const uint8_t *data;
};

/** One payload of a message: its type and the view of its body. */
struct gsakmp_payload {
	uint8_t type;                    /**< enum gsakmp_pl_type */
	uint16_t length;                 /**< decode: Payload Length, header included */
	uint32_t offset;                 /**< decode: offset of the payload in the message */
	union {
		struct gsakmp_pt pt;
		struct gsakmp_kdl kdl;
		struct gsakmp_rekey rekey;
		struct gsakmp_id id;
		struct gsakmp_cert cert;
		struct gsakmp_sig sig;
		struct gsakmp_notify notify;
		struct gsakmp_vid vid;
		struct gsakmp_kc kc;
		struct gsakmp_nonce nonce;
	} u;
};

/** A decoded message. Views point into `buf`. */
struct gsakmp_msg {
	struct gsakmp_hdr hdr;
	const uint8_t *buf;              /**< the v1 message (inside a v>1 wrapper if embedded) */
	uint32_t len;
	uint16_t nb_payloads;
	int16_t sig_index;               /**< index of the Signature payload, -1 when none */
	bool profile;                    /**< our Vendor ID is present */
	struct gsakmp_payload pl[GSAKMP_MAX_PAYLOADS];
};

/** What the caller expects of a message; each check is off when its field is zero/NULL. */
struct gsakmp_dec_ctx {
	const uint8_t *gid;              /**< expected GroupID Value, NULL = any group */
	uint8_t gid_type;
	uint8_t gid_len;
	uint32_t exch_mask;              /**< GSAKMP_EXCH_BIT()s the state expects, 0 = any */
	bool check_seq;                  /**< Rekey Events must carry a Sequence ID > last_seq */
	uint32_t last_seq;
	bool embedded_v1;                /**< on version > 1, try the v1 message that follows */
};

/**
 * Decode and validate one message (one UDP datagram, or one frame cut by gsakmp_frame_len()).
 *
 * Checks, in order: header (GroupID type and length, version, exchange type, Length equal to
 * `len`, Sequence ID class), the caller's expectations in `ctx` (group, exchange, replay), the
 * payload chain (types, RESERVED, lengths), each payload body, and the exchange's dissection
 * (required, optional and repeated payloads, Signature position, nonce and notification
 * types). Does not verify signatures: see gsakmp_verify().
 *
 * @param ctx may be NULL: structural checks only.
 * @return 0, or a negative enum gsakmp_err. On error *out is unspecified.
 */
int gsakmp_decode(const uint8_t *buf, size_t len, struct gsakmp_msg *out,
		const struct gsakmp_dec_ctx *ctx);

/**
 * TCP framing: GSAKMP messages follow each other on the stream, each delimited by its header
 * Length (whose offset depends on the GroupID Length).
 * @return 1 and *msg_len when the length is known, 0 when more bytes are needed to learn it,
 *   or a negative error (GroupID Length 0, Length below the header or above `max`).
 */
int gsakmp_frame_len(const uint8_t *buf, size_t avail, size_t max, uint32_t *msg_len);

/** The nth (from 0) payload of a type, or NULL. */
const struct gsakmp_payload *gsakmp_msg_find(const struct gsakmp_msg *msg, uint8_t type,
		unsigned int nth);

/** Start walking the Rekey Event Data of a Rekey Event payload. */
void gsakmp_red_iter_init(struct gsakmp_red_iter *it, const struct gsakmp_rekey *re);

/** Next Rekey Event Data block; false at the end. Blocks were validated by the decoder. */
bool gsakmp_red_next(struct gsakmp_red_iter *it, struct gsakmp_red *out);

/**
 * Sequence rule for group-management messages (RFC 4535 §7.1.2): accept only a Sequence ID
 * above the last one accepted from this GC/KS.
 * @return 0 (accept), 1 (accept: GSAKMP_SEQ_DESTROY, the group is being destroyed) or
 *   -GSAKMP_E_REPLAY.
 */
int gsakmp_seq_check(uint32_t last, uint32_t seq);

/** Acknowledgement type of an Ack notification, or a negative error. */
int gsakmp_notify_ack_type(const struct gsakmp_notify *n);

/** One entry of a Mechanism Choices notification. */
struct gsakmp_mech {
	uint8_t type;                    /**< enum gsakmp_mech_type */
	uint16_t choice;
};

/**
 * Entries of a Mechanism Choices notification (validated by the decoder).
 * @return the number of entries written (at most cap), or a negative error.
 */
int gsakmp_mech_parse(const struct gsakmp_notify *n, struct gsakmp_mech *out, unsigned int cap);

/** Encode Mechanism Choices notification data; *len gets its length. */
int gsakmp_mech_build(const struct gsakmp_mech *m, unsigned int n, uint8_t *out, size_t cap,
		size_t *len);

/** Fields of an ID_U_NAME identification (§7.6.2.1), validated by the decoder. */
int gsakmp_id_u_name(const struct gsakmp_id *id, const uint8_t **serial, const uint8_t **dn,
		uint32_t *dn_len);

/** Write t (seconds since the epoch, UTC, years 1970-9999) as "YYYYMMDDHHMMSSZ". */
int gsakmp_time_format(int64_t t, char out[GSAKMP_TS_LEN + 1]);

/** Parse a "YYYYMMDDHHMMSSZ" timestamp (exactly 15 octets, a valid date). */
int gsakmp_time_parse(const uint8_t in[GSAKMP_TS_LEN], int64_t *t);

/* ------------------------------------------------------------------ encoder */

struct gsakmp_enc;

/**
 * Start a message in buf[0..cap). The header's length is computed; its other fields are taken
 * from hdr. The builder keeps the first error: later calls do nothing and gsakmp_enc_finish()
 * returns it, so a sequence of calls needs one check at the end.
 */
int gsakmp_enc_init(struct gsakmp_enc **enc, uint8_t *buf, size_t cap,
		const struct gsakmp_hdr *hdr);

/** Append a payload from its view (the re-encoding path). A Signature is copied, not signed. */
int gsakmp_enc_payload(struct gsakmp_enc *enc, const struct gsakmp_payload *pl);

/** Policy Token payload with PT Data as given (plaintext or already protected). */
int gsakmp_enc_payload_pt(struct gsakmp_enc *enc, uint16_t type, const uint8_t *data,
		size_t len);

/** Key Download payload with a body as given (gsakmp_kd_build() output, or protected). */
int gsakmp_enc_payload_kdl(struct gsakmp_enc *enc, const uint8_t *body, size_t len);

/** Open a Rekey Event payload; add blocks with gsakmp_enc_rekey_data(), close with _end. */
int gsakmp_enc_payload_rekey(struct gsakmp_enc *enc, uint8_t type, uint8_t alg_version,
		int64_t timestamp);

/** Add one Rekey Event Data block with a body as given (protected key packages). */
int gsakmp_enc_rekey_data(struct gsakmp_enc *enc, uint32_t wrap_id, uint32_t wrap_handle,
		const uint8_t *body, size_t len);

/** Close the open Rekey Event payload. */
int gsakmp_enc_rekey_end(struct gsakmp_enc *enc);

/** Identification payload. */
int gsakmp_enc_payload_id(struct gsakmp_enc *enc, uint8_t cls, uint8_t type,
		const uint8_t *data, size_t len);

/** Certificate payload. */
int gsakmp_enc_payload_cert(struct gsakmp_enc *enc, uint16_t type, const uint8_t *data,
		size_t len);

/** Notification payload. */
int gsakmp_enc_payload_notify(struct gsakmp_enc *enc, uint16_t type, const uint8_t *data,
		size_t len);

/** Vendor ID payload. */
int gsakmp_enc_payload_vid(struct gsakmp_enc *enc, const uint8_t *data, size_t len);

/** Key Creation payload. */
int gsakmp_enc_payload_kc(struct gsakmp_enc *enc, uint16_t type, const uint8_t *data,
		size_t len);

/** Nonce payload. */
int gsakmp_enc_payload_nonce(struct gsakmp_enc *enc, uint8_t type, const uint8_t *data,
		size_t len);

/**
 * Finish: write the header Length, sign if gsakmp_enc_payload_sig() reserved a signature, and
 * check the result with gsakmp_decode(). Frees enc in every case.
 * @param len the message length on success.
 */
int gsakmp_enc_finish(struct gsakmp_enc *enc, size_t *len);

/** Free a builder without finishing. NULL is allowed. */
void gsakmp_enc_abort(struct gsakmp_enc *enc);

/** Re-encode a decoded message; the result equals the bytes it was decoded from. */
int gsakmp_encode_msg(const struct gsakmp_msg *msg, uint8_t *buf, size_t cap, size_t *len);

/* ------------------------------------------------------------------ Key Download contents */

/** Key Datum (§7.4.1.1). On decode `key` points into the (decrypted) buffer. */
struct gsakmp_key_datum {
	uint16_t type;                   /**< enum gsakmp_key_type */
	uint16_t key_len;
	uint32_t id;
	uint32_t handle;
	int64_t created;
	int64_t expires;
	const uint8_t *key;
};

/** Key Datum fixed part: Key Type, ID, Handle, Creation and Expiration dates. */
#define GSAKMP_KEY_DATUM_FIXED 40

/** Most Rekey Array keys, in total, in one gsakmp_kd (implementation limit). */
#define GSAKMP_KD_MAX_KEYS 64
/** Most items (or Key Packages) in one gsakmp_kd (implementation limit). */
#define GSAKMP_KD_MAX_ITEMS 16
/** Most sender IDs in one data SA attribute set, and of one TESLA sender. */
#define GSAKMP_MAX_SIDS 64
/** Most TESLA senders in one TESLA attribute (GWCONF_TESLA_MAX_SENDERS). */
#define GSAKMP_TESLA_MAX_SENDERS 8
/** Octets of a TESLA commitment F(K_0) (and of every chain key). */
#define GSAKMP_TESLA_COMMIT_LEN 32
/** Smallest TESLA disclosure delay d (RFC 4082 §3.6; TESLA_D_MIN); the largest is 255. */
#define GSAKMP_TESLA_D_MIN 2

/** Data SA flags (profile attribute GSAKMP_ATTR_FLAGS). */
#define GSAKMP_SAF_PRESERVE_SRC 0x1u  /**< outer source = inner source (RFC 5374 §3.1) */
#define GSAKMP_SAF_PRESERVE_DST 0x2u  /**< outer destination = inner destination */
#define GSAKMP_SAF_ESN 0x4u           /**< 64-bit extended sequence numbers */
#define GSAKMP_SAF_SEND 0x8u          /**< this member sends on the SA */
#define GSAKMP_SAF_RECEIVE 0x10u      /**< this member receives on the SA */
#define GSAKMP_SAF_ALL 0x1fu

/**
 * Data SA suites (profile attribute GSAKMP_ATTR_SUITE); the values of enum mcrypto_suite, and
 * the gateway's configuration names (doc/gsakmp-profile.md §9).
 */
enum gsakmp_suite {
	GSAKMP_SUITE_AES_GCM_128 = 1,              /**< aes-gcm-128 (RFC 4106) */
	GSAKMP_SUITE_AES_GCM_256 = 2,              /**< aes-gcm-256 (RFC 4106) */
	GSAKMP_SUITE_AES_GMAC_128 = 3,             /**< aes-gmac-128 (RFC 4543) */
	GSAKMP_SUITE_AES_CBC_128_HMAC_SHA256 = 4,  /**< aes-cbc-128+hmac-sha256-128 (RFC 3602,
						    *   RFC 4868); no gateway suite */
	GSAKMP_SUITE_NULL_HMAC_SHA256 = 5,         /**< null-hmac-sha256-128 (RFC 2410, RFC 4868);
						    *   no IV */
	GSAKMP_SUITE_AES_CTR_128_HMAC_SHA256 = 6,  /**< aes-ctr-128-hmac-sha256-128 (RFC 3686,
						    *   RFC 4868) */
};

/** Profile attribute types; the wire value has bit 15 set for the critical ones. */
enum gsakmp_attr {
	GSAKMP_ATTR_SPI = 1,
	GSAKMP_ATTR_SUITE = 2,
	GSAKMP_ATTR_FLAGS = 3,
	GSAKMP_ATTR_SID_BITS = 4,
	GSAKMP_ATTR_SIDS = 5,
	GSAKMP_ATTR_ACT_DELAY = 6,
	GSAKMP_ATTR_DEACT_DELAY = 7,
	GSAKMP_ATTR_REPLAY_WINDOW = 8,
	GSAKMP_ATTR_GROUP_ADDR = 9,
	GSAKMP_ATTR_SOURCE_ADDR = 10,
	GSAKMP_ATTR_TESLA = 11,
	GSAKMP_ATTR_MAX
};

/** Critical bit of an attribute type on the wire. */
#define GSAKMP_ATTR_CRITICAL 0x8000u

/** TESLA MAC functions (doc/wire-format.md §7.4); the values of enum mcrypto_mac. */
enum gsakmp_tesla_mac {
	GSAKMP_TESLA_MAC_HMAC_SHA256_128 = 1,  /**< HMAC-SHA-256-128 */
	GSAKMP_TESLA_MAC_AES_GMAC_128 = 2,     /**< AES-128-GMAC; needs an IV, so not with
						*   GSAKMP_SUITE_NULL_HMAC_SHA256 */
};

/** One TESLA sender of a data SA: the SIDs it sends with and where its key chain starts. */
struct gsakmp_tesla_sender {
	uint8_t nb_sids;                 /**< 1..GSAKMP_MAX_SIDS */
	uint16_t sids[GSAKMP_MAX_SIDS];  /**< distinct across all senders of the SA */
	uint32_t chain;                  /**< index of the chain the commitment is for; that
					  *   chain starts at interval chain * chain_len */
	uint8_t commitment[GSAKMP_TESLA_COMMIT_LEN]; /**< F(K_0) of that chain (public) */
};

/**
 * TESLA parameters of a data SA (RFC 4082; profile attribute GSAKMP_ATTR_TESLA): the facts
 * every member of the group shares (struct gwconf_tesla without the receiver-local store
 * limits, walk bound and fail mode, and without the sender's windows and secret chain key).
 */
struct gsakmp_tesla {
	uint32_t interval_ms;            /**< T_int, >= 1 */
	uint8_t d;                       /**< disclosure delay d, in intervals, 2..255 */
	uint8_t mac;                     /**< enum gsakmp_tesla_mac */
	uint64_t t0_ms;                  /**< T_0, start of interval 0, ms since the epoch */
	uint32_t chain_len;              /**< N + 1, keys per chain, >= d + 2 */
	uint32_t max_skew_ms;            /**< the key server's bound on the senders' clock
					  *   offset, < d * T_int; 0 = none given */
	uint8_t nb_senders;              /**< 1..GSAKMP_TESLA_MAX_SENDERS */
	struct gsakmp_tesla_sender senders[GSAKMP_TESLA_MAX_SENDERS];
};

/**
 * Data SA attributes (profile KDD/Key Package type 193): what the data plane needs besides the
 * key. `present` has bit (1 << GSAKMP_ATTR_x) for each attribute carried. SPI and suite are
 * required. Values are validated on decode and before encode.
 */
struct gsakmp_sa_attrs {
	uint32_t key_id;                 /**< Key ID of the GTPK that keys this SA */
	uint32_t key_handle;
	uint32_t present;
	uint32_t spi;
	uint16_t suite;                  /**< enum gsakmp_suite */
	uint32_t flags;                  /**< GSAKMP_SAF_* */
	uint8_t sid_bits;                /**< 8, 12 or 16 (RFC 6054 §3) */
	uint8_t nb_sids;
	uint16_t sids[GSAKMP_MAX_SIDS];  /**< this member's sender IDs */
	uint32_t act_delay_ms;           /**< send on the new SA this long after the rekey */
	uint32_t deact_delay_ms;         /**< delete the old SA this long after the rekey */
	uint32_t replay_window;
	uint8_t addr_len;                /**< 4 or 16, for GROUP_ADDR and SOURCE_ADDR */
	uint8_t group_addr[16];
	uint8_t source_addr[16];
	struct gsakmp_tesla tesla;
};

/** A Rekey Array (§7.4.1.2): its keys are kd->keys[first_key .. first_key + nb_keys). */
struct gsakmp_rekey_array {
	uint8_t version;                 /**< 1 for LKH */
	uint32_t member_id;
	uint16_t nb_keys;
	uint16_t first_key;
};

/** One Key Download item or Key Package. */
struct gsakmp_kd_item {
	uint8_t type;                    /**< enum gsakmp_kdd_type */
	union {
		struct gsakmp_key_datum datum;   /**< GTPK; Key Package Rekey-LKH */
		struct gsakmp_rekey_array ra;    /**< Key Download Rekey-LKH */
		struct gsakmp_sa_attrs sa;       /**< profile data SA */
	} u;
};

/** Key Download contents (§7.4.1) or the Key Packages of a Rekey Event Data block (§7.5.1.2). */
struct gsakmp_kd {
	uint16_t nb_items;
	uint16_t nb_keys;
	struct gsakmp_kd_item items[GSAKMP_KD_MAX_ITEMS];
	struct gsakmp_key_datum keys[GSAKMP_KD_MAX_KEYS];
};

/** Key length of a Key Type, or 0 when the type is unknown. */
uint16_t gsakmp_key_type_len(uint16_t type);

/** The GTPK Key Type of a data SA suite (enum gsakmp_suite, §9), or 0 for an unknown suite. */
uint16_t gsakmp_suite_key_type(uint16_t suite);

/** Encode Key Download contents (Number of Items and items); *len gets the length. */
int gsakmp_kd_build(const struct gsakmp_kd *kd, uint8_t *out, size_t cap, size_t *len);

/** Decode Key Download contents; key pointers point into `in`. */
int gsakmp_kd_parse(const uint8_t *in, size_t len, struct gsakmp_kd *out);

/** Encode Key Packages (# of Key Packages and packages) from items of type 0, 1 and 193. */
int gsakmp_kpkg_build(const struct gsakmp_kd *pkgs, uint8_t *out, size_t cap, size_t *len);

/** Decode Key Packages; key pointers point into `in`. */
int gsakmp_kpkg_parse(const uint8_t *in, size_t len, struct gsakmp_kd *out);

#endif /* GSAKMP_H */
