/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket: one JSON request per connection on a Unix stream socket, one JSON reply.
 * Served by the control thread between its timers; msecctl is the client. Replies never carry
 * key material.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <rte_cycles.h>

#include "gw.h"

#define CTL_MAX_REQ (64 * 1024)

static const char *dir_name(uint8_t dir)
{
	switch (dir & (MESP_SA_IN | MESP_SA_OUT)) {
	case MESP_SA_OUT:
		return "sender";
	case MESP_SA_IN:
		return "receiver";
	default:
		return "symmetric";
	}
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* TESLA state and counters of an SA (doc/tesla.md); public values only: the commitment is
 * what receivers are configured with. */
static json_t *tesla_json(const struct gw *gw, const struct gsad_sa_view *v)
{
	const struct mesp_tesla_info *t = &v->tesla;
	json_t *o, *drops = json_object(), *senders = json_array();
	bool synced = __atomic_load_n(&gw->clock.synced, __ATOMIC_RELAXED);

	for (int r = MESP_DROP_TESLA_MALFORMED; r < MESP_DROP_MAX; r++)
		json_object_set_new(drops, mesp_drop_name((enum mesp_drop)r), json_integer(
				(json_int_t)v->ctr.tl_drops[r - MESP_DROP_TESLA_MALFORMED]));
	for (uint16_t s = 0; s < t->nb_senders && s < RTE_DIM(t->rx); s++)
		json_array_append_new(senders, json_pack("{s:i, s:s, s:o}", "index", s,
				"state", synced && t->rx[s].synced_cfg ? "synced" : "unsynced",
				"newest_key_index", t->rx[s].has_key ?
				json_integer(t->rx[s].newest) : json_null()));
	o = json_pack("{s:I, s:I, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
			"t0_ms", (json_int_t)(t->t0_ns / 1000000),
			"interval_us", (json_int_t)(t->interval_ns / 1000),
			"delay", t->d, "chain_length", t->chain_length,
			"mac", mcrypto_mac_name(t->mac) ? mcrypto_mac_name(t->mac) : "?",
			"verified", (json_int_t)v->ctr.tl_verified,
			"unverified", (json_int_t)v->ctr.tl_unverified,
			"beacons_sent", (json_int_t)v->ctr.tl_beacons_tx,
			"held_packets", (json_int_t)v->ctr.tl_held,
			"held_bytes", (json_int_t)v->ctr.tl_held_bytes,
			"store_bytes", (json_int_t)t->store_bytes,
			"drops", drops, "senders", senders);
	if (t->sends) {
		char c[2 * 32 + 1];

		hex(c, t->tx_commitment, sizeof(t->tx_commitment));
		json_object_set_new(o, "chain", json_integer(t->tx_chain));
		json_object_set_new(o, "commitment", json_string(c));
	}
	return o;
}

static json_t *sa_json(const struct gw *gw, const struct gsad_sa_view *v)
{
	const struct mcrypto_suite_info *si = mcrypto_suite_info(v->info.suite);
	static const char *const match[] = { "default", "spi", "spi-dst", "spi-dst-src" };
	char spi[16];

	snprintf(spi, sizeof(spi), "0x%08x", v->info.spi);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:i, s:i, s:I, s:I,"
			" s:I, s:I, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			"group", v->group, "spi", spi, "direction", dir_name(v->info.dir),
			"suite", si ? si->name : "?", "state", v->state, "origin", v->origin,
			"lookup", match[v->match], "sid_bits", v->info.sid_bits,
			"esn", v->info.esn, "replay_window", (json_int_t)v->info.replay_window,
			"sids", v->info.nb_sids, "senders_seen", v->info.nb_senders,
			"tx_seq", (json_int_t)v->info.tx_seq_max,
			"seq_limit", (json_int_t)(v->info.seq_limit > INT64_MAX ? INT64_MAX :
				v->info.seq_limit),
			"activates_in_ms", (json_int_t)(v->activates_in_ms > 0 ? v->activates_in_ms : 0),
			"expires_in_ms", (json_int_t)v->expires_in_ms,
			"soft_expired", v->soft_expired,
			"counters",
			"out_packets", (json_int_t)v->ctr.out_pkts,
			"out_bytes", (json_int_t)v->ctr.out_bytes,
			"in_packets", (json_int_t)v->ctr.in_pkts,
			"in_bytes", (json_int_t)v->ctr.in_bytes,
			"auth_fail", (json_int_t)v->ctr.auth_fail,
			"replay", (json_int_t)v->ctr.replay,
			"other_drops", (json_int_t)v->ctr.other_drops,
			"replay_disabled", (json_int_t)v->ctr.replay_disabled);

	if (o != NULL && (v->tesla.sends || v->tesla.receives))
		json_object_set_new(o, "tesla", tesla_json(gw, v));
	return o;
}

