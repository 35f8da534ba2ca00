/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-gcks: the GSAKMP key server (GC/KS) of msecgw groups (doc/key-management.md).
 *
 *   msec-gcks -c CONFIG [-v]
 *
 * A plain Linux process: one UDP socket on port 3761 for registrations and Rekey Events,
 * a Unix control socket for msecctl, timers from the engine's deadlines, all in one epoll
 * loop on one thread. SIGINT/SIGTERM stop it; state is durable at every step, so a kill -9
 * loses nothing either.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gcks_app.h"

#define CTL_MAX_REQ (64 * 1024)
#define RX_MAX 65536

struct app {
	struct app_conf conf;
	struct gcks *k;
	struct gstore *st;
	struct gsakmp_key *key;
	struct gsakmp_trust *trust;
	X509_STORE *go;
	int udp, ctl, sig, ep;
	bool verbose;
	uint64_t tx_errors;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int udp_send(void *arg, const uint8_t *msg, size_t len, const struct sockaddr *to,
		socklen_t tolen)
{
	struct app *a = arg;

	if (sendto(a->udp, msg, len, 0, to, tolen) == (ssize_t)len)
		return 0;
	if (a->verbose || a->tx_errors++ == 0)
		fprintf(stderr, "msec-gcks: send: %s\n", strerror(errno));
	return -errno;
}

static int udp_open(struct app *a, char *err)
{
	const struct sockaddr_storage *l = &a->conf.listen;
	int one = 1, fd = socket(l->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	uint8_t ttl = 16;

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	for (uint32_t i = 0; i < a->conf.nb_groups; i++)
		if (a->conf.groups[i].ttl > ttl)
			ttl = a->conf.groups[i].ttl;
	if (l->ss_family == AF_INET) {
		int t = ttl;

		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof(t));
	} else {
		int t = ttl;

		setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &t, sizeof(t));
	}
	if (bind(fd, (const struct sockaddr *)l, a->conf.listen_len) != 0)
		goto fail;
	/* a sub-GC/KS hears its parent's multicast Rekey Events (a socket bound to a unicast
	 * address does not receive multicast: listen on the any address then) */
	for (uint32_t i = 0; i < a->conf.nb_groups; i++) {
		const struct sockaddr_storage *r = &a->conf.groups[i].parent_rekey;

		if (r->ss_family == AF_INET && l->ss_family == AF_INET) {
			struct ip_mreqn mr = { .imr_multiaddr =
				((const struct sockaddr_in *)r)->sin_addr };

			if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0)
				goto fail;
		} else if (r->ss_family == AF_INET6 && l->ss_family == AF_INET6) {
			struct ipv6_mreq mr = { .ipv6mr_multiaddr =
				((const struct sockaddr_in6 *)r)->sin6_addr };

			if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) != 0)
				goto fail;
		} else if (r->ss_family != 0) {
			snprintf(err, APP_ERR_MAX, "groups[%u].parent.rekey_address: not of the family "
					"of listen.address", i);
			close(fd);
			return -EINVAL;
		}
	}
	a->udp = fd;
	return 0;
fail:
	snprintf(err, APP_ERR_MAX, "UDP socket on port %u: %s", GSAKMP_PORT, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

static int ctl_open(struct app *a, char *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (a->conf.ctl[0] == '\0') {
		a->ctl = -1;
		return 0;
	}
	if (strlen(a->conf.ctl) >= sizeof(sa.sun_path)) {
		snprintf(err, APP_ERR_MAX, "control socket path too long: %.200s", a->conf.ctl);
		return -EINVAL;
	}
	memcpy(sa.sun_path, a->conf.ctl, strlen(a->conf.ctl) + 1);
	unlink(a->conf.ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
			chmod(a->conf.ctl, 0600) != 0 || listen(fd, 8) != 0) {
		snprintf(err, APP_ERR_MAX, "control socket %.200s: %s", a->conf.ctl, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	a->ctl = fd;
	return 0;
}

/* One request per connection, read with a short deadline so a stuck client cannot hold the
 * loop for long. */
static void ctl_serve(struct app *a)
{
	int fd = accept4(a->ctl, NULL, NULL, SOCK_CLOEXEC);
	char *req, *reply = NULL;
	size_t len = 0;
	struct timeval tv = { .tv_sec = 1 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	req = malloc(CTL_MAX_REQ);
	while (req != NULL && len < CTL_MAX_REQ) {
		ssize_t n = recv(fd, req + len, CTL_MAX_REQ - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(req, '\n', len) != NULL)
			break;
	}
	if (req != NULL && app_ctl_handle(a->k, a->st, req, len, now_ms(), &reply) == 0) {
		size_t off = 0, rl = strlen(reply);

		while (off < rl) {
			ssize_t n = send(fd, reply + off, rl - off, MSG_NOSIGNAL);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		send(fd, "\n", 1, MSG_NOSIGNAL);
	}
	free(reply);
	free(req);
	close(fd);
}

static void udp_drain(struct app *a, uint8_t *buf)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(a->udp, buf, RX_MAX, 0, (struct sockaddr *)&from, &fl);
		int rc;

		if (n < 0)
			return;
		rc = gcks_input(a->k, buf, (size_t)n, (struct sockaddr *)&from, fl, now_ms());
		if (a->verbose && rc != 0)
			fprintf(stderr, "msec-gcks: datagram of %zd octets refused: %s\n", n,
					rc <= -256 || rc > -GSAKMP_E_NOMEM - 1 ? strerror(-rc) :
					gsakmp_errname(rc));
	}
}

static uint8_t *read_file(const char *path, size_t *len, char *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || n > (1 << 20) ||
			fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n)) == NULL ||
			fread(b, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, APP_ERR_MAX, "%.400s: cannot read (%s)", path,
				errno != 0 ? strerror(errno) : "empty or too large");
		free(b);
		b = NULL;
	} else {
		*len = (size_t)n;
	}
	if (f != NULL)
		fclose(f);
	return b;
}

