#!/usr/bin/env bash
# xero-python (Xero's official SDK, pinned in requirements.txt) judges reenact's fake of Xero.
#
# 1. Installs the pins into conformance/xero/.venv (git-ignored); skipped when the venv exists and
#    requirements.txt is unchanged since it was made (`install_venv` of ../lib.sh).
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
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_venv "$here"
start_fake "$here/scenario.yaml"
"$here/.venv/bin/python" "$here/judge.py" \
  --url "$(fake_url xero)" --admin "$(fake_admin xero)" \
  --limited-url "$(fake_url xero_limited)"
