#!/bin/bash
# msec-gcks as a process (doc/key-management.md §9): starts from a demo PKI and a signed token,
# answers msecctl, keeps its state across kill -9 (epochs, SPIs, history), refuses bad
# configurations with file, JSON path and expectation, and refuses a token it is not named in.
# The protocol itself (registration, LKH rekeys, eviction, departure, refusals) is the gcks unit
# suite, where real members (lib/gm) run against the engine.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

GCKS=${MSEC_GCKS:-$MSEC_BUILD/app/msec-gcks/msec-gcks}
TOKEN=${MSEC_TOKEN:-$MSEC_BUILD/tools/msec-token}
D=$WORK/gcks
mkdir -p "$D"

if [ ! -x "$GCKS" ] || [ ! -x "$TOKEN" ]; then
	not_ok "msec-gcks and msec-token are built"
	exit 1
fi
"$TOOLS/msec-pki" "$D/pki" >/dev/null 2>&1 || { not_ok "demo PKI"; exit 1; }
check "token built from the demo policy" "$TOKEN" build -p "$MSEC_ROOT/config/policy/demo-policy.json" \
	-k "$D/pki/go.key" -c "$D/pki/go.crt" -o "$D/tok.der"
# a second group, served by the same key server
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['group']={'name': 'iptv-news',
  'id': '5f2c8a0e91d34b78'}; d['data'][0]['group_address']='232.1.1.2'
json.dump(d, open(sys.argv[2], 'w'))" "$MSEC_ROOT/config/policy/demo-policy.json" "$D/news.json"
check "token of a second group" "$TOKEN" build -p "$D/news.json" -k "$D/pki/go.key" \
	-c "$D/pki/go.crt" -o "$D/news.der"

