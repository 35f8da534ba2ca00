/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-token: the Group Owner's tool for RFC 4534 Group Security Policy Tokens.
 *
 *   msec-token build  -p policy.json -k go.key -c go.crt [-C chain.pem] -o token.der
 *   msec-token verify -t token.der -a ca.crt [--last-edition N] [--last-signing-time T]
 *   msec-token show   -t token.der [-a ca.crt]
 *
 * The JSON policy format is doc/policy-token.md; lib/policy does all the work. Exit status:
 * 0 success, 1 refused (bad policy, bad token, verification failure), 2 usage or I/O error.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: msec-token build -p POLICY.json -k KEY.pem -c CERT.pem [-C CHAIN.pem]\n"
	"                        [--signing-time TIME] -o TOKEN.der\n"
	"       msec-token verify -t TOKEN.der -a CA.pem [--last-edition N]\n"
	"                        [--last-signing-time TIME] [--time TIME]\n"
	"       msec-token show -t TOKEN.der [-a CA.pem] [--time TIME]\n"
	"TIME is YYYY-MM-DDTHH:MM:SSZ or seconds since the epoch.\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("msec-token: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static time_t parse_time_arg(const char *opt, const char *s)
{
	struct tm tm = { 0 };
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0 && v >= 0)
		return (time_t)v;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		die(EXIT_USAGE, "%s: expected YYYY-MM-DDTHH:MM:SSZ or seconds, got \"%s\"", opt, s);
	return timegm(&tm);
}

static uint64_t parse_u64_arg(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || s[0] == '-')
		die(EXIT_USAGE, "%s: expected a non-negative integer, got \"%s\"", opt, s);
	return v;
}

static const char *ossl_err(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "unknown reason";
}

static EVP_PKEY *load_key(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k;

	if (b == NULL)
		die(EXIT_USAGE, "%s: cannot open: %s", path, ossl_err());
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		die(EXIT_USAGE, "%s: expected a PEM private key: %s", path, ossl_err());
	return k;
}

static STACK_OF(X509) *load_certs(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	if (b == NULL)
		die(EXIT_USAGE, "%s: cannot open: %s", path, ossl_err());
	if (sk == NULL)
		die(EXIT_USAGE, "out of memory");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) <= 0)
			die(EXIT_USAGE, "out of memory");
	ERR_clear_error();      /* the end of the file reads as an error */
	BIO_free(b);
	if (sk_X509_num(sk) == 0)
		die(EXIT_USAGE, "%s: expected PEM certificates, found none", path);
	return sk;
}

static X509_STORE *load_trust(const char *path)
{
	STACK_OF(X509) *certs = load_certs(path);
	X509_STORE *st = X509_STORE_new();

	if (st == NULL)
		die(EXIT_USAGE, "out of memory");
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(certs, i)) != 1)
			die(EXIT_USAGE, "%s: cannot add certificate %d: %s", path, i, ossl_err());
	sk_X509_pop_free(certs, X509_free);
	return st;
}

