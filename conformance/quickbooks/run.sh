#!/usr/bin/env bash
# The QuickBooks Online judge: Intuit's `intuit-oauth` and the community `python-quickbooks`
# (pinned in requirements.txt, installed into ./.venv) drive reenact's `provider: quickbooks`
# fake started from scenario.yaml. Exits non-zero when the SDK rejects an answer or a check fails.
#
# What is pointed at the fake, and how (the smallest overrides the libraries allow):
# - intuit-oauth: `AuthClient(environment=<URL>)` treats any environment other than
#   production/sandbox as the URL of the OpenID discovery document (intuitlib/utils.py
#   `get_discovery_doc`); the fake serves that document, naming its own token and revocation URLs.
# - python-quickbooks: `qb.api_url_v3` set on the client instance (a class attribute,
#   "https://quickbooks.api.intuit.com/v3", client.py) to the fake's `/v3`.
# - OAUTHLIB_INSECURE_TRANSPORT=1: python-quickbooks calls through requests-oauthlib, which
#   refuses plain http otherwise; the fake listens on http://127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
REENACT_BIN="${REENACT_BIN:-$root/target/debug/reenact}"

venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
  "$venv/bin/pip" check --disable-pip-version-check
  echo "$want" > "$stamp"
fi

out="$(mktemp)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$out"
}
trap cleanup EXIT INT TERM

"$REENACT_BIN" mock serve --color never "$here/scenario.yaml" > "$out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if grep -q '^ready' "$out"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL the fake did not start:" >&2
    cat "$out" >&2
    exit 1
  fi
  sleep 0.05
done
if ! grep -q '^ready' "$out"; then
  echo "FAIL the fake was not ready within 10 s" >&2
  cat "$out" >&2
  exit 1
fi
url="$(awk '$1 == "qbo" { print $2 }' "$out")"
admin="$(awk '$1 == "qbo" { print $4 }' "$out")"

OAUTHLIB_INSECURE_TRANSPORT=1 "$venv/bin/python" "$here/judge.py" "$url" "$admin"
