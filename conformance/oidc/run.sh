#!/usr/bin/env bash
# openid-client (npm, pinned with package-lock.json; an OpenID Foundation certified relying
# party) judges reenact's `provider: oidc` fake: judge.mjs discovers each mock of scenario.yaml,
# runs the code flow with PKCE, validates the ID token, refreshes, uses client credentials and
# userinfo, and checks that each bent claim (iss, aud, exp, nbf, nonce, kid, signature, a kid
# rotation the client's cached JWKS missed, Entra's `{tenantid}` issuer) is rejected by the
# library's own check with its own error. Needs Node >= 18 (global fetch; npm ci on first run).
# No override: the library runs as shipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_npm "$here"

start_fake "$here/scenario.yaml"
if [ -z "$(fake_url idp)" ]; then
  echo "FAIL no URL for mock idp in:" >&2
  cat "$fake_out" >&2
  exit 1
fi

node "$here/judge.mjs" "$fake_out"
