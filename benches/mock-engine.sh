#!/usr/bin/env bash
# Benchmark of reenact's mock engine against WireMock and Mountebank (issue 3).
#
# Serves the same stub (GET /hello -> 200 {"ok":true}) with
#   - reenact    `reenact mock serve benches/hello.yaml` (release build, default journal bound)
#   - WireMock   the standalone jar of the npm package `wiremock`, on the installed Java
#   - Mountebank the npm package `mountebank`, one HTTP imposter
# each anchor twice, at its default and at its best setting (the SERVERS names say which):
#   - wiremock-default       no flags: the request journal on, unbounded
#   - wiremock-no-journal    `--no-request-journal`, WireMock's fastest documented setting
#   - wiremock-bounded       `--max-request-journal-entries 10000` (reenact's bound; WireMock's
#                            slow path: not in the default list, kept to show why not)
#   - mountebank-default     `mb start` defaults (log level info, a log file)
#   - mountebank-quiet       `--loglevel warn --nologfile`, its fastest setting
# and loads each in turn with the same wrk run: THREADS threads, CONNECTIONS keep-alive
# connections, WARMUP seconds of warm-up (30 by default: the JVM needs it to reach its best; 3 s
# left WireMock at a third of its speed) then DURATION seconds measured with `--latency`.
# Reports requests/s, p50, p99 and the server's peak RSS (VmHWM from /proc/PID/status after the
# run) as a Markdown table, printed and written to target/bench/mock-engine.md.
#
# Then the journal-bound check: a fresh reenact mock with the default journal bound (10,000)
# gets JOURNAL_REQUESTS requests (default 1,000,000) under the same wrk load; RSS is sampled as
# the count passes 10 %, 50 % and 100 %.
#
# Everything listens on 127.0.0.1 and wrk talks only to 127.0.0.1. The only other traffic is the
# one-time installation of what is missing (apt `wrk`, npm `wiremock` and `mountebank` into
# target/bench/node) and the cargo build.
#
# Usage:   benches/mock-engine.sh
# Tuning:  THREADS=2 CONNECTIONS=16 WARMUP=30 DURATION=10 JOURNAL_REQUESTS=1000000 \
#          SERVERS="reenact wiremock-default wiremock-no-journal mountebank-default mountebank-quiet" \
#          benches/mock-engine.sh   (wiremock-bounded is the journal-bound setting, opt-in)
# Needs:   bash, curl, python3 (free ports), java 17+, node + npm; wrk is installed when missing.

set -euo pipefail

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
WARMUP=${WARMUP:-30}
DURATION=${DURATION:-10}
JOURNAL_REQUESTS=${JOURNAL_REQUESTS:-1000000}
SERVERS=${SERVERS:-"reenact wiremock-default wiremock-no-journal mountebank-default mountebank-quiet"}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/target/bench"
NODE_PREFIX="$OUT/node"
CARGO_OUT=${CARGO_TARGET_DIR:-$ROOT/target}
REENACT="$CARGO_OUT/release/reenact"
SCENARIO="$ROOT/benches/hello.yaml"
LOGS="$OUT/logs"
HOST=127.0.0.1

