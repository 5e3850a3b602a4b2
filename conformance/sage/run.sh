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
# shellcheck source=../lib.sh
source "$here/../lib.sh"
python="${PYTHON:-python3}"

start_fake "$here/scenario.yaml"
"$python" "$here/judge.py" \
  --sage "$(fake_url sage)" \
  --lapsed "$(fake_url sage_lapsed)" \
  --busy "$(fake_url sage_busy)"
