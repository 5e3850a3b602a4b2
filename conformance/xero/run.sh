#!/usr/bin/env bash
# xero-python (Xero's official SDK, pinned in requirements.txt) judges reenact's fake of Xero.
#
# 1. Installs the pins into conformance/xero/.venv (git-ignored); skipped when the venv exists and
#    requirements.txt is unchanged since it was made (its sha256 is kept in .venv/pins.sha256).
# 2. Starts the fakes of scenario.yaml with `$REENACT_BIN mock serve` and reads their URLs.
# 3. Runs judge.py against them; it prints one line per check and exits non-zero on a failure.
# The fakes are stopped (SIGTERM) on every exit path.
#
# What is overridden to point the SDK at the fake (xero-python has no `Configuration.host`):
# `AccountingApi(base_url=...)` and `IdentityApi(base_url=...)`, both constructor arguments, and
# the `TokenApi.refresh_token_url`/`revoke_token_url` class attributes, which the SDK reads when it
# refreshes or revokes. judge.py also turns off urllib3's honouring of `Retry-After` for the one
# client it sends to the rate-limited fake (else urllib3 sleeps and retries 3 times before the SDK
# sees the 429). Nothing else; no real Xero host is ever called.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${REENACT_BIN:=$root/target/debug/reenact}"
python="${PYTHON:-python3}"

venv="$here/.venv"
pins="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/pins.sha256" 2>/dev/null)" != "$pins" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
  echo "$pins" > "$venv/pins.sha256"
fi

log="$(mktemp)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$REENACT_BIN" mock serve --color never "$here/scenario.yaml" >"$log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 200); do
  if grep -qx 'ready' "$log"; then break; fi
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "FAIL reenact mock serve exited before it was ready:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.05
done
if ! grep -qx 'ready' "$log"; then
  echo "FAIL reenact mock serve was not ready within 10 s:" >&2
  cat "$log" >&2
  exit 1
fi
url_of() { awk -v name="$1" '$1 == name { print $2 }' "$log"; }
admin_of() { awk -v name="$1" '$1 == name { print $4 }' "$log"; }

"$venv/bin/python" "$here/judge.py" \
  --url "$(url_of xero)" --admin "$(admin_of xero)" \
  --limited-url "$(url_of xero_limited)"