mkdir -p "$OUT" "$LOGS"

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Servers started by this script; the trap stops them on every exit path. ---------------
PIDS=()
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Tools -------------------------------------------------------------------------------------
install_tools() {
    command -v curl >/dev/null || die "curl is needed"
    command -v python3 >/dev/null || die "python3 is needed (to pick free ports)"
    command -v java >/dev/null || die "java (17 or later) is needed for WireMock"
    command -v npm >/dev/null || die "node and npm are needed for WireMock's launcher and Mountebank"
    if ! command -v wrk >/dev/null; then
        say "installing wrk (apt)"
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null
    fi
    if [ ! -f "$NODE_PREFIX/node_modules/mountebank/bin/mb" ] ||
        ! ls "$NODE_PREFIX"/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1; then
        say "installing wiremock and mountebank (npm, into target/bench/node)"
        npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error \
            wiremock mountebank >/dev/null
    fi
    WIREMOCK_JAR=$(ls "$NODE_PREFIX"/node_modules/wiremock/build/wiremock-standalone-*.jar | head -1)
    MB="$NODE_PREFIX/node_modules/mountebank/bin/mb"
    say "building reenact (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin reenact)
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Wait until GET URL answers 200 (or time out).
wait_http() {
    local url=$1 pid=$2
    for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || die "the server exited before it was ready; see $LOGS"
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    die "$url did not answer 200 within 60 s"
}

status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# --- Starting each server; each sets SERVER_PID and URL. ---------------------------------------
start_reenact() {
    local port admin
    NAME=${NAME:-reenact}
    port=$(free_port)
    admin=$(free_port)
    "$REENACT" mock serve "$SCENARIO" --host "$HOST" --port "$port" --admin-port "$admin" \
        >"$LOGS/$NAME.out" 2>"$LOGS/$NAME.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 600); do
        grep -qx ready "$LOGS/$NAME.out" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "reenact exited; see $LOGS/$NAME.err"
        sleep 0.05
    done
    URL="http://$HOST:$port/hello"
    ADMIN_URL="http://$HOST:$admin"
    VERSION=$("$REENACT" --version | awk '{ print $2 }')
    NOTES="default journal bound (10,000)"
    wait_http "$URL" "$SERVER_PID"
}

# WireMock with the extra flags in $1 (none = its defaults); $2 describes the setting.
start_wiremock_with() {
    local flags=$1 setting=$2 port root="$OUT/wiremock"
    port=$(free_port)
    mkdir -p "$root/mappings" "$root/__files"
    cat >"$root/mappings/hello.json" <<'EOF'
{
  "request": { "method": "GET", "url": "/hello" },
  "response": {
    "status": 200,
    "headers": { "Content-Type": "application/json" },
    "jsonBody": { "ok": true }
  }
}
EOF
    # shellcheck disable=SC2086 # $flags is a list of flags
    java -jar "$WIREMOCK_JAR" --port "$port" --bind-address "$HOST" --root-dir "$root" \
        --disable-banner $flags >"$LOGS/$NAME.out" 2>"$LOGS/$NAME.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    URL="http://$HOST:$port/hello"
    VERSION=$(basename "$WIREMOCK_JAR" .jar | sed 's/wiremock-standalone-//')
    NOTES="java $(java -version 2>&1 | awk -F'"' 'NR == 1 { print $2 }'), default JVM flags, $setting"
    wait_http "$URL" "$SERVER_PID"
}
start_wiremock-default() { start_wiremock_with "" "default: journal on, unbounded"; }
start_wiremock-no-journal() { start_wiremock_with "--no-request-journal" "best: --no-request-journal"; }
start_wiremock-bounded() {
    start_wiremock_with "--max-request-journal-entries 10000" \
        "slow path: --max-request-journal-entries 10000"
}

# Mountebank with the extra flags in $1 (none = its defaults: log level info, a log file);
# $2 describes the setting.
start_mountebank_with() {
    local flags=$1 setting=$2 port admin
    port=$(free_port)
    admin=$(free_port)
    # shellcheck disable=SC2086 # $flags is a list of flags
    (cd "$LOGS" && exec node "$MB" start --port "$admin" --host "$HOST" --localOnly $flags \
        --pidfile "$OUT/mb.pid" >"$LOGS/$NAME.out" 2>"$LOGS/$NAME.err") &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_http "http://$HOST:$admin/" "$SERVER_PID"
    # Mountebank answers `Connection: close` unless the response says otherwise; keep-alive is
    # what the other servers do and what wrk measures.
    curl -sf -o /dev/null -X POST "http://$HOST:$admin/imposters" \
        -H 'Content-Type: application/json' --data @- <<EOF
{
  "protocol": "http",
  "port": $port,
  "host": "$HOST",
  "recordRequests": false,
  "stubs": [{
    "predicates": [{ "equals": { "method": "GET", "path": "/hello" } }],
    "responses": [{ "is": {
      "statusCode": 200,
      "headers": { "Content-Type": "application/json", "Connection": "keep-alive" },
      "body": "{\"ok\":true}"
    } }]
  }]
}
EOF
    URL="http://$HOST:$port/hello"
    VERSION=$(node -p "require('$NODE_PREFIX/node_modules/mountebank/package.json').version")
    NOTES="node $(node --version), $setting, request recording off, keep-alive header set"
    wait_http "$URL" "$SERVER_PID"
}

start_mountebank-default() { start_mountebank_with "" "default: log level info, log file"; }
start_mountebank-quiet() { start_mountebank_with "--loglevel warn --nologfile" "best: --loglevel warn --nologfile"; }

# --- One measured run --------------------------------------------------------------------------
# Latency as wrk prints it (e.g. 512.00us, 1.20ms, 1.05s) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n
    }'
}

