#!/bin/bash
# msec-token and msec-pki end to end: a demo PKI, a token built from config/policy/demo-policy.json,
# verified and shown; older editions, older signing-times, expired tokens, foreign and member
# signers, tampered and malformed tokens refused with their specific error; bad JSON policies
# refused with file, JSON path and expectation.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TOKEN=${MSEC_TOKEN:-$MSEC_BUILD/tools/msec-token}
PKI=$TOOLS/msec-pki
POLICY=$MSEC_ROOT/config/policy/demo-policy.json

if [ ! -x "$TOKEN" ]; then
	not_ok "msec-token is built ($TOKEN)"
	exit 1
fi

# refuses "what" "expected stderr text" command...: exit status 1 and the text in stderr
refuses() {
	local what=$1 want=$2 rc
	shift 2
	"$@" >"$WORK/out.log" 2>"$WORK/err.log"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$WORK/err.log"; then
		ok "$what"
	else
		not_ok "$what (exit $rc)"
		echo "#   wanted: $want"
		sed 's/^/#   got: /' "$WORK/err.log" | tail -n 3
	fi
}

# json FILE PYTHON-EXPR: evaluate EXPR over the JSON document `d` in FILE, print the result
json() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# edit_policy OUT PYTHON-STATEMENTS: the demo policy with `d` changed
edit_policy() {
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); $2
json.dump(d, open(sys.argv[2], 'w'))" "$POLICY" "$1"
}

GO_EKU='2\.25\.138783247843966966373196101728040244988\.4\.1'
# build POLICY OUT [key/cert name, default go]: sign a policy with a key of the demo PKI
build() {
	local who=${3:-go}
	"$TOKEN" build -p "$1" -k "$WORK/pki/$who.key" -c "$WORK/pki/$who.crt" -o "$2"
}

# --- the PKI
check "msec-pki creates the demo PKI" "$PKI" "$WORK/pki"
for f in ca go gcks-1 subgcks-1 gw-1 gw-2 gw-3 gw-lab-1; do
	if [ ! -s "$WORK/pki/$f.crt" ] || [ ! -s "$WORK/pki/$f.key" ]; then
		not_ok "msec-pki made $f"
		exit 1
	fi
done
if [ "$(stat -c %a "$WORK/pki/go.key")" = 600 ] &&
		openssl x509 -in "$WORK/pki/go.crt" -noout -ext extendedKeyUsage 2>/dev/null |
		grep -q "$GO_EKU" &&
		openssl pkey -in "$WORK/pki/gw-3.key" -noout -text 2>/dev/null |
		grep -q ED25519; then
	ok "msec-pki: private keys 0600, Group Owner key usage, an Ed25519 member"
else
	not_ok "msec-pki: private keys 0600, Group Owner key usage, an Ed25519 member"
fi
refuses "msec-pki will not overwrite a PKI without --force" "use --force" "$PKI" "$WORK/pki"
check "msec-pki into a second directory (another CA)" "$PKI" "$WORK/pki2"

# --- build, verify, show
check "build a token from config/policy/demo-policy.json" \
	"$TOKEN" build -p "$POLICY" -k "$WORK/pki/go.key" -c "$WORK/pki/go.crt" -o "$WORK/t1.der"
check "verify it against the CA" "$TOKEN" verify -t "$WORK/t1.der" -a "$WORK/pki/ca.crt"
if "$TOKEN" verify -t "$WORK/t1.der" -a "$WORK/pki/ca.crt" 2>&1 |
		grep -q "OK: group iptv-sports edition 1"; then
	ok "verify names the group and edition"
else
	not_ok "verify names the group and edition"
fi
check "openssl sees a CMS SignedData of type id-ct-msec-token" bash -c \
	"openssl cms -cmsout -print -inform DER -in '$WORK/t1.der' |
	grep -q 'eContentType: .*1.3.6.1.5.5.12.1.1'"

if "$TOKEN" show -t "$WORK/t1.der" -a "$WORK/pki/ca.crt" >"$WORK/show.json" 2>"$WORK/err.log"; then
	ok "show prints the token as JSON"
else
	not_ok "show prints the token as JSON"
	sed 's/^/#   /' "$WORK/err.log"
