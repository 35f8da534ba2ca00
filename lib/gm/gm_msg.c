/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every exchange of the member shares: the header it sends, the signature it adds, the
 * key server's signature it checks, its Member ID, nonces, and the policy token.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gm_pvt.h"

int gm_pvt_enc_start(struct gm_group *g, uint8_t exch, uint8_t *buf, size_t cap,
		struct gsakmp_enc **enc)
{
	struct gsakmp_hdr h = {
		.gid_type = GSAKMP_GID_OCTETS,
		.gid_len = g->gid_len,
		.version = GSAKMP_VERSION,
		.exch = exch,
		.seq = 0,
	};

	memcpy(h.gid, g->gid_value, g->gid_len);
	return gsakmp_enc_init(enc, buf, cap, &h);
}

/*
 * Our Vendor ID, the Signature (Signer ID = our subject) and our certificate, then finish:
 * the certificate follows the Signature, so the key server can check us without state.
 */
int gm_pvt_enc_sign(struct gm *gm, struct gsakmp_enc *enc, int64_t now_ms, size_t *len)
{
	const uint8_t *der;
	size_t der_len;

	gsakmp_key_cert_der(gm->conf.key, &der, &der_len);
	gsakmp_enc_payload_vid(enc, (const uint8_t *)GSAKMP_PROFILE_VID, GSAKMP_PROFILE_VID_LEN);
	gsakmp_enc_payload_sig(enc, gm->conf.key, GSAKMP_ID_DN_STRING, now_ms / 1000);
	gsakmp_enc_payload_cert(enc, GSAKMP_CERT_X509_SIG, der, der_len);
	return gsakmp_enc_finish(enc, len);
}

static bool has_cert(const struct gsakmp_msg *m)
{
	for (uint16_t i = 0; i < m->nb_payloads; i++)
		if (m->pl[i].type == GSAKMP_PL_CERT)
			return true;
	return false;
}

/*
 * A message from the key server we registered with: its signature chains to ks_trust and its
 * signer has the registration's subject (RFC 4535 §5.3.1.1: rekeys come from the GC/KS that
 * the token authorized). The certificate is the message's when it carries one (a renewed
 * certificate keeps working), else the one the Key Download came with. A renewed certificate
 * must still be authorized by the token.
 */
int gm_pvt_ks_verify(struct gm *gm, struct gm_group *g, const struct gsakmp_msg *m,
		int64_t now_ms)
{
	uint8_t dn[GM_DN_MAX];
	X509 *signer = NULL;
	size_t dn_len;
	int rc;

	if (g->ks_cert == NULL)
		return -GSAKMP_E_UNEXPECTED_EXCH;
	rc = -GSAKMP_E_NO_CERT;
	if (has_cert(m))
		rc = gsakmp_verify(m, NULL, gm->conf.ks_trust, now_ms / 1000, gm->conf.max_skew,
				&signer);
	if (rc == -GSAKMP_E_NO_CERT || rc == -GSAKMP_E_SIGNER_ID)
		rc = gsakmp_verify(m, g->ks_cert, gm->conf.ks_trust, now_ms / 1000,
				gm->conf.max_skew, &signer);
	if (rc != 0)
		return rc;
	rc = gsakmp_signer_id(signer, GSAKMP_ID_DN_STRING, dn, sizeof(dn), &dn_len);
	if (rc == 0 && (dn_len != g->ks_dn_len || memcmp(dn, g->ks_dn, dn_len) != 0))
		rc = -GM_R_WRONG_SIGNER;
	if (rc == 0 && X509_cmp(signer, g->ks_cert) != 0 && g->tok != NULL &&
			policy_authorize(g->tok, POLICY_ROLE_GCKS, signer) != 0 &&
			policy_authorize(g->tok, POLICY_ROLE_SUBGCKS, signer) != 0)
		rc = -GM_R_UNAUTHORIZED_GCKS;
	X509_free(signer);
	return rc;
}

/* The message's Identification is our subject as an ID_DN_STRING, octet for octet. */
int gm_pvt_id_is_me(const struct gm *gm, const struct gsakmp_msg *m)
{
	const struct gsakmp_payload *pl = gsakmp_msg_find(m, GSAKMP_PL_ID, 0);

	return pl != NULL && pl->u.id.type == GSAKMP_ID_DN_STRING &&
		pl->u.id.len == gm->dn_len && memcmp(pl->u.id.data, gm->dn, gm->dn_len) == 0;
}

const struct gsakmp_nonce *gm_pvt_nonce(const struct gsakmp_msg *m, uint8_t type)
{
	const struct gsakmp_payload *pl;

	for (unsigned int i = 0; (pl = gsakmp_msg_find(m, GSAKMP_PL_NONCE, i)) != NULL; i++)
		if (pl->u.nonce.type == type)
			return &pl->u.nonce;
	return NULL;
}

static int token_error(int prc)
{
	switch (prc) {
	case POLICY_E_SIGNER:
	case POLICY_E_NO_SIGNING_TIME:
	case POLICY_E_SIGNATURE:
	case POLICY_E_CHAIN:
	case POLICY_E_NOT_GO:
		return -GM_R_TOKEN_UNTRUSTED;
	case POLICY_E_EDITION:
	case POLICY_E_SIGNING_TIME:
		return -GM_R_TOKEN_STALE;
	case POLICY_E_NOT_YET_VALID:
	case POLICY_E_EXPIRED:
		return -GM_R_TOKEN_EXPIRED;
	case POLICY_E_GROUP:
		return -GM_R_TOKEN_GROUP;
	case POLICY_E_NOMEM:
		return -GSAKMP_E_NOMEM;
	default:
		return -GM_R_TOKEN_INVALID;
	}
}

/*
 * Verify a policy token received for g (RFC 4535 §5.2.1.2 step 6, RFC 4534 §2): the Group
 * Owner's signature to go_trust, its validity at now, and against the last token accepted:
 * same group, newer edition, signing time not older. The token we hold already (a
 * re-registration, or a rekey repeating it) is checked without the edition rule, which
 * refuses an equal edition. The token must be for this group's name and GroupID.
 */
int gm_pvt_token(struct gm *gm, struct gm_group *g, const uint8_t *der, size_t len,
		int64_t now_ms, struct policy_token **out, uint8_t hash[32])
{
	char err[POLICY_ERR_MAX];
	const struct policy_state *last = NULL;
	struct policy_token *tok = NULL;
	uint8_t id[POLICY_GROUP_ID_LEN];
	int rc;

	*out = NULL;
	rc = gm_pvt_sha256(der, len, hash);
	if (rc != 0)
		return rc;
	if (g->pstate.edition != 0 && (g->tok == NULL || memcmp(hash, g->tok_hash, 32) != 0))
		last = &g->pstate;
	rc = policy_token_verify(der, len, gm->conf.go_trust, last, (time_t)(now_ms / 1000),
			&tok, err);
	if (rc != POLICY_OK)
		return token_error(rc);
	policy_token_group_id(tok, id);
	if (strcmp(policy_token_group_name(tok), g->conf.name) != 0 ||
			memcmp(id, g->conf.gid, POLICY_GROUP_ID_LEN) != 0) {
		policy_token_free(tok);
		return -GM_R_TOKEN_GROUP;
	}
	*out = tok;
	return 0;
}
