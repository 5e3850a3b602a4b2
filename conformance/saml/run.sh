#!/usr/bin/env bash
# @node-saml/node-saml (npm, pinned with package-lock.json) and xmlsec1 (Debian package) judge
# reenact's `provider: saml` fake: judge.mjs logs in SP-initiated (node-saml writes the
# AuthnRequest) and IdP-initiated at every mock of scenario.yaml, verifies every signature with
# xmlsec1, has node-saml accept the valid responses and reject each bent rule with that rule's
# error. Then python3-saml (PyPI, pinned in requirements.txt, wheels only) judges the same mocks:
# above all Destination and Recipient, which node-saml does not check, then every other bent rule
# with its own error code. Needs Node >= 18 (npm ci on first run), python3-venv and xmlsec1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

if ! command -v xmlsec1 >/dev/null 2>&1; then
  echo "FAIL xmlsec1 is not installed (apt-get install xmlsec1)" >&2
  exit 2
fi

install_npm "$here"

install_venv "$here"

start_fake "$here/scenario.yaml"
args=()
for name in $(awk 'NF >= 2 && $1 ~ /^idp/ { print $1 }' "$fake_out"); do
  args+=("$name=$(fake_url "$name")")
done
if [ "${#args[@]}" -ne 13 ]; then
  echo "FAIL expected 13 mocks, got ${#args[@]} in:" >&2
  cat "$fake_out" >&2
  exit 1
fi
status=0
node "$here/judge.mjs" "${args[@]}" || status=1
"$here/.venv/bin/python" "$here/judge_saml.py" "${args[@]}" || status=1
exit "$status"
