#!/usr/bin/env bash
# Independent parsers judge reenact's bank fake (`provider: bank`), each on the formats it reads:
# `mt940_bai2.py` with mt-940 (wolph/mt940) and bai2 (ministryofjustice/bai2), and `camt.py`
# (when present) for camt.053. The pins are in requirements.txt.
#
# 1. Installs the pins into conformance/bank/.venv (git-ignored); skipped when the venv exists and
#    requirements.txt is unchanged since it was made (`install_venv` of ../lib.sh).
# 2. Starts the fake of scenario.yaml (camt.py: camt-scenario.yaml when present) with
#    `$REENACT_BIN mock serve` and reads the URL of its mock `bank`.
# 3. Runs the judge script against it (`--url URL --scenario PATH`): it lists and downloads the
#    statement files over HTTP (`GET /statements`, `GET /statements/{name}`), parses them and
#    compares every balance and transaction with the ledger the scenario declares; one line per
#    check, non-zero on a failure.
# The fake is stopped (SIGTERM) on every exit path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_venv "$here"
status=0
# judge script and the scenario whose fake it reads (camt.py: camt-scenario.yaml when present).
run_judge() {
  local judge="$1" scenario="$2"
  printf '\n-- %s on %s\n' "$judge" "$(basename "$scenario")"
  start_fake "$scenario"
  "$here/.venv/bin/python" "$here/$judge" --url "$(fake_url bank)" --scenario "$scenario" || status=1
  stop_fake
}
run_judge mt940_bai2.py "$here/scenario.yaml"
if [ -f "$here/camt.py" ]; then
  camt_scenario="$here/scenario.yaml"
  if [ -f "$here/camt-scenario.yaml" ]; then camt_scenario="$here/camt-scenario.yaml"; fi
  run_judge camt.py "$camt_scenario"
fi
exit "$status"