static json_t *totals_json(const struct gw_totals *t)
{
	json_t *drops = json_object();

	for (int r = 0; r < MESP_DROP_MAX; r++)
		json_object_set_new(drops, mesp_drop_name(r), json_integer((json_int_t)t->drops[r]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rx", (json_int_t)t->st.rx,
			"tx", (json_int_t)t->st.tx, "protected", (json_int_t)t->st.protect,
			"unprotected", (json_int_t)t->st.unprotect,
			"bypassed", (json_int_t)t->st.bypass, "drops", drops);
}

static json_t *cmd_stats(struct gw *gw)
{
	struct gw_totals t;
	json_t *workers = json_array();

	for (uint16_t i = 0; i < gw->nb_workers; i++) {
		json_t *o;

		gw_totals(gw, i, &t);
		o = totals_json(&t);
		json_object_set_new(o, "lcore", json_integer(gw->worker[i]->lcore_id));
		json_array_append_new(workers, o);
	}
	gw_totals(gw, -1, &t);
	return json_pack("{s:b, s:o, s:o, s:I}", "ok", 1, "total", totals_json(&t),
			"workers", workers, "generation", (json_int_t)gsad_generation(gw->db));
}

static json_t *cmd_sa_list(struct gw *gw)
{
	json_t *a = json_array();
	struct gsad_sa_view v;

	for (uint32_t i = 0; gsad_sa_view(gw->db, i, &v) == 0; i++)
		json_array_append_new(a, sa_json(gw, &v));
	return json_pack("{s:b, s:o}", "ok", 1, "sas", a);
}

static json_t *cmd_groups(struct gw *gw)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < gsad_group_count(gw->db); i++) {
		struct gsad_group_params g;
		struct gwconf_addr ad;
		char dst[64], src[64];

		gsad_group_get(gw->db, i, &g);
		ad.family = g.family;
		memcpy(ad.a, g.dst, 16);
		gwconf_addr_str(&ad, dst, sizeof(dst));
		ad.family = g.has_src ? g.family : 0;
		memcpy(ad.a, g.src, 16);
		gwconf_addr_str(&ad, src, sizeof(src));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", g.name,
				"address", dst, "source", src,
				"protected_port", gw->port[g.prot_port].name,
				"unprotected_port", gw->port[g.unprot_port].name));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "groups", a);
}

