#!/usr/bin/env bash
# Headless Chromium (Debian's `chromium`, driven by playwright-core, pinned with
# package-lock.json; no browser download) judges reenact's HTML report: `reenact report html`
# renders the fixtures of tests/fixtures/reports/ (every field of docs/reports.md, planted
# markup, a fault, a failed step, error and not-run items) and real reports of the demo (`run`
# of scenarios/, `validate` of the xero scenarios), and judge.mjs opens each page with every
# request blocked and counted. It fails on a console or page error, a request, a verdict table
# or timeline that disagrees with the JSON, a filter that hides the wrong rows, or a planted
# script that ran; then it breaks a page on purpose and checks that it fails that too.
# Screenshots go to conformance/html/out/ (ignored by git).
#
# HTML_JUDGE_SCENARIOS names the demo scenarios run (default: scenarios/, all of them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
cd "$here"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
install_npm "$here"

if [ ! -x "$REENACT_BIN" ]; then
  echo "FAIL no reenact binary at $REENACT_BIN (cargo build --bin reenact)" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cases=()

for kind in run validate; do
  "$REENACT_BIN" report html "$root/tests/fixtures/reports/$kind.json" -o "$work/fixture-$kind.html"
  cases+=("fixture-$kind=$root/tests/fixtures/reports/$kind.json=$work/fixture-$kind.html")
done

# Real reports of the demo target (the first run builds it). Exit 1 (a scenario failed) still
# gives a whole report; anything else does not.
demo() {
  local name="$1"
  shift
  local code=0
  "$REENACT_BIN" "$@" --format json >"$work/$name.json" || code=$?
  if [ "$code" -gt 1 ]; then
    echo "FAIL \`reenact $*\` exited with $code: no report to render" >&2
    exit 1
  fi
  "$REENACT_BIN" report html "$work/$name.json" -o "$work/$name.html"
  cases+=("$name=$work/$name.json=$work/$name.html")
}
cd "$root"
read -r -a scenarios <<<"${HTML_JUDGE_SCENARIOS:-scenarios/}"
demo demo-run run "${scenarios[@]}" --target ledger-sync@1.4.3
demo demo-validate validate scenarios/xero-*.yaml --before ledger-sync@1.4.2 --after ledger-sync@1.4.3

node "$here/judge.mjs" "$here/out" "${cases[@]}"
