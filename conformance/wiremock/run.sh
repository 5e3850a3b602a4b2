#!/usr/bin/env bash
# The real WireMock judges `reenact import wiremock`: the standalone jar of npm `wiremock@3.13.2`
# (pinned with package-lock.json, installed into node_modules here, git-ignored; Java 11+) serves
# the mapping corpus in corpus/ (mappings/ and __files/), reenact imports the same corpus as a
# mock definition and serves it (`reenact mock serve`), and compare.py sends every case of
# cases.json to both, in order, comparing what a client sees: error class (answer, empty reply,
# reset), status, body and the headers a case names. One line per case; non-zero exit on a
# difference. The import must also carry the corpus over without a warning.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

install_npm "$here"
jar="$here/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar"
if [ ! -f "$jar" ]; then
  echo "FAIL no WireMock jar at $jar" >&2
  exit 2
fi
if ! command -v java >/dev/null; then
  echo "FAIL java is missing (Debian: apt-get install default-jre-headless)" >&2
  exit 2
fi
if [ ! -x "$REENACT_BIN" ]; then
  echo "FAIL no reenact binary at $REENACT_BIN (cargo build --bin reenact)" >&2
  exit 2
fi

scratch="$(mktemp -d)"
wiremock_pid=""
# Stops WireMock and reenact and removes the scratch folder, however the script exits. `start_fake`
# (lib.sh) sets its own EXIT trap, so this one is set again after it.
cleanup() {
  if [ -n "$wiremock_pid" ] && kill -0 "$wiremock_pid" 2>/dev/null; then
    kill -TERM "$wiremock_pid" 2>/dev/null || true
    wait "$wiremock_pid" 2>/dev/null || true
  fi
  stop_fake
  rm -rf "$scratch"
}
trap cleanup EXIT

# The import: every mapping of the corpus carries over, without a warning.
: >"$scratch/reenact.toml"
"$REENACT_BIN" import wiremock "$here/corpus" --name wm --mocks "$scratch/mocks" --color never \
  >"$scratch/import.out" 2>&1 || { cat "$scratch/import.out" >&2; exit 1; }
if ! grep -q "0 mappings skipped, 0 warnings" "$scratch/import.out"; then
  echo "FAIL the import warned or skipped:" >&2
  cat "$scratch/import.out" >&2
  exit 1
fi
echo "ok   import: $(head -1 "$scratch/import.out")"
cat >"$scratch/serve.yaml" <<'YAML'
id: wiremock-judge
title: the imported WireMock corpus
mocks:
  wm: { include: mocks/wm.yaml }
flow:
  - request: { mock: wm, method: GET, path: /__judge }
YAML
start_fake "$scratch/serve.yaml"
trap cleanup EXIT
reenact_url="$(fake_url wm)"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
java -jar "$jar" --port "$port" --bind-address 127.0.0.1 --root-dir "$here/corpus" \
  --disable-banner --no-request-journal >"$scratch/wiremock.log" 2>&1 &
wiremock_pid=$!
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/__admin/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$wiremock_pid" 2>/dev/null; then
    echo "FAIL WireMock exited:" >&2
    cat "$scratch/wiremock.log" >&2
    exit 1
  fi
  sleep 0.1
done
python3 "$here/compare.py" "$here/cases.json" "http://127.0.0.1:$port" "$reenact_url"
