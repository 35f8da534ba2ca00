/* SPDX-License-Identifier: BSD-3-Clause */
/* Error names, timestamps, and small accessors of decoded payloads. */
#include <string.h>

#include "gsakmp_pvt.h"

struct err_info {
	const char *name;
	const char *text;
	uint16_t notify;
};

/* The Notification a peer gets for each reason (RFC 4535 Table 22); 0 = none fits. */
static const struct err_info errs[GSAKMP_E__MAX] = {
	[GSAKMP_OK] = { "ok", "success", 0 },
	[GSAKMP_E_SHORT_HEADER] = { "short_header", "message shorter than its header",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_GID_TYPE] = { "gid_type", "unknown GroupID Type", GSAKMP_N_INVALID_GROUP_ID },
	[GSAKMP_E_GID_LENGTH] = { "gid_length", "GroupID Length wrong for its type",
		GSAKMP_N_INVALID_GROUP_ID },
	[GSAKMP_E_GID_VALUE] = { "gid_value", "GroupID Value not in its type's format",
		GSAKMP_N_INVALID_GROUP_ID },
	[GSAKMP_E_VERSION] = { "version", "unsupported version", GSAKMP_N_INVALID_VERSION },
	[GSAKMP_E_EXCH_TYPE] = { "exch_type", "unknown exchange type",
		GSAKMP_N_INVALID_EXCHANGE_TYPE },
	[GSAKMP_E_MSG_LENGTH] = { "msg_length", "header Length out of range",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_TRUNCATED] = { "truncated", "message shorter than its header Length",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_TRAILING] = { "trailing", "bytes after the last payload",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_PAYLOAD_LENGTH] = { "payload_length", "Payload Length past the message end",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_RESERVED] = { "reserved", "RESERVED field not zero",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_UNKNOWN_PAYLOAD] = { "unknown_payload", "unknown payload type",
		GSAKMP_N_INVALID_PAYLOAD_TYPE },
	[GSAKMP_E_TOO_MANY_PAYLOADS] = { "too_many_payloads", "too many payloads",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_DUP_PAYLOAD] = { "duplicate_payload", "payload repeated",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_MISSING_PAYLOAD] = { "missing_payload", "required payload missing",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_UNEXPECTED_PAYLOAD] = { "unexpected_payload", "payload not allowed here",
		GSAKMP_N_INVALID_PAYLOAD_TYPE },
	[GSAKMP_E_SIG_POSITION] = { "signature_position", "payload after the signature",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_SEQUENCE] = { "sequence", "Sequence ID wrong for the exchange",
		GSAKMP_N_INVALID_SEQUENCE_ID },
	[GSAKMP_E_REPLAY] = { "replay", "Sequence ID not above the last one",
		GSAKMP_N_INVALID_SEQUENCE_ID },
	[GSAKMP_E_GROUP_ID] = { "group_id", "not the expected group",
		GSAKMP_N_INVALID_GROUP_ID },
	[GSAKMP_E_UNEXPECTED_EXCH] = { "unexpected_exchange", "exchange not expected now",
		GSAKMP_N_INVALID_EXCHANGE_TYPE },
	[GSAKMP_E_MALFORMED] = { "malformed", "payload body malformed",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_COUNT] = { "count", "count disagrees with the data",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_LIMIT] = { "limit", "count above implementation limit",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_TIMESTAMP] = { "timestamp", "bad timestamp", GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_PT_TYPE] = { "pt_type", "bad Policy Token type", GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_REKEY_TYPE] = { "rekey_type", "bad Rekey Event type or version",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_REKEY_GROUP] = { "rekey_group", "Rekey Event for another group",
		GSAKMP_N_INVALID_GROUP_ID },
	[GSAKMP_E_ID_TYPE] = { "id_type", "bad identification", GSAKMP_N_INVALID_ID_INFO },
	[GSAKMP_E_CERT_TYPE] = { "cert_type", "unsupported certificate type",
		GSAKMP_N_CERT_TYPE_UNSUPPORTED },
	[GSAKMP_E_CERT_TRUNCATED] = { "cert_truncated", "certificate truncated",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_CERT_DER] = { "cert_der", "certificate not one DER object",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_NOTIFY] = { "notification", "bad notification", GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_VID] = { "vendor_id", "bad Vendor ID", GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_KC] = { "key_creation", "bad Key Creation data", GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_NONCE] = { "nonce", "bad nonce", GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_ITEM_TYPE] = { "item_type", "unknown key item type",
		GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_KEY_TYPE] = { "key_type", "unknown key type", GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_KEY_LENGTH] = { "key_length", "key length wrong for its type",
		GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_KEY_DATES] = { "key_dates", "key expires before it is created",
		GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_ATTR] = { "attribute", "bad data SA attribute", GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_CRITICAL_ATTR] = { "critical_attribute", "unknown critical attribute",
		GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_NO_SIGNATURE] = { "no_signature", "signature missing",
		GSAKMP_N_AUTHENTICATION_FAILED },
	[GSAKMP_E_SIG_TYPE] = { "signature_type", "unsupported signature type",
		GSAKMP_N_AUTHENTICATION_FAILED },
	[GSAKMP_E_SIG_LENGTH] = { "signature_length", "signature length wrong for its type",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_SIGNER_ID] = { "signer_id", "Signer ID does not match the certificate",
		GSAKMP_N_INVALID_ID_INFO },
	[GSAKMP_E_BAD_SIGNATURE] = { "bad_signature", "signature does not verify",
		GSAKMP_N_AUTHENTICATION_FAILED },
	[GSAKMP_E_NO_CERT] = { "no_certificate", "no certificate for the signer",
		GSAKMP_N_CERT_UNAVAILABLE },
	[GSAKMP_E_CERT_PARSE] = { "certificate_parse", "certificate does not parse",
		GSAKMP_N_PAYLOAD_MALFORMED },
	[GSAKMP_E_CERT_UNTRUSTED] = { "certificate_untrusted", "certificate not trusted",
		GSAKMP_N_INVALID_CERT_AUTHORITY },
	[GSAKMP_E_STALE] = { "stale", "signature timestamp outside the allowed skew",
		GSAKMP_N_AUTHENTICATION_FAILED },
	[GSAKMP_E_NONCE_C] = { "nonce_c", "Nonce_C mismatch", GSAKMP_N_AUTHENTICATION_FAILED },
	[GSAKMP_E_DECRYPT] = { "decrypt", "protected data fails authentication",
		GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_KEX] = { "kex", "key creation failed", GSAKMP_N_INVALID_KEY_INFO },
	[GSAKMP_E_COOKIE] = { "cookie", "bad cookie", GSAKMP_N_COOKIE_REQUIRED },
	[GSAKMP_E_NO_SPACE] = { "no_space", "output buffer too small", 0 },
	[GSAKMP_E_INVALID] = { "invalid_argument", "invalid argument", 0 },
	[GSAKMP_E_CRYPTO] = { "crypto", "crypto library failure", 0 },
	[GSAKMP_E_NOMEM] = { "nomem", "out of memory", 0 },
};