static int setup(struct app *a, char *err)
{
	struct gcks_conf kc;
	struct gcks_ops ops = { .send = udp_send };
	int rc;

	rc = gsakmp_key_load(a->conf.key_path, a->conf.cert_path, &a->key);
	if (rc != 0) {
		snprintf(err, APP_ERR_MAX, "%.200s / %.200s: %s", a->conf.key_path, a->conf.cert_path,
				gsakmp_strerror(rc));
		return -EINVAL;
	}
	rc = gsakmp_trust_new(&a->trust);
	if (rc == 0)
		rc = gsakmp_trust_load(a->trust, a->conf.members_ca);
	if (rc != 0) {
		snprintf(err, APP_ERR_MAX, "%.400s: %s", a->conf.members_ca, gsakmp_strerror(rc));
		return -EINVAL;
	}
	a->go = X509_STORE_new();
	if (a->go == NULL || X509_STORE_load_file(a->go, a->conf.go_ca) != 1) {
		snprintf(err, APP_ERR_MAX, "%.400s: no certificate could be read", a->conf.go_ca);
		return -EINVAL;
	}
	rc = gstore_open(a->conf.state, &a->st, err, APP_ERR_MAX);
	if (rc != 0)
		return rc;
	rc = udp_open(a, err);
	if (rc != 0)
		return rc;
	kc = (struct gcks_conf){ .key = a->key, .trust = a->trust, .go_trust = a->go,
		.store = a->st, .kek_alg = a->conf.kek_alg };
	rc = gcks_new(&kc, &ops, a, &a->k);
	if (rc != 0) {
		snprintf(err, APP_ERR_MAX, "engine: %s", strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < a->conf.nb_groups; i++) {
		struct app_group *g = &a->conf.groups[i];
		char gerr[GCKS_ERR_MAX];
		size_t len;
		uint8_t *tok = read_file(g->token_path, &len, err);

		if (tok == NULL)
			return -EINVAL;
		g->conf.token = tok;
		g->conf.token_len = len;
		rc = gcks_group_add(a->k, &g->conf, now_ms(), gerr);
		free(tok);
		g->conf.token = NULL;
		if (rc != 0) {
			snprintf(err, APP_ERR_MAX, "groups[%u] (%.200s): %s", i, g->token_path, gerr);
			return rc;
		}
	}
	return ctl_open(a, err);
}

static void teardown(struct app *a)
{
	gcks_free(a->k);
	gstore_close(a->st);
	gsakmp_key_free(a->key);
	gsakmp_trust_free(a->trust);
	X509_STORE_free(a->go);
	if (a->udp >= 0)
		close(a->udp);
	if (a->ctl >= 0) {
		close(a->ctl);
		unlink(a->conf.ctl);
	}
	if (a->sig >= 0)
		close(a->sig);
	if (a->ep >= 0)
		close(a->ep);
}

static int loop(struct app *a)
{
	struct epoll_event ev[8];
	uint8_t *buf = malloc(RX_MAX);
	sigset_t set;

	if (buf == NULL)
		return -ENOMEM;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a->sig = signalfd(-1, &set, SFD_CLOEXEC);
	a->ep = epoll_create1(EPOLL_CLOEXEC);
	if (a->sig < 0 || a->ep < 0) {
		free(buf);
		return -errno;
	}
	int fds[3] = { a->udp, a->ctl, a->sig };

	for (int i = 0; i < 3; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = fds[i] };

		if (fds[i] >= 0)
			epoll_ctl(a->ep, EPOLL_CTL_ADD, fds[i], &e);
	}
	for (;;) {
		int64_t now = now_ms(), next = gcks_tick(a->k, now);
		int timeout = next == INT64_MAX ? 1000 : next <= now ? 0 :
			next - now > 1000 ? 1000 : (int)(next - now);
		int n = epoll_wait(a->ep, ev, 8, timeout);

		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == a->sig) {
				free(buf);
				return 0;
			}
			if (ev[i].data.fd == a->udp)
				udp_drain(a, buf);
			else if (ev[i].data.fd == a->ctl)
				ctl_serve(a);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: msec-gcks -c CONFIG [-v]\n"
		"  -c CONFIG   key server configuration (doc/key-management.md §9)\n"
		"  -v          log every refused datagram\n");
}

int main(int argc, char **argv)
{
	struct app a = { .udp = -1, .ctl = -1, .sig = -1, .ep = -1 };
	const char *config = NULL;
	char err[APP_ERR_MAX] = "";
	int c, rc;

	while ((c = getopt(argc, argv, "c:vh")) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			a.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = app_conf_load(config, &a.conf, err);
	if (rc == 0)
		rc = setup(&a, err);
	if (rc != 0) {
		fprintf(stderr, "msec-gcks: %s\n", err);
		teardown(&a);
		return 1;
	}
	fprintf(stderr, "msec-gcks: serving %u group(s)\n", a.conf.nb_groups);
	rc = loop(&a);
	teardown(&a);
	if (rc != 0) {
		fprintf(stderr, "msec-gcks: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
