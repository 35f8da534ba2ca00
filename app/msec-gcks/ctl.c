/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msec-gcks control requests: one JSON object in, one out (the protocol of msecgw's control
 * socket, so msecctl serves both). Replies never carry key material: keys are named by
 * epoch, SPI and handle only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gcks_app.h"
#include "policy.h"

static const char *role_name(uint8_t r)
{
	switch (r) {
	case POLICY_ROLE_GCKS:
		return "gcks";
	case POLICY_ROLE_SUBGCKS:
		return "sub-gcks";
	case POLICY_ROLE_SENDER:
		return "sender";
	default:
		return "member";
	}
}

static json_t *addr_json(const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN + 8] = "";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), ":%u", ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		ip[0] = '[';
		inet_ntop(AF_INET6, &a->sin6_addr, ip + 1, sizeof(ip) - 1);
		snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "]:%u", ntohs(a->sin6_port));
	} else {
		return json_null();
	}
	return json_string(ip);
}

static json_t *group_json(const struct gcks_group_info *gi)
{
	json_t *data = json_array(), *ctr = json_object();
	char gid[17];

	for (int i = 0; i < 8; i++)
		snprintf(gid + 2 * i, 3, "%02x", gi->gid[i]);
	for (uint32_t i = 0; i < gi->nb_data; i++) {
		char spi[11];

		snprintf(spi, sizeof(spi), "0x%08x", gi->data[i].spi);
		json_array_append_new(data, json_pack("{s:i, s:i, s:s, s:I, s:I, s:o}", "index", i,
				"epoch", gi->data[i].epoch, "spi", spi,
				"expires", (json_int_t)gi->data[i].expires,
				"next_rekey_ms", (json_int_t)gi->data[i].next_rekey_ms,
				"retiring_epoch", gi->data[i].prev_epoch != 0 ?
				json_integer(gi->data[i].prev_epoch) : json_null()));
	}
	for (int c = 0; c < GCKS_C_MAX; c++)
		json_object_set_new(ctr, gcks_counter_name((enum gcks_counter)c),
				json_integer((json_int_t)gi->ctr[c]));
	return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o}",
			"name", gi->name, "group_id", gid, "members", gi->members,
			"pending", gi->pending, "capacity", gi->capacity, "degree", gi->degree,
			"height", gi->height, "root_handle", gi->root_handle,
			"sequence_id", gi->seq, "sids_free", gi->sids_free, "data_sas", data,
			"parent", gi->sub ? json_pack("{s:s}", "state", gi->parent_state) :
			json_null(), "counters", ctr);
}

static int list_group(void *arg, const char *name)
{
	json_array_append_new(arg, json_string(name));
	return 0;
}

static int member_cb(void *arg, const struct gcks_member_info *m)
{
	json_t *sids = json_array();

	for (uint16_t i = 0; i < m->nb_sids; i++)
		json_array_append_new(sids, json_integer(m->sids[i]));
	json_array_append_new(arg, json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:I, s:I}",
			"subject", m->subject, "member_id", m->member_id, "role",
			role_name(m->role), "state", gcks_member_state_name(m->state), "sids", sids,
			"address", addr_json(&m->addr), "joined_ms", (json_int_t)m->joined_ms,
			"acked_ms", (json_int_t)m->acked_ms));
	return 0;
}

static int history_cb(void *arg, const struct gstore_rekey *r)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I}",
			"at_ms", (json_int_t)r->at, "reason", r->reason, "seq_first", r->seq_first,
			"seq_last", r->seq_last, "joins", r->joins, "leaves", r->leaves,
			"evictions", r->evictions, "wraps", r->wraps, "messages", r->messages,
			"bytes", (json_int_t)r->bytes));
	return 0;
}

__attribute__((format(printf, 1, 2)))
static json_t *error_reply(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *handle(struct gcks *k, struct gstore *st, json_t *req, int64_t now)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *group = json_string_value(json_object_get(req, "group"));
	const char *subject = json_string_value(json_object_get(req, "subject"));
	struct gcks_group_info gi;
	json_t *a;
	int rc;

	if (cmd == NULL)
		return error_reply("request without \"cmd\"");
	if (strcmp(cmd, "gcks-groups") == 0) {
		a = json_array();
		gcks_groups(k, list_group, a);
		for (size_t i = 0; i < json_array_size(a); i++) {
			if (gcks_group_info(k, json_string_value(json_array_get(a, i)), &gi) == 0)
				json_array_set_new(a, i, group_json(&gi));
		}
		return json_pack("{s:b, s:o}", "ok", 1, "groups", a);
	}
	if (group == NULL)
		return error_reply("\"%s\" needs \"group\"", cmd);
	if (gcks_group_info(k, group, &gi) != 0)
		return error_reply("no group \"%s\"", group);
	if (strcmp(cmd, "gcks-group") == 0)
		return json_pack("{s:b, s:o}", "ok", 1, "group", group_json(&gi));
	if (strcmp(cmd, "gcks-members") == 0) {
		a = json_array();
		gcks_members(k, group, member_cb, a);
		return json_pack("{s:b, s:o}", "ok", 1, "members", a);
	}
	if (strcmp(cmd, "gcks-history") == 0) {
		json_int_t limit = json_integer_value(json_object_get(req, "limit"));

		a = json_array();
		gstore_rekeys(st, group, limit > 0 && limit < 10000 ? (unsigned int)limit : 50,
				history_cb, a);
		return json_pack("{s:b, s:o}", "ok", 1, "history", a);
	}
	if (strcmp(cmd, "gcks-rekey") == 0)
		rc = gcks_rekey(k, group, now);
	else if (strcmp(cmd, "gcks-destroy") == 0)
		rc = gcks_destroy(k, group, now);
	else if (strcmp(cmd, "gcks-evict") == 0 || strcmp(cmd, "gcks-readmit") == 0) {
		if (subject == NULL)
			return error_reply("\"%s\" needs \"subject\"", cmd);
		rc = cmd[5] == 'e' ? gcks_evict(k, group, subject, now) :
			gcks_readmit(k, group, subject);
		if (rc == -ENOENT)
			return error_reply("no such member: %s", subject);
	} else {
		return error_reply("unknown command \"%s\"", cmd);
	}
	if (rc != 0)
		return error_reply("failed: %s", strerror(-rc));
	return json_pack("{s:b}", "ok", 1);
}

int app_ctl_handle(struct gcks *k, struct gstore *st, const char *req, size_t len,
		int64_t now_ms, char **reply)
{
	json_error_t je;
	json_t *r = json_loadb(req, len, 0, &je), *out;

	out = r == NULL || !json_is_object(r) ? error_reply("request is not a JSON object") :
		handle(k, st, r, now_ms);
	json_decref(r);
	*reply = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return *reply != NULL ? 0 : -ENOMEM;
}
