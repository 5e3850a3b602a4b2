#!/usr/bin/env bash
# Sage Business Cloud Accounting judges reenact's `provider: sage` fake. Sage publishes no
# official SDK for it, so the judge is Sage's own documentation: judge.py sends the requests
# Sage's guides show and compares the answers with the documented response examples, each quoted
# in judge.py with its URL. judge.py uses only the Python standard library (urllib.request,
# json): there is NO install step (no .venv, no requirements.txt) and nothing to pin.
#
# Nothing is overridden: a plain HTTP client is pointed at the fake's URL, which stands in for
# both https://oauth.accounting.sage.com (token) and https://api.accounting.sage.com/v3.1 (API).
# Never calls a real Sage host.
#
# Usage: conformance/sage/run.sh   (REENACT_BIN: the binary judged, default target/debug/reenact)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
REENACT_BIN="${REENACT_BIN:-$root/target/debug/reenact}"
if [ ! -x "$REENACT_BIN" ]; then
  echo "sage judge: no reenact binary at $REENACT_BIN (cargo build --bin reenact)" >&2
  exit 2
fi
python="${PYTHON:-python3}"

work="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$REENACT_BIN" mock serve --color never "$here/scenario.yaml" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!

# Wait for `ready` (at most 30 s).
for _ in $(seq 1 300); do
  if grep -qx ready "$work/serve.out" 2>/dev/null; then break; fi
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "sage judge: reenact mock serve exited early:" >&2
    cat "$work/serve.err" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -qx ready "$work/serve.out"; then
  echo "sage judge: the mocks were not ready within 30 s" >&2
  cat "$work/serve.err" >&2
  exit 1
fi

url_of() { awk -v name="$1" '$1 == name { print $2 }' "$work/serve.out"; }
"$python" "$here/judge.py" \
  --sage "$(url_of sage)" \
  --lapsed "$(url_of sage_lapsed)" \
  --busy "$(url_of sage_busy)"