static const struct err_info *err_lookup(int err)
{
	if (err < 0)
		err = -err;
	if (err >= GSAKMP_E__MAX || errs[err].name == NULL)
		return NULL;
	return &errs[err];
}

const char *gsakmp_strerror(int err)
{
	const struct err_info *e = err_lookup(err);

	return e != NULL ? e->text : "unknown error";
}

const char *gsakmp_errname(int err)
{
	const struct err_info *e = err_lookup(err);

	return e != NULL ? e->name : "unknown";
}

uint16_t gsakmp_err_notify(int err)
{
	const struct err_info *e = err_lookup(err);

	return e != NULL ? e->notify : 0;
}

/* ------------------------------------------------------------------ timestamps */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era;
	unsigned int doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned int month_days(int64_t y, unsigned int m)
{
	static const uint8_t md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : md[m - 1];
}

/* Latest time a 4-digit year can express: 9999-12-31T23:59:59Z. */
#define TIME_MAX INT64_C(253402300799)

int gsakmp_time_format(int64_t t, char out[GSAKMP_TS_LEN + 1])
{
	int64_t y, days;
	unsigned int m, d, s, yy;
	char *p = out;

	if (t < 0 || t > TIME_MAX)
		return -GSAKMP_E_TIMESTAMP;
	days = t / 86400;
	s = (unsigned int)(t % 86400);
	civil_from_days(days, &y, &m, &d);
	yy = (unsigned int)y;
	unsigned int f[5] = { m, d, s / 3600, s / 60 % 60, s % 60 };

	*p++ = (char)('0' + yy / 1000);
	*p++ = (char)('0' + yy / 100 % 10);
	*p++ = (char)('0' + yy / 10 % 10);
	*p++ = (char)('0' + yy % 10);
	for (int i = 0; i < 5; i++) {
		*p++ = (char)('0' + f[i] / 10);
		*p++ = (char)('0' + f[i] % 10);
	}
	*p++ = 'Z';
	*p = '\0';
	return 0;
}

int gsakmp_time_parse(const uint8_t in[GSAKMP_TS_LEN], int64_t *t)
{
	unsigned int v[GSAKMP_TS_LEN - 1];
	unsigned int y, mo, d, h, mi, s;

	for (int i = 0; i < GSAKMP_TS_LEN - 1; i++) {
		if (in[i] < '0' || in[i] > '9')
			return -GSAKMP_E_TIMESTAMP;
		v[i] = in[i] - '0';
	}
	if (in[GSAKMP_TS_LEN - 1] != 'Z')
		return -GSAKMP_E_TIMESTAMP;
	y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	mo = v[4] * 10 + v[5];
	d = v[6] * 10 + v[7];
	h = v[8] * 10 + v[9];
	mi = v[10] * 10 + v[11];
	s = v[12] * 10 + v[13];
	/* No leap seconds: the profile's clocks are POSIX clocks. */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
			mi > 59 || s > 59)
		return -GSAKMP_E_TIMESTAMP;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* ------------------------------------------------------------------ accessors */

