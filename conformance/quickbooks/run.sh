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
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_venv "$here"
venv="$here/.venv"
start_fake "$here/scenario.yaml"
url="$(fake_url qbo)"
admin="$(fake_admin qbo)"

OAUTHLIB_INSECURE_TRANSPORT=1 "$venv/bin/python" "$here/judge.py" "$url" "$admin"
