/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Access control (RFC 4534 Appendix B.2, AccessControl): a certificate may act in a role when
 * one of the role's access rules names it and none of its exclusion rules does.
 *
 * A rule (UserCAPair) names a certificate by one GSAKMP identification (RFC 4535 §7.6):
 * - ID_DN_STRING (31): the subject DN as an RFC 4514 string; "*" in an attribute value matches
 *   any run of characters within that RDN, and "*" alone matches any subject. The number of
 *   RDNs must be equal, so "CN=gw-*,O=Example" never matches "CN=gw-1,OU=x,O=Example".
 * - FQDN (2) / RFC822 (3): a subjectAltName dNSName / rfc822Name; "*" stays within one DNS
 *   label, or within the local part or domain of a mail address.
 * - IPv4 (1) / IPv6 (5): a subjectAltName iPAddress, exactly.
 * plus, optionally, the issuer's DN (the same DN patterns) and the issuer's key identifier
 * (the certificate's authorityKeyIdentifier). Matching is ASCII case-insensitive; non-ASCII
 * UTF-8 matches byte for byte. Common names are never read as host names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "policy_pvt.h"

#define DN_MAX 1024             /* longest DN string compared */
#define DN_MAX_RDNS 32

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/*
 * Glob with '*' only, case-insensitive, over s[0..slen): '*' matches any run of characters
 * that holds no `stop` (0: no stop character). Iterative, with one backtrack point, so the
 * cost stays O(plen * slen) whatever the pattern.
 */
static bool glob(const char *p, size_t plen, const char *s, size_t slen, char stop)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (pi < plen && lower(p[pi]) == lower(s[si])) {
			pi++;
			si++;
		} else if (star_p != SIZE_MAX && (stop == 0 || s[star_s] != stop)) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* Split an RFC 4514 string on unescaped commas; components are trimmed of spaces. */
struct span {
	const char *p;
	size_t len;
};

static int split_dn(const char *s, struct span out[DN_MAX_RDNS])
{
	int n = 0;
	const char *start = s;

	for (const char *c = s;; c++) {
		if (*c == '\\' && c[1] != '\0') {
			c++;
			continue;
		}
		if (*c != ',' && *c != '\0')
			continue;
		if (n == DN_MAX_RDNS)
			return -1;
		out[n].p = start;
		out[n].len = (size_t)(c - start);
		while (out[n].len > 0 && out[n].p[0] == ' ') {
			out[n].p++;
			out[n].len--;
		}
		while (out[n].len > 0 && out[n].p[out[n].len - 1] == ' ' &&
				(out[n].len < 2 || out[n].p[out[n].len - 2] != '\\'))
			out[n].len--;
		n++;
		if (*c == '\0')
			break;
		start = c + 1;
	}
	return n;
}

static bool dn_match(const char *pat, const char *dn)
{
	struct span ps[DN_MAX_RDNS], ds[DN_MAX_RDNS];
	int np, nd;

	if (strcmp(pat, "*") == 0)
		return true;
	np = split_dn(pat, ps);
	nd = split_dn(dn, ds);
	if (np < 0 || nd < 0 || np != nd)
		return false;
	for (int i = 0; i < np; i++)
		if (!glob(ps[i].p, ps[i].len, ds[i].p, ds[i].len, 0))
			return false;
	return true;
}

static const char *dn_check(const char *s)
{
	struct span sp[DN_MAX_RDNS];
	int n;

	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "expected a DN pattern without control characters";
	if (strcmp(s, "*") == 0)
		return NULL;
	n = split_dn(s, sp);
	if (n < 0)
		return "expected a DN pattern of at most 32 RDNs";
	for (int i = 0; i < n; i++) {
		const char *eq = memchr(sp[i].p, '=', sp[i].len);

		if (sp[i].len == 0 || eq == NULL || eq == sp[i].p)
			return "expected an RFC 4514 DN pattern (\"CN=gw-*,O=Example,C=US\" or "
					"\"*\")";
		for (const char *t = sp[i].p; t < eq; t++)
			if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
					(*t >= '0' && *t <= '9') || *t == '.' || *t == '-'))
				return "expected an attribute type (CN, O, OU, C, DC ... or a "
					"dotted OID) before '=' in each RDN";
	}
	return NULL;
}

const char *policy_pattern_check(const struct pattern *p)
{
	const char *why;
	const char *at;

	switch (p->type) {
	case PAT_DN:
		why = dn_check(p->text);
		if (why != NULL)
			return why;
		break;
	case PAT_FQDN:
		for (const char *c = p->text; *c != '\0'; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
					(*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
					*c == '*'))
				return "expected a DNS name pattern of A-Z a-z 0-9 . - *";
		if (p->text[0] == '\0' || strlen(p->text) > 253)
			return "expected a DNS name pattern of 1..253 characters";
		break;
	case PAT_RFC822:
		at = strchr(p->text, '@');
		if (at == NULL || at == p->text || at[1] == '\0' || strchr(at + 1, '@') != NULL)
			return "expected a mail address pattern local@domain";
		for (const unsigned char *c = (const unsigned char *)p->text; *c != '\0'; c++)
			if (*c <= 0x20 || *c == 0x7f)
				return "expected a mail address pattern without spaces or control "
					"characters";
		break;
	case PAT_IPV4:
		if (p->addr_len != 4)
			return "expected a 4-byte IPv4 address";
		break;
	case PAT_IPV6:
		if (p->addr_len != 16)
			return "expected a 16-byte IPv6 address";
		break;
	default:
		return "unknown identification type";
	}
	if (p->issuer[0] != '\0') {
		why = dn_check(p->issuer);
		if (why != NULL)
			return why;
	}
	return NULL;
}