int gsakmp_seq_check(uint32_t last, uint32_t seq)
{
	if (seq <= last)
		return -GSAKMP_E_REPLAY;
	return seq == GSAKMP_SEQ_DESTROY ? 1 : 0;
}

int gsakmp_notify_ack_type(const struct gsakmp_notify *n)
{
	if (n == NULL || n->type != GSAKMP_N_ACK || n->len < 1)
		return -GSAKMP_E_NOTIFY;
	return n->data[0];
}

int gsakmp_mech_parse(const struct gsakmp_notify *n, struct gsakmp_mech *out, unsigned int cap)
{
	unsigned int nb, i;

	if (n == NULL || n->type != GSAKMP_N_MECH_CHOICES || n->len == 0 || n->len % 3 != 0)
		return -GSAKMP_E_NOTIFY;
	nb = n->len / 3;
	for (i = 0; i < nb && i < cap; i++) {
		out[i].type = n->data[3 * i];
		out[i].choice = get16(n->data + 3 * i + 1);
	}
	return (int)i;
}

int gsakmp_mech_build(const struct gsakmp_mech *m, unsigned int n, uint8_t *out, size_t cap,
		size_t *len)
{
	if (m == NULL || out == NULL || len == NULL || n == 0 || n > PL_MAX / 3)
		return -GSAKMP_E_INVALID;
	if (cap < 3u * n)
		return -GSAKMP_E_NO_SPACE;
	for (unsigned int i = 0; i < n; i++) {
		out[3 * i] = m[i].type;
		put16(out + 3 * i + 1, m[i].choice);
	}
	*len = 3u * n;
	return 0;
}

int gsakmp_id_u_name(const struct gsakmp_id *id, const uint8_t **serial, const uint8_t **dn,
		uint32_t *dn_len)
{
	/* ID_U_NAME: Serial Number (20) | DN Length (4) | DN Data (RFC 4535 §7.6.2.1) */
	if (id == NULL || id->type != GSAKMP_ID_U_NAME || id->len < 24 ||
			get32(id->data + 20) != id->len - 24u)
		return -GSAKMP_E_ID_TYPE;
	if (serial != NULL)
		*serial = id->data;
	if (dn != NULL)
		*dn = id->data + 24;
	if (dn_len != NULL)
		*dn_len = id->len - 24u;
	return 0;
}

uint16_t gsakmp_suite_key_type(uint16_t suite)
{
	switch (suite) {
	case GSAKMP_SUITE_AES_GCM_128:
		return GSAKMP_KEY_AES_GCM_128;
	case GSAKMP_SUITE_AES_GCM_256:
		return GSAKMP_KEY_AES_GCM_256;
	case GSAKMP_SUITE_AES_GMAC_128:
		return GSAKMP_KEY_AES_GMAC_128;
	case GSAKMP_SUITE_AES_CBC_128_HMAC_SHA256:
		return GSAKMP_KEY_AES_CBC_128_HMAC_SHA256;
	case GSAKMP_SUITE_NULL_HMAC_SHA256:
		return GSAKMP_KEY_NULL_HMAC_SHA256;
	case GSAKMP_SUITE_AES_CTR_128_HMAC_SHA256:
		return GSAKMP_KEY_AES_CTR_128_HMAC_SHA256;
	default:
		return 0;
	}
}

uint16_t gsakmp_key_type_len(uint16_t type)
{
	switch (type) {
	case GSAKMP_KEY_3DES_CBC64_192:
		return 24;
	case GSAKMP_KEY_AES_CBC_128:
		return 16;
	case GSAKMP_KEY_AES_CTR:
		return 20;  /* RFC 3686 §5.1: 16-octet key and 4-octet nonce */
	case GSAKMP_KEY_AES_GCM_128:
	case GSAKMP_KEY_AES_GMAC_128:
		return 20;
	case GSAKMP_KEY_AES_GCM_256:
		return 36;
	case GSAKMP_KEY_AES_CBC_128_HMAC_SHA256:
		return 48;
	case GSAKMP_KEY_AES_CTR_128_HMAC_SHA256:
		return 52;  /* RFC 3686 §5.1 key and nonce, then the RFC 4868 key */
	case GSAKMP_KEY_NULL_HMAC_SHA256:
	case GSAKMP_KEY_AES_256_KEK:
		return 32;
	default:
		return 0;
	}
}