static uint8_t *read_token(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(POLICY_TOKEN_MAX + 1);

	if (f == NULL)
		die(EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
	if (buf == NULL)
		die(EXIT_USAGE, "out of memory");
	*len = fread(buf, 1, POLICY_TOKEN_MAX + 1, f);
	if (ferror(f))
		die(EXIT_USAGE, "%s: cannot read: %s", path, strerror(errno));
	fclose(f);
	return buf;
}

/* Write through a temporary file and rename, so a failed run never leaves half a token. */
static void write_file(const char *path, const uint8_t *p, size_t len)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		die(EXIT_USAGE, "%s: path too long", path);
	f = fopen(tmp, "wb");
	if (f == NULL)
		die(EXIT_USAGE, "%s: cannot create: %s", tmp, strerror(errno));
	if (fwrite(p, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		die(EXIT_USAGE, "%s: cannot write: %s", tmp, strerror(errno));
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		die(EXIT_USAGE, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
	}
}

enum {
	OPT_LAST_EDITION = 256,
	OPT_LAST_SIGNING_TIME,
	OPT_SIGNING_TIME,
	OPT_TIME,
};

static const struct option long_opts[] = {
	{ "policy", required_argument, NULL, 'p' },
	{ "key", required_argument, NULL, 'k' },
	{ "cert", required_argument, NULL, 'c' },
	{ "chain", required_argument, NULL, 'C' },
	{ "out", required_argument, NULL, 'o' },
	{ "token", required_argument, NULL, 't' },
	{ "ca", required_argument, NULL, 'a' },
	{ "last-edition", required_argument, NULL, OPT_LAST_EDITION },
	{ "last-signing-time", required_argument, NULL, OPT_LAST_SIGNING_TIME },
	{ "signing-time", required_argument, NULL, OPT_SIGNING_TIME },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *policy, *key, *cert, *chain, *out, *token, *ca;
	bool has_last_edition, has_last_time;
	uint64_t last_edition;
	time_t last_time, signing_time, now;
};

static int cmd_build(const struct args *a)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok, *check;
	STACK_OF(X509) *certs, *chain = NULL;
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
	int rc;

	if (a->policy == NULL || a->key == NULL || a->cert == NULL || a->out == NULL)
		usage();
	rc = policy_token_from_json_file(a->policy, a->now, &tok, err);
	if (rc != POLICY_OK)
		die(rc == POLICY_E_JSON ? EXIT_REFUSED : EXIT_USAGE, "%s", err);
	key = load_key(a->key);
	certs = load_certs(a->cert);
	if (a->chain != NULL)
		chain = load_certs(a->chain);
	rc = policy_token_sign(tok, key, sk_X509_value(certs, 0), chain, a->signing_time, &der,
			&len, err);
	if (rc != POLICY_OK)
		die(EXIT_REFUSED, "%s: %s", a->key, err);
	/* read back what was written: the token must decode as every receiver will decode it */
	rc = policy_token_parse(der, len, &check, err);
	if (rc != POLICY_OK)
		die(EXIT_REFUSED, "internal error, the token built does not parse: %s", err);
	write_file(a->out, der, len);
	printf("%s: group %s edition %llu, %zu bytes\n", a->out, policy_token_group_name(check),
			(unsigned long long)policy_token_edition(check), len);
	policy_token_free(check);
	policy_token_free(tok);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return 0;
}

static void time_str(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
}

static int cmd_verify(const struct args *a)
{
	char err[POLICY_ERR_MAX], signed_at[32], until[32];
	struct policy_state last, *lastp = NULL;
	struct policy_token *tok = NULL;
	X509_STORE *trust;
	uint8_t *der;
	size_t len;
	int64_t na;
	int rc;

	if (a->token == NULL || a->ca == NULL)
		usage();
	der = read_token(a->token, &len);
	trust = load_trust(a->ca);
	if (a->has_last_edition || a->has_last_time) {
		/* what a receiver remembers of the last token of this group (the token's group) */
		rc = policy_token_parse(der, len, &tok, err);
		if (rc != POLICY_OK)
			die(EXIT_REFUSED, "%s: %s: %s", a->token, policy_strerror(rc), err);
		policy_token_state(tok, &last);
		last.edition = a->last_edition;
		last.signing_time = a->has_last_time ? (int64_t)a->last_time : 0;
		lastp = &last;
		policy_token_free(tok);
		tok = NULL;
	}
	rc = policy_token_verify(der, len, trust, lastp, a->now, &tok, err);
	if (rc != POLICY_OK)
		die(EXIT_REFUSED, "%s: %s: %s", a->token, policy_strerror(rc), err);
	policy_token_validity(tok, NULL, &na);
	time_str(policy_token_signing_time(tok), signed_at);
	time_str(na, until);
	printf("%s: OK: group %s edition %llu, signed %s, valid until %s\n", a->token,
			policy_token_group_name(tok), (unsigned long long)policy_token_edition(tok),
			signed_at, until);
	policy_token_free(tok);
	X509_STORE_free(trust);
	free(der);
	return 0;
}

static int cmd_show(const struct args *a)
{
	char err[POLICY_ERR_MAX];
	struct policy_token *tok;
	X509_STORE *trust = NULL;
	uint8_t *der;
	size_t len;
	char *json;
	int rc;

	if (a->token == NULL)
		usage();
	der = read_token(a->token, &len);
	if (a->ca != NULL) {
		trust = load_trust(a->ca);
		rc = policy_token_verify(der, len, trust, NULL, a->now, &tok, err);
	} else {
		rc = policy_token_parse(der, len, &tok, err);
	}
	if (rc != POLICY_OK)
		die(EXIT_REFUSED, "%s: %s: %s", a->token, policy_strerror(rc), err);
	rc = policy_token_to_json(tok, &json);
	if (rc != POLICY_OK)
		die(EXIT_USAGE, "%s", policy_strerror(rc));
	printf("%s\n", json);
	free(json);
	policy_token_free(tok);
	X509_STORE_free(trust);
	free(der);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	const char *cmd;
	int opt;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "p:k:c:C:o:t:a:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			a.policy = optarg;
			break;
		case 'k':
			a.key = optarg;
			break;
		case 'c':
			a.cert = optarg;
			break;
		case 'C':
			a.chain = optarg;
			break;
		case 'o':
			a.out = optarg;
			break;
		case 't':
			a.token = optarg;
			break;
		case 'a':
			a.ca = optarg;
			break;
		case OPT_LAST_EDITION:
			a.last_edition = parse_u64_arg("--last-edition", optarg);
			a.has_last_edition = true;
			break;
		case OPT_LAST_SIGNING_TIME:
			a.last_time = parse_time_arg("--last-signing-time", optarg);
			a.has_last_time = true;
			break;
		case OPT_SIGNING_TIME:
			a.signing_time = parse_time_arg("--signing-time", optarg);
			break;
		case OPT_TIME:
			a.now = parse_time_arg("--time", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (strcmp(cmd, "build") == 0)
		return cmd_build(&a);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&a);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(&a);
	usage();
}