port=$((20000 + RANDOM % 20000))
write_conf() {   # write_conf FILE KEY-NAME
	cat >"$1" <<EOF
{
	"identity": { "key": "pki/$2.key", "cert": "pki/$2.crt" },
	"trust": { "members_ca": "pki/ca.crt", "group_owner_ca": "pki/ca.crt" },
	"listen": { "address": "127.0.0.1", "port": $port },
	"state": "state.db",
	"control_socket": "gcks.sock",
	"groups": [ { "token": "tok.der", "max_members": 1024,
		"rekey": { "transport": "both", "address": "239.192.0.1", "resend_interval_ms": 100 } },
		{ "token": "news.der", "rekey": { "transport": "unicast", "resend_interval_ms": 100 } } ]
}
EOF
}
write_conf "$D/gcks.json" gcks-1
ctl() { "$MSECCTL" -s "$D/gcks.sock" "$@"; }
pid=
start() {
	"$GCKS" -c "$D/gcks.json" >>"$D/log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		[ -S "$D/gcks.sock" ] && ctl gcks groups >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
on_exit 'kill -9 $pid 2>/dev/null'

check "msec-gcks starts and answers" start
ctl -j gcks groups >"$D/groups.json"
check "it serves both groups of its configuration, each with its own keys" "$PY" -c "
import json; g={x['name']: x for x in json.load(open('$D/groups.json'))['groups']}
assert sorted(g)==['iptv-news', 'iptv-sports'], g
assert g['iptv-news']['data_sas'][0]['spi']!=g['iptv-sports']['data_sas'][0]['spi'], g"
ctl -j gcks group iptv-sports >"$D/g1.json"
check "the group comes from the token (name, GroupID, degree 4, epoch 1)" "$PY" -c "
import json,sys; g=json.load(open('$D/g1.json'))['group']
assert g['group_id']=='5f2c8a0e91d34b77' and g['degree']==4 and g['data_sas'][0]['epoch']==1, g"
check "a manual rekey starts epoch 2" ctl gcks rekey iptv-sports
ctl -j gcks group iptv-sports >"$D/g2.json"
kill -9 "$pid"
wait "$pid" 2>/dev/null
check "state file is mode 0600" test "$(stat -c %a "$D/state.db")" = 600
check "restarts after kill -9" start
ctl -j gcks group iptv-sports >"$D/g3.json"
check "after kill -9: same epochs, SPIs and retiring epoch" "$PY" -c "
import json; a=json.load(open('$D/g2.json'))['group']; b=json.load(open('$D/g3.json'))['group']
assert a['data_sas'][0]['epoch']==2 and a['data_sas']==b['data_sas'], (a, b)"
ctl -j gcks history iptv-sports >"$D/h.json"
check "rekey history kept (reason manual)" "$PY" -c "
import json; h=json.load(open('$D/h.json'))['history']; assert h[0]['reason']=='manual', h"
if ctl gcks members nosuch >/dev/null 2>&1; then not_ok "unknown group refused"
else ok "unknown group refused"; fi
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: clean exit" test $? -eq 0
check "control socket removed at exit" test ! -e "$D/gcks.sock"

# a sub-GC/KS (doc/key-management.md §8): registers with the running key server as a member
# the token's sub_gcks rules admit, and takes its traffic keys
check "msec-gcks restarts for the sub-GC/KS phase" start
sport=$((port + 1))
cat >"$D/sub.json" <<EOF
{
	"identity": { "key": "pki/subgcks-1.key", "cert": "pki/subgcks-1.crt" },
	"trust": { "members_ca": "pki/ca.crt", "group_owner_ca": "pki/ca.crt" },
	"listen": { "address": "127.0.0.1", "port": $sport },
	"state": "sub.db",
	"control_socket": "sub.sock",
	"groups": [ { "token": "tok.der", "parent": { "address": "127.0.0.1", "port": $port, "sids": 8 },
		"rekey": { "transport": "unicast", "resend_interval_ms": 100 } } ]
}
EOF
"$GCKS" -c "$D/sub.json" >>"$D/sub.log" 2>&1 &
spid=$!
on_exit 'kill -9 $spid 2>/dev/null'
sub_ok() {
	"$MSECCTL" -s "$D/sub.sock" -j gcks group iptv-sports >"$D/s.json" 2>/dev/null &&
		ctl -j gcks group iptv-sports >"$D/p.json" && "$PY" -c "
import json; s=json.load(open('$D/s.json'))['group']; p=json.load(open('$D/p.json'))['group']
assert s['parent']['state']=='member' and s['sids_free']==8, s
assert s['data_sas'][0]['epoch']==p['data_sas'][0]['epoch'] and s['data_sas'][0]['spi']==p['data_sas'][0]['spi'], (s, p)"
}
ok_sub=no
for _ in $(seq 50); do sub_ok && { ok_sub=yes; break; }; sleep 0.1; done
check "a sub-GC/KS registers with it and serves the parent's epoch and SPI with a pool of 8 SIDs" \
	test $ok_sub = yes
ctl -j gcks members iptv-sports >"$D/pm.json"
check "the parent lists the sub-GC/KS as a member in the sub-gcks role" "$PY" -c "
import json; m=json.load(open('$D/pm.json'))['members']
assert [x['role'] for x in m]==['sub-gcks'] and len(m[0]['sids'])==8, m"
kill -TERM "$spid"
wait "$spid"
kill -TERM "$pid"
wait "$pid"

# refusals: "what" "expected stderr text" config-edit
refused() {
	local what=$1 want=$2 edit=$3
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); $edit
json.dump(d, open(sys.argv[2], 'w'))" "$D/gcks.json" "$D/bad.json"
	if ! "$GCKS" -c "$D/bad.json" >/dev/null 2>"$D/err.log" && grep -qF -- "$want" "$D/err.log"; then
		ok "$what"
	else
		not_ok "$what"
		echo "#   wanted: $want"
		sed 's/^/#   got: /' "$D/err.log" | tail -n 3
	fi
}
refused "unknown member" 'bad.json: $: unknown member "grups"' 'd["grups"]=d.pop("groups")'
refused "no groups" 'bad.json: $.groups: expected an array' 'd["groups"]=[]'
refused "bad transport" '$.groups[0].rekey.transport: expected "multicast", "unicast" or "both"' \
	'd["groups"][0]["rekey"]["transport"]="broadcast"'
refused "rekey address not multicast" '$.groups[0].rekey.address: expected a multicast address' \
	'd["groups"][0]["rekey"]["address"]="10.1.1.1"'
refused "parent address missing" '$.groups[0].parent.address: missing' \
	'd["groups"][0]["parent"]={"sids": 4}'
refused "max_members out of range" '$.groups[0].max_members: expected an integer 1..16777216' \
	'd["groups"][0]["max_members"]=0'
refused "missing token file" 'nope.der: cannot read' 'd["groups"][0]["token"]="nope.der"'
refused "copies of a rekey outlast the activation delay" \
	'activation_delay_ms: 500 ms does not exceed the rekey retransmission span' \
	'd["groups"][0]["rekey"]["resend_interval_ms"]=1000'
write_conf "$D/member.json" gw-1
cp "$D/member.json" "$D/gcks.json"
refused "a key server the token does not name" 'this key server is not one of the group' 'pass'