fi
while IFS='|' read -r expr want; do
	got=$(json "$WORK/show.json" "$expr" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "show: $expr = $want"
	else
		not_ok "show: $expr = $want (got $got)"
	fi
done <<'EOF'
d['signature']['verified']|True
d['signature']['signer']|CN=group-owner,O=msecgw demo
d['signature']['content_type']|id-ct-msec-token (1.3.6.1.5.5.12.1.1)
d['policy']['group']['name']|iptv-sports
d['policy']['group']['id']|5f2c8a0e91d34b77
d['policy']['edition']|1
d['policy']['registration']['members']['exclude'][0]['subject']|CN=gw-lab-*,O=msecgw demo
d['policy']['registration']['senders']['allow'][1]['dns']|gw-2.msec.example
d['policy']['rekey']['method'] + ' ' + str(d['policy']['rekey']['degree'])|lkh 4
d['policy']['rekey']['reliability']['count']|3
d['policy']['data'][0]['suite']|aes-gcm-256
d['policy']['data'][0]['sid_bits']|8
d['policy']['data'][0]['address_preservation']|src-dst
d['policy']['data'][0]['source_address']|192.0.2.10
EOF
if "$TOKEN" show -t "$WORK/t1.der" >"$WORK/show2.json" 2>/dev/null &&
		[ "$(json "$WORK/show2.json" "d['signature']['verified']")" = False ]; then
	ok "show without a CA says the signature was not verified"
else
	not_ok "show without a CA says the signature was not verified"
fi
# the "policy" part of show is a policy again: rebuilding it gives the same content
json "$WORK/show.json" "json.dumps(d['policy'])" >"$WORK/again.json"
check "show's policy builds again" "$TOKEN" build -p "$WORK/again.json" -k "$WORK/pki/go.key" \
	-c "$WORK/pki/go.crt" -o "$WORK/again.der"

# --- editions and signing-time
edit_policy "$WORK/p2.json" "d['edition'] = 2"
check "build edition 2" "$TOKEN" build -p "$WORK/p2.json" -k "$WORK/pki/go.key" \
	-c "$WORK/pki/go.crt" -o "$WORK/t2.der"
check "edition 2 is accepted after edition 1" \
	"$TOKEN" verify -t "$WORK/t2.der" -a "$WORK/pki/ca.crt" --last-edition 1
refuses "an equal edition is refused" "POLICY_E_EDITION" \
	"$TOKEN" verify -t "$WORK/t2.der" -a "$WORK/pki/ca.crt" --last-edition 2
refuses "an older edition is refused" \
	"edition 1 is not newer than the last accepted edition 2" \
	"$TOKEN" verify -t "$WORK/t1.der" -a "$WORK/pki/ca.crt" --last-edition 2
st=$(json "$WORK/show.json" "d['signature']['signing_time']")
later=$(date -u -d "$st + 1 minute" +%Y-%m-%dT%H:%M:%SZ)
refuses "a token signed before the last accepted one is refused" "POLICY_E_SIGNING_TIME" \
	"$TOKEN" verify -t "$WORK/t2.der" -a "$WORK/pki/ca.crt" --last-edition 1 \
	--last-signing-time "$later"
future=$(date -u -d "+400 days" +%Y-%m-%dT%H:%M:%SZ)
refuses "an expired token is refused" "POLICY_E_EXPIRED" \
	"$TOKEN" verify -t "$WORK/t1.der" -a "$WORK/pki/ca.crt" --time "$future"
edit_policy "$WORK/p3.json" \
	"d['validity'] = {'not_before': '2099-01-01T00:00:00Z', 'lifetime_seconds': 3600}"
build "$WORK/p3.json" "$WORK/t3.der" >/dev/null 2>&1
refuses "a token not yet valid is refused" "POLICY_E_NOT_YET_VALID" \
	"$TOKEN" verify -t "$WORK/t3.der" -a "$WORK/pki/ca.crt"

# --- signers
check "a member key can sign a CMS (the tool does not stop it)" \
	build "$POLICY" "$WORK/tm.der" gw-1
refuses "a token signed by a member key is refused" "POLICY_E_NOT_GO" \
	"$TOKEN" verify -t "$WORK/tm.der" -a "$WORK/pki/ca.crt"
"$TOKEN" build -p "$POLICY" -k "$WORK/pki2/go.key" -c "$WORK/pki2/go.crt" -o "$WORK/tf.der" \
	>/dev/null 2>&1
refuses "a token signed by another PKI's Group Owner is refused" "POLICY_E_CHAIN" \
	"$TOKEN" verify -t "$WORK/tf.der" -a "$WORK/pki/ca.crt"
refuses "a key that does not match the certificate is refused" \
	"the private key does not match the certificate" \
	"$TOKEN" build -p "$POLICY" -k "$WORK/pki/gw-1.key" -c "$WORK/pki/go.crt" -o "$WORK/tx.der"

# --- tampered and malformed tokens
"$PY" - "$WORK/t1.der" "$WORK" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
w = sys.argv[2]
i = d.index(b'iptv-sports')
open(w + '/tampered.der', 'wb').write(d[:i] + b'I' + d[i + 1:])
open(w + '/truncated.der', 'wb').write(d[:-10])
open(w + '/trailing.der', 'wb').write(d + b'\0')
open(w + '/settag.der', 'wb').write(b'\x31' + d[1:])
EOF
refuses "a tampered token is refused" "POLICY_E_SIGNATURE" \
	"$TOKEN" verify -t "$WORK/tampered.der" -a "$WORK/pki/ca.crt"
refuses "a truncated token is refused" "POLICY_E_TRUNCATED" \
	"$TOKEN" verify -t "$WORK/truncated.der" -a "$WORK/pki/ca.crt"
refuses "a token with trailing garbage is refused" "POLICY_E_TRAILING" \
	"$TOKEN" verify -t "$WORK/trailing.der" -a "$WORK/pki/ca.crt"
refuses "a token with a wrong outer tag is refused" "POLICY_E_NOT_CMS" \
	"$TOKEN" show -t "$WORK/settag.der"

# --- bad JSON policies: file, JSON path, expectation; no token written
edit_policy "$WORK/bad1.json" "d['data'][0]['sid_bits'] = 9"
refuses "bad policy: sid_bits" \
	"msec-token: $WORK/bad1.json: data[0].sid_bits: expected 8, 12 or 16, got 9" \
	build "$WORK/bad1.json" "$WORK/bad.der"
edit_policy "$WORK/bad2.json" "d['registration']['members']['exclude'][0] = {'subject': 'gw-lab-*'}"
refuses "bad policy: a subject that is not a DN pattern" \
	"$WORK/bad2.json: registration.members.exclude[0].subject: expected an RFC 4514 DN" \
	build "$WORK/bad2.json" "$WORK/bad.der"
edit_policy "$WORK/bad3.json" "d['rekey']['degre'] = 4"
refuses "bad policy: an unknown key" \
	"$WORK/bad3.json: rekey.degre: expected one of the keys method, degree, key_wrap" \
	build "$WORK/bad3.json" "$WORK/bad.der"
edit_policy "$WORK/bad4.json" "d['group']['id'] = 'xyz'"
refuses "bad policy: group id" "$WORK/bad4.json: group.id: expected 16 hex digits, got \"xyz\"" \
	build "$WORK/bad4.json" "$WORK/bad.der"
printf '{"group": {"name": "x",}\n' >"$WORK/bad5.json"
refuses "bad policy: JSON syntax, with line and column" "$WORK/bad5.json:1:" \
	build "$WORK/bad5.json" "$WORK/bad.der"
if [ ! -e "$WORK/bad.der" ]; then
	ok "no token is written for a bad policy"
else
	not_ok "no token is written for a bad policy"
fi
"$TOKEN" build -p "$WORK/nonexistent.json" -k "$WORK/pki/go.key" -c "$WORK/pki/go.crt" \
	-o "$WORK/bad.der" >/dev/null 2>"$WORK/err.log"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "nonexistent.json: cannot open" "$WORK/err.log"; then
	ok "a missing policy file is a usage error (exit 2)"
else
	not_ok "a missing policy file is a usage error (exit $rc)"
fi
"$TOKEN" frobnicate >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then
	ok "an unknown command exits 2"
else
	not_ok "an unknown command exits 2 (got $rc)"
fi
exit 0