ROWS=()
declare -A RPS P99 RSS
bench() {
    local name=$1
    NAME=$name
    say "$name: starting"
    "start_$name"
    say "$name: $VERSION on $URL (pid $SERVER_PID); warm-up ${WARMUP}s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$URL" >/dev/null
    say "$name: measuring ${DURATION}s"
    local report="$LOGS/$name.wrk"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" | tee "$report" >&2
    local hwm rps p50 p99 errors
    hwm=$(status_kb "$SERVER_PID" VmHWM)
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$report")
    p50=$(awk '$1 == "50%" { print $2 }' "$report")
    p99=$(awk '$1 == "99%" { print $2 }' "$report")
    errors=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$report")
    RPS[$name]=$rps
    P99[$name]=$(to_ms "$p99")
    RSS[$name]=$hwm
    ROWS+=("| $name | $VERSION | $rps | $p50 | $p99 | $(mib "$hwm") | ${errors:-none} | $NOTES |")
    stop_pid "$SERVER_PID"
}

# --- The journal-bound check -------------------------------------------------------------------
SAMPLES=()
journal_check() {
    say "journal bound: $JOURNAL_REQUESTS requests to a fresh reenact mock"
    NAME=reenact-journal
    start_reenact
    # One long wrk run; the stub's `served` count from the control API (a tiny answer) is polled
    # and RSS sampled as it passes each mark, then wrk is stopped. (wrk has no request count, and
    # a Lua `wrk.thread:stop()` still leaves its main thread sleeping for the full duration.)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3600s "$URL" >"$LOGS/journal.wrk" &
    local wrk_pid=$!
    PIDS+=("$wrk_pid")
    local served=0 target
    for fraction in 10 50 100; do
        target=$((JOURNAL_REQUESTS * fraction / 100))
        while [ "$served" -lt "$target" ]; do
            kill -0 "$wrk_pid" 2>/dev/null || die "wrk stopped early; see $LOGS/journal.wrk"
            sleep 0.1
            served=$(curl -sf "$ADMIN_URL/__reenact/state" | sed -E 's/.*"served":([0-9]+).*/\1/')
        done
        local rss hwm
        rss=$(status_kb "$SERVER_PID" VmRSS)
        hwm=$(status_kb "$SERVER_PID" VmHWM)
        SAMPLES+=("| $served | $(mib "$rss") | $(mib "$hwm") |")
        say "after $served requests: VmRSS $(mib "$rss"), VmHWM $(mib "$hwm")"
    done
    # SIGINT makes wrk print its statistics before it exits.
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true
    local journal
    journal=$(curl -sf "$ADMIN_URL/__reenact/journal" |
        python3 -c 'import json, sys; j = json.load(sys.stdin); print(len(j["entries"]), j["dropped"])')
    JOURNAL_STATE="journal after the run: ${journal% *} entries kept, ${journal#* } dropped (counted)"
    stop_pid "$SERVER_PID"
}

# --- Main --------------------------------------------------------------------------------------
install_tools
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for server in $SERVERS; do bench "$server"; done
if [ "$JOURNAL_REQUESTS" -gt 0 ]; then journal_check; fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

{
    echo "# reenact mock engine benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)."
    echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER. wrk shares the cores with the server."
    echo
    echo "wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'): $THREADS threads, $CONNECTIONS keep-alive connections, ${WARMUP}s warm-up, ${DURATION}s measured, loopback."
    echo "Stub: GET /hello -> 200 application/json {\"ok\":true}."
    echo
    echo "| server | version | requests/s | p50 | p99 | peak RSS (VmHWM) | errors | settings |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    if [ -n "${RPS[reenact]:-}" ]; then
        echo
        echo "reenact against each anchor setting (requests/s: higher is better for reenact above 1;"
        echo "p99 and peak RSS: below 1 is better):"
        echo
        echo "| against | requests/s | p99 | peak RSS |"
        echo "| --- | ---: | ---: | ---: |"
        for server in $SERVERS; do
            [ "$server" = reenact ] && continue
            [ -n "${RPS[$server]:-}" ] || continue
            echo "| $server | $(ratio "${RPS[reenact]}" "${RPS[$server]}")x |" \
                "$(ratio "${P99[reenact]}" "${P99[$server]}") |" \
                "$(ratio "${RSS[reenact]}" "${RSS[$server]}") |"
        done
    fi
    if [ "${#SAMPLES[@]}" -gt 0 ]; then
        echo
        echo "Journal bound (default 10,000 entries), one reenact mock, RSS after N requests:"
        echo
        echo "| requests served | VmRSS | VmHWM |"
        echo "| ---: | ---: | ---: |"
        printf '%s\n' "${SAMPLES[@]}"
        echo
        echo "$JOURNAL_STATE."
    fi
} >"$OUT/mock-engine.md"

echo
cat "$OUT/mock-engine.md"
echo
say "written to target/bench/mock-engine.md (wrk output and server logs in target/bench/logs)"