/* ------------------------------------------------------------------ matching */

/* What rules look at, taken from the certificate once per policy_authorize() call. */
struct subject {
	X509 *cert;
	bool have_dn;
	bool dn_ok, issuer_ok;
	char dn[DN_MAX], issuer[DN_MAX];
	GENERAL_NAMES *san;
	bool have_san;
};

/* RFC 4514 form, UTF-8 kept as is; false when it does not fit or cannot be printed. */
static bool name_str(const X509_NAME *name, char out[DN_MAX])
{
	unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	bool ok = false;

	if (b == NULL)
		return false;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n >= 0 && n < DN_MAX && memchr(data, '\0', (size_t)n) == NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
			ok = true;
		}
	}
	BIO_free(b);
	return ok;
}

static void load_dns(struct subject *s)
{
	if (s->have_dn)
		return;
	s->have_dn = true;
	s->dn_ok = name_str(X509_get_subject_name(s->cert), s->dn);
	s->issuer_ok = name_str(X509_get_issuer_name(s->cert), s->issuer);
}

static const GENERAL_NAMES *load_san(struct subject *s)
{
	if (!s->have_san) {
		s->have_san = true;
		s->san = X509_get_ext_d2i(s->cert, NID_subject_alt_name, NULL, NULL);
	}
	return s->san;
}

/* An IA5String SAN entry as text: no embedded NUL. */
static bool ia5_text(const ASN1_IA5STRING *a, const char **p, size_t *len)
{
	if (a == NULL || a->length <= 0 || memchr(a->data, '\0', (size_t)a->length) != NULL)
		return false;
	*p = (const char *)a->data;
	*len = (size_t)a->length;
	return true;
}

static bool email_match(const char *pat, const char *s, size_t len)
{
	const char *pat_at = strchr(pat, '@');
	const char *s_at = memchr(s, '@', len);

	if (pat_at == NULL || s_at == NULL)
		return false;
	return glob(pat, (size_t)(pat_at - pat), s, (size_t)(s_at - s), 0) &&
		glob(pat_at + 1, strlen(pat_at + 1), s_at + 1, len - (size_t)(s_at - s) - 1, '.');
}

static bool san_match(struct subject *s, const struct pattern *p)
{
	const GENERAL_NAMES *names = load_san(s);
	int want = p->type == PAT_FQDN ? GEN_DNS : p->type == PAT_RFC822 ? GEN_EMAIL : GEN_IPADD;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const char *t;
		size_t len;

		if (g->type != want)
			continue;
		switch (p->type) {
		case PAT_FQDN:
			if (ia5_text(g->d.dNSName, &t, &len) &&
					glob(p->text, strlen(p->text), t, len, '.'))
				return true;
			break;
		case PAT_RFC822:
			if (ia5_text(g->d.rfc822Name, &t, &len) && email_match(p->text, t, len))
				return true;
			break;
		default:
			if (g->d.iPAddress->length == p->addr_len &&
					memcmp(g->d.iPAddress->data, p->addr, p->addr_len) == 0)
				return true;
			break;
		}
	}
	return false;
}

static bool rule_match(struct subject *s, const struct pattern *p)
{
	if (p->keyid_len > 0) {
		const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(s->cert);

		if (aki == NULL || aki->length != p->keyid_len ||
				memcmp(aki->data, p->keyid, p->keyid_len) != 0)
			return false;
	}
	if (p->issuer[0] != '\0') {
		load_dns(s);
		if (!s->issuer_ok || !dn_match(p->issuer, s->issuer))
			return false;
	}
	if (p->type == PAT_DN) {
		load_dns(s);
		return s->dn_ok && dn_match(p->text, s->dn);
	}
	return san_match(s, p);
}

int policy_authorize(const struct policy_token *tok, enum policy_role role, X509 *cert)
{
	struct subject s = { .cert = cert };
	const struct acl *acl;
	int rc = POLICY_E_NOT_LISTED;

	if (tok == NULL || cert == NULL || (unsigned int)role >= POLICY_ROLE_COUNT)
		return POLICY_E_INVAL;
	if (!tok->has_reg)
		return POLICY_E_NO_POLICY;
	/* X509_get0_authority_key_id() needs the extensions cached; a broken cert matches
	 * nothing */
	if (X509_check_purpose(cert, -1, 0) != 1 || (X509_get_extension_flags(cert) &
			EXFLAG_INVALID) != 0)
		return POLICY_E_NOT_LISTED;
	acl = &tok->roles[role];
	for (uint16_t i = 0; i < acl->nb_exclude; i++)
		if (rule_match(&s, &acl->exclude[i])) {
			rc = POLICY_E_EXCLUDED;
			goto out;
		}
	for (uint16_t i = 0; i < acl->nb_allow; i++)
		if (rule_match(&s, &acl->allow[i])) {
			rc = POLICY_OK;
			goto out;
		}
out:
	GENERAL_NAMES_free(s.san);
	return rc;
}
