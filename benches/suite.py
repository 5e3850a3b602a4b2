#!/usr/bin/env python3
"""Benchmark of a suite of scenarios (issue 15): wall time, per-scenario overhead, peak memory.

Two generated suites of SCENARIOS scenarios each (200 by default), in target/bench/suite/:

- **demo**: the demo incidents (scenarios/*.yaml) cycled until there are SCENARIOS of them, each
  with a new id, against the demo target `ledger-sync@1.4.3` (release build, one process per
  scenario, as `reenact run` always does). Snapshots are recorded by one warm-up run
  (`--accept`, not measured); the measured runs compare against them. Measured with -j1 and -j2:
  the wall time of the whole `reenact run`, its peak RSS, and the median of the scenarios'
  `duration_ms`.
- **overhead**: a minimal scenario (one mock, one stub, a request to the mock, a request to the
  target's /healthz, an expectation on the mock's journal, a snapshot) against one long-running
  demo target given by `--target-url`, so no target process starts per scenario: what remains is
  reenact's own cost per scenario (loading, starting and stopping the mocks, the flow's round
  trips, judging, the snapshot). Per-scenario overhead = (wall of SCENARIOS scenarios - wall of
  one) / (SCENARIOS - 1), which takes reenact's own start-up out. Measured in-process (-j1) and,
  when a Docker engine answers, with the mocks in Docker containers reused across the suite
  (`--backend docker --reuse`, -j1 and -j2; one unmeasured warm-up run builds the mock image).

Every measured run must pass every scenario, or the benchmark stops: a fast failure is not a
result. Peak RSS is GNU time's %M (the largest resident set of reenact and the processes it
waited for). Everything runs on 127.0.0.1; nothing is downloaded.

Usage:   benches/suite.py
Tuning:  SCENARIOS=200 REPEAT=3 DOCKER=auto|off benches/suite.py
         (REPEAT: measured runs of each configuration; the table gives the median)
Output:  a Markdown table on stdout, also written to target/bench/suite.md.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARGO_OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
if not CARGO_OUT.is_absolute():
    CARGO_OUT = ROOT / CARGO_OUT
REENACT = CARGO_OUT / "release" / "reenact"
LEDGER_SYNC = CARGO_OUT / "release" / "examples" / "ledger-sync"
WORK = CARGO_OUT / "bench" / "suite"
SCENARIOS = int(os.environ.get("SCENARIOS", "200"))
REPEAT = int(os.environ.get("REPEAT", "3"))
DOCKER = os.environ.get("DOCKER", "auto")


def say(text):
    print(f"==> {text}", file=sys.stderr, flush=True)


def build():
    say("cargo build --release --bin reenact --example ledger-sync")
    subprocess.run(
        ["cargo", "build", "--release", "--bin", "reenact", "--example", "ledger-sync"],
        cwd=ROOT,
        check=True,
    )


def toml_target(name, release):
    command = json.dumps([str(LEDGER_SYNC), "--release", release, "--port", "{{ target.port }}"])
    return f'[targets."{name}"]\ncommand = {command}\n'


def demo_project():
    """The demo incidents cycled to SCENARIOS files, each with its own id."""
    project = WORK / "demo"
    shutil.rmtree(project, ignore_errors=True)
    (project / "scenarios").mkdir(parents=True)
    shutil.copytree(ROOT / "mocks", project / "mocks")
    shutil.copytree(ROOT / "scenarios" / "payloads", project / "scenarios" / "payloads")
    (project / "reenact.toml").write_text(toml_target("ledger-sync@1.4.3", "1.4.3"))
    sources = sorted((ROOT / "scenarios").glob("*.yaml"))
    for n in range(SCENARIOS):
        source = sources[n % len(sources)]
        text = source.read_text()
        text, found = re.subn(r"(?m)^id: (\S+)$", lambda m: f"id: {m.group(1)}-{n:03}", text, 1)
        assert found == 1, f"no `id:` line in {source}"
        (project / "scenarios" / f"{n:03}-{source.name}").write_text(text)
    return project


OVERHEAD_SCENARIO = """\
id: overhead-{n:03}
title: Overhead probe {n}
mocks:
  api:
    stubs:
      - name: create a bill
        request: {{ method: POST, path: /bills }}
        response: {{ status: 201, json: {{ id: b-{n:03} }} }}
flow:
  - name: create a bill on the mock
    request: {{ mock: api, method: POST, path: /bills, json: {{ n: {n} }} }}
    expect: {{ status: 201 }}
  - name: the target answers
    request: {{ method: GET, path: /healthz }}
    expect: {{ status: 200 }}
expect:
  - name: one bill was created
    mock: api
    request: {{ method: POST, path: /bills }}
    count: 1
