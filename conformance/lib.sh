# Shared by the judges' run.sh (sourced, not run): install a pinned Python client into a venv
# or a locked npm tree,
# start `reenact mock serve` on a judge's scenario, wait for `ready`, stop it on every exit path,
# and read the URLs it printed (`NAME  URL  admin ADMIN_URL` per mock).
#
# REENACT_BIN names the binary judged (default: target/debug/reenact of this checkout).

conformance_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REENACT_BIN="${REENACT_BIN:-$conformance_root/target/debug/reenact}"
fake_out=""
fake_pid=""

# Install requirements.txt of DIR (every package pinned with ==) into DIR/.venv, unless the venv
# already holds exactly that file's pins.
install_venv() {
  local dir="$1" venv="$1/.venv"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(sha256sum "$dir/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$dir/requirements.txt"
    "$venv/bin/pip" check --disable-pip-version-check
    echo "$want" >"$stamp"
  fi
}

# Install the npm packages of DIR's package-lock.json (`npm ci`), unless DIR/node_modules
# already holds exactly that lock file's tree.
install_npm() {
  local dir="$1"
  local stamp="$dir/node_modules/.reenact-lock.sha256"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

stop_fake() {
  if [ -n "$fake_pid" ] && kill -0 "$fake_pid" 2>/dev/null; then
    kill -TERM "$fake_pid" 2>/dev/null || true
    wait "$fake_pid" 2>/dev/null || true
  fi
  if [ -n "$fake_out" ]; then rm -f "$fake_out"; fi
}

# Serve the mocks of SCENARIO and wait (at most 30 s) until they are ready; they are stopped when
# the script exits, however it exits.
start_fake() {
  local scenario="$1"
  if [ ! -x "$REENACT_BIN" ]; then
    echo "FAIL no reenact binary at $REENACT_BIN (cargo build --bin reenact)" >&2
    exit 2
  fi
  fake_out="$(mktemp)"
  trap stop_fake EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "$REENACT_BIN" mock serve --color never "$scenario" >"$fake_out" 2>&1 &
  fake_pid=$!
  for _ in $(seq 1 300); do
    if grep -qx ready "$fake_out"; then return 0; fi
    if ! kill -0 "$fake_pid" 2>/dev/null; then
      echo "FAIL reenact mock serve exited before it was ready:" >&2
      cat "$fake_out" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "FAIL the mocks were not ready within 30 s:" >&2
  cat "$fake_out" >&2
  exit 1
}

# The URL (fake_url) or the admin URL (fake_admin) of mock NAME, as `mock serve` printed them.
fake_url() { awk -v name="$1" '$1 == name { print $2 }' "$fake_out"; }
fake_admin() { awk -v name="$1" '$1 == name { print $4 }' "$fake_out"; }
