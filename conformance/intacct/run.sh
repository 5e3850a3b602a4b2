#!/usr/bin/env bash
# Sage's official Intacct SDK, @intacct/intacct-sdk (npm, pinned with package-lock.json), judges
# reenact's `provider: intacct` fake: judge.mjs signs in, opens an API session and follows its
# endpoint, creates, reads back, pages with readByQuery/readMore and provokes the errors the SDK
# turns into ResponseException/ResultException. Needs Node >= 14.20 (npm ci on first run).
#
# One override, in judge.mjs: the SDK refuses any endpoint whose host does not end in
# `.intacct.com` (dist/Credentials/Endpoint.js `isDomainValid`), and it validates the endpoint
# both when a client is built and when it adopts the <endpoint> getAPISession answers. The judge
# wraps that static method to also accept 127.0.0.1, the fake's address; nothing else changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_npm "$here"

start_fake "$here/scenario.yaml"
url="$(fake_url intacct)"
limited="$(fake_url limited)"
if [ -z "$url" ] || [ -z "$limited" ]; then
  echo "FAIL no URL for mock intacct or limited in:" >&2
  cat "$fake_out" >&2
  exit 1
fi

node "$here/judge.mjs" "$url" "$limited"