"""


def overhead_project(count, name):
    project = WORK / name
    shutil.rmtree(project, ignore_errors=True)
    (project / "scenarios").mkdir(parents=True)
    (project / "reenact.toml").write_text("# benches/suite.py: targets come from --target-url\n")
    for n in range(count):
        (project / "scenarios" / f"overhead-{n:03}.yaml").write_text(
            OVERHEAD_SCENARIO.format(n=n)
        )
    return project


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(project, args, expect_all_passed=True):
    """Run `reenact run ARGS` in PROJECT; (wall seconds, peak RSS KiB, median duration_ms,
    scenarios, sum of duration_ms in seconds)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.monotonic()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", timing.name, str(REENACT), "run", "scenarios/"]
            + args
            + ["--format", "json"],
            cwd=project,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        rss_kib = int(timing.read().strip().splitlines()[-1])
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"reenact run {' '.join(args)} gave no report (exit {done.returncode}):\n{done.stderr[-3000:]}")
    items = report["scenarios"]
    bad = [i for i in items if i["outcome"] != "passed"]
    if expect_all_passed and (bad or done.returncode != 0):
        detail = "; ".join(f"{i['id']}: {i['outcome']} {i.get('error') or ''}" for i in bad[:5])
        sys.exit(f"reenact run {' '.join(args)} in {project}: exit {done.returncode}, {len(bad)} not passed: {detail}\n{done.stderr[-2000:]}")
    durations = [i["duration_ms"] for i in items]
    return wall, rss_kib, statistics.median(durations), len(items), sum(durations) / 1000


def measured(project, args):
    """REPEAT runs; the run with the median wall time."""
    runs = sorted((run(project, args) for _ in range(REPEAT)), key=lambda r: r[0])
    return runs[len(runs) // 2]


def docker_answers():
    if DOCKER == "off":
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def main():
    build()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    cpus = os.cpu_count()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]

    demo = demo_project()
    say(f"demo suite: {SCENARIOS} scenarios, warm-up run recording snapshots")
    run(demo, ["--target", "ledger-sync@1.4.3", "-j", "2", "--accept"])
    for jobs in ("1", "2"):
        say(f"demo suite -j{jobs}, {REPEAT} runs")
        wall, rss, median_ms, n, total = measured(demo, ["--target", "ledger-sync@1.4.3", "-j", jobs])
        rows.append(("demo incidents, a target process each", "in-process", jobs, n, wall, wall / n * 1000, median_ms, total, rss))

    port = free_port()
    target = subprocess.Popen(
        [str(LEDGER_SYNC), "--release", "1.4.3", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    overhead = {}
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        big = overhead_project(SCENARIOS, "overhead")
        one = overhead_project(1, "overhead-one")
        configs = [("in-process", ["--backend", "inprocess"], ["1"])]
        if docker_answers():
            configs.append(("docker, containers reused", ["--backend", "docker", "--reuse"], ["1", "2"]))
        else:
            say("no Docker engine answers (or DOCKER=off): the Docker rows are not measured")
        for backend, flags, jobs_list in configs:
            say(f"overhead suite, {backend}: warm-up")
            run(big, ["--target-url", url, "-j", "2", "--accept"] + flags)
            run(one, ["--target-url", url, "--accept"] + flags)
            for jobs in jobs_list:
                say(f"overhead suite, {backend}, -j{jobs}, {REPEAT} runs")
                wall, rss, median_ms, n, total = measured(big, ["--target-url", url, "-j", jobs] + flags)
                wall_one = measured(one, ["--target-url", url] + flags)[0]
                per = (wall - wall_one) / (n - 1) * 1000
                overhead[(backend, jobs)] = per
                rows.append(("minimal scenario, one shared target", backend, jobs, n, wall, per, median_ms, total, rss))
    finally:
        os.killpg(target.pid, signal.SIGTERM)
        target.wait()

    with open("/proc/loadavg") as f:
        load_after = f.read().split()[0]
    version = subprocess.run([str(REENACT), "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"{version}, {cpus} CPUs, {REPEAT} runs per row (the median by wall time), "
        f"load average {load_before} before and {load_after} after.",
        "",
        "| suite | mocks | -j | scenarios | wall | per scenario | median `duration_ms` | sum of `duration_ms` | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for suite, backend, jobs, n, wall, per, median_ms, total, rss in rows:
        lines.append(
            f"| {suite} | {backend} | {jobs} | {n} | {wall:.1f} s | {per:.1f} ms | {median_ms:.0f} ms | {total:.1f} s | {rss / 1024:.0f} MiB |"
        )
    lines += [
        "",
        "`per scenario`: the demo rows give wall / scenarios; the minimal rows give the overhead, "
        "(wall of the suite - wall of a one-scenario suite) / (scenarios - 1). `duration_ms`: each "
        "scenario's own run (mocks, target, flow, teardown) as the JSON report gives it.",
    ]
    table = "\n".join(lines)
    print(table)
    (CARGO_OUT / "bench" / "suite.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