static json_t *err_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *cmd_sa_change(struct gw *gw, const char *op, json_t *req)
{
	json_t *sa = json_object_get(req, "sa");
	const char *src = json_string_value(json_object_get(req, "source"));
	char err[GWCONF_ERR_MAX];
	struct gwconf_sa cs;
	char *text;
	int group, rc;

	if (!json_is_object(sa))
		return err_reply("request: \"sa\": expected an object");
	text = json_dumps(sa, JSON_COMPACT);
	if (text == NULL)
		return err_reply("out of memory");
	rc = gwconf_parse_sa_json(gw->conf, src ? src : "sa", text, strlen(text), &cs, &group,
			err);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (rc != 0)
		return err_reply(err);
	/* the request's group index refers to the configuration, which is also the gsad order */
	rc = gw_sa_apply(gw, op, &cs, group, "msecctl", err, sizeof(err));
	OPENSSL_cleanse(&cs, sizeof(cs));
	if (rc != 0)
		return err_reply(err);
	GW_LOG(INFO, "SA %s by msecctl\n", strcmp(op, "add") == 0 ? "added" : "replaced");
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_sa_delete(struct gw *gw, json_t *req)
{
	const char *gname = json_string_value(json_object_get(req, "group"));
	json_t *jspi = json_object_get(req, "spi");
	uint32_t gid;
	char msg[160];
	json_int_t spi;
	int rc;

	if (gname == NULL || !json_is_integer(jspi))
		return err_reply("sa-delete: expected \"group\" (string) and \"spi\" (integer)");
	spi = json_integer_value(jspi);
	if (gsad_group_find(gw->db, gname, &gid) != 0) {
		snprintf(msg, sizeof(msg), "sa-delete: no group \"%s\"", gname);
		return err_reply(msg);
	}
	if (spi < 0 || spi > UINT32_MAX || gsad_sa_delete(gw->db, gid, (uint32_t)spi) != 0) {
		snprintf(msg, sizeof(msg), "sa-delete: group %s has no SA 0x%08llx", gname,
				(unsigned long long)spi);
		return err_reply(msg);
	}
	rc = gsad_commit(gw->db);
	if (rc != 0)
		return err_reply("sa-delete: publish failed");
	GW_LOG(INFO, "SA 0x%08llx of group %s deleted by msecctl\n", (unsigned long long)spi,
			gname);
	return json_pack("{s:b}", "ok", 1);
}

/*
 * The TESLA clock: shown, and for tests and drills shifted (a simulated clock) or forced
 * unsynced. {"cmd":"clock"[, "offset_ms": number][, "unsynced": bool]}
 */
static json_t *cmd_clock(struct gw *gw, json_t *req)
{
	json_t *off = json_object_get(req, "offset_ms"), *uns = json_object_get(req, "unsynced");
	struct gw_clock *c = &gw->clock;

	if (off != NULL) {
		double ms = json_number_value(off);

		if (!json_is_number(off) || ms < -1e9 || ms > 1e9)
			return err_reply("clock: \"offset_ms\": expected a number of milliseconds "
					"within +-1e9");
		__atomic_store_n(&c->offset_ns, (int64_t)(ms * 1e6), __ATOMIC_RELAXED);
		GW_LOG(WARNING, "TESLA clock offset set to %.3f ms by msecctl\n", ms);
	}
	if (uns != NULL) {
		if (!json_is_boolean(uns))
			return err_reply("clock: \"unsynced\": expected true or false");
		c->force_unsynced = json_is_true(uns);
		gw_clock_update(gw);
	}
	return json_pack("{s:b, s:I, s:f, s:b, s:b, s:s}", "ok", 1,
			"now_ms", (json_int_t)(gw_clock_ns(gw) / 1000000),
			"offset_ms", (double)__atomic_load_n(&c->offset_ns, __ATOMIC_RELAXED) / 1e6,
			"synced", __atomic_load_n(&c->synced, __ATOMIC_RELAXED),
			"forced_unsynced", c->force_unsynced,
			"check", gw->conf->clock_check ? "adjtimex" : "none");
}

static json_t *dispatch(struct gw *gw, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *r;

	if (cmd == NULL)
		return err_reply("request: \"cmd\": expected a string");
	if (strcmp(cmd, "ping") == 0)
		return json_pack("{s:b}", "ok", 1);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(gw);
	/* the member engine belongs to this thread; it takes gw->lock itself when it changes SAs */
	if (strcmp(cmd, "gkm") == 0)
		return json_pack("{s:b, s:o}", "ok", 1, "groups", gw_gkm_json(gw));
	pthread_mutex_lock(&gw->lock);
	if (strcmp(cmd, "sa-list") == 0)
		r = cmd_sa_list(gw);
	else if (strcmp(cmd, "groups") == 0)
		r = cmd_groups(gw);
	else if (strcmp(cmd, "sa-add") == 0)
		r = cmd_sa_change(gw, "add", req);
	else if (strcmp(cmd, "sa-replace") == 0)
		r = cmd_sa_change(gw, "replace", req);
	else if (strcmp(cmd, "sa-delete") == 0)
		r = cmd_sa_delete(gw, req);
	else if (strcmp(cmd, "clock") == 0)
		r = cmd_clock(gw, req);
	else
		r = err_reply("unknown command (ping, stats, groups, gkm, sa-list, sa-add, "
				"sa-replace, sa-delete, clock)");
	pthread_mutex_unlock(&gw->lock);
	return r;
}

static void serve(struct gw *gw, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	char *buf = malloc(CTL_MAX_REQ + 1);
	size_t len = 0;
	json_t *req, *rep;
	json_error_t je;
	char *out;

	if (buf == NULL)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < CTL_MAX_REQ) {
		ssize_t n = read(fd, buf + len, CTL_MAX_REQ - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n) != NULL)
			break;
	}
	buf[len] = '\0';
	req = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &je);
	OPENSSL_cleanse(buf, len);     /* requests may carry keys */
	free(buf);
	if (req == NULL) {
		char msg[300];

		snprintf(msg, sizeof(msg), "request: %d:%d: %s", je.line, je.column, je.text);
		rep = err_reply(msg);
	} else {
		rep = dispatch(gw, req);
		json_decref(req);
	}
	out = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	if (out != NULL) {
		size_t n = strlen(out), off = 0;
		char *line = malloc(n + 2);

		/* one reply line; MSG_NOSIGNAL: a client that went away must not kill the
		 * gateway with SIGPIPE */
		if (line != NULL) {
			memcpy(line, out, n);
			line[n++] = '\n';
			while (off < n) {
				ssize_t w = send(fd, line + off, n - off, MSG_NOSIGNAL);

				if (w <= 0) {
					GW_LOG(DEBUG, "control reply truncated\n");
					break;
				}
				off += (size_t)w;
			}
			free(line);
		}
		free(out);
	}
}

int gw_ctl_open(struct gw *gw)
{
	const char *path = gw->conf->ctl_socket;
	struct sockaddr_un sa;
	char dir[GWCONF_PATH_MAX];
	char *slash;
	int fd;

	gw->ctl_fd = -1;
	if (path[0] == '\0')
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0750);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0) {
		int e = errno;

		GW_LOG(ERR, "control socket %s: %s\n", path, strerror(e));
		close(fd);
		return -e;
	}
	chmod(path, 0660);
	gw->ctl_fd = fd;
	return 0;
}

void gw_ctl_poll(struct gw *gw, int timeout_ms)
{
	struct pollfd p = { .fd = gw->ctl_fd, .events = POLLIN };

	if (gw->ctl_fd < 0) {
		poll(NULL, 0, timeout_ms);
		return;
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		int c = accept4(gw->ctl_fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			break;
		serve(gw, c);
		close(c);
	}
}

void gw_ctl_close(struct gw *gw)
{
	if (gw->ctl_fd >= 0) {
		close(gw->ctl_fd);
		unlink(gw->conf->ctl_socket);
		gw->ctl_fd = -1;
	}
}
