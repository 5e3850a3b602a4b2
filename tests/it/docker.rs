//! Docker backend tests: the mock image built without a registry, one mock container answering a
//! stub (the smoke test that catches a Docker client the engine rejects), every demo scenario
//! giving the same normalized observation, behaviour and verdict with mocks and the demo target in
//! containers as in-process, a container target's failures and logs, mock container logs,
//! `reenact image`, kill trials (nothing left behind after SIGINT or SIGTERM at several moments,
//! or after SIGKILL and a sweep), `reenact clean` sweeping a dead run's leftover and keeping a
//! live run's, the start-up sweep of a dead run's, the run network resolving declared names only,
//! an HTTPS mock serving the run CA's certificate from its container, reuse across a suite, a
//! login through IdPs under their vendors' hostnames, a bank's statements from its container,
//! and the same statements over SFTP from its container.
//!
//! They need a Docker engine, so plain `cargo test` lists them as ignored with that reason (a
//! skipped test is never counted as passed). `.ci/run` starts an engine and runs them with
//! `cargo test --test it -- --ignored docker::`; run them by hand the same way. Asked to run
//! without a reachable engine, they fail and say how to get one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::support::kill::{self, Moment, Place, Sweep};
use crate::support::{demo, repo};
use reenact::backend::docker::{self, DockerBackend};
use reenact::backend::{BackendError, Placement, RunMocks, image, labels, new_run_id};
use reenact::exit_codes;
use reenact::run::TargetError;
use reenact::run::{self, RunContext, TargetChoice};
use reenact::scenario::{self, Scenario};
use reenact::verdict::{Behaviour, judge};
use testcontainers::bollard::Docker;
use testcontainers::bollard::models::{ContainerCreateBody, NetworkCreateRequest};
use testcontainers::bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
};

/// Docker tests share one engine and count what is left on it, so they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn reenact_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_reenact"))
}

/// The engine; asked to run without one, the test fails and says how to get one.
async fn engine() -> Docker {
    match docker::connect_engine().await {
        Ok(docker) => docker,
        Err(err) => panic!(
            "no Docker engine reachable (set DOCKER_HOST or start dockerd; on Debian: apt-get install docker.io): {err}"
        ),
    }
}

async fn backend() -> DockerBackend {
    DockerBackend::connect_with_engine(reenact_bin())
        .await
        .expect("the mock image builds and the engine answers")
}

/// The demo at `release` as a process on the host.
fn demo_target(release: &str) -> TargetChoice {
    let command = [
        &demo().display().to_string(),
        "--release",
        release,
        "--port",
        "{{ target.port }}",
    ]
    .map(str::to_owned)
    .to_vec();
    TargetChoice {
        label: format!("ledger-sync@{release}"),
        def: Some(reenact::project::TargetDef {
            command: Some(command),
            ..Default::default()
        }),
    }
}

/// The arguments of the demo at `release` in a container: listening on every address of the
/// container, at the port reenact says.
fn demo_container_args(release: &str) -> Vec<String> {
    [
        "--release",
        release,
        "--host",
        "0.0.0.0",
        "--port",
        "{{ target.port }}",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The demo at `release` as a container of `image`.
fn demo_container(image: &str, release: &str) -> TargetChoice {
    TargetChoice {
        label: format!("ledger-sync@{release}-container"),
        def: Some(reenact::project::TargetDef {
            image: Some(image.to_owned()),
            command: Some(demo_container_args(release)),
            ..Default::default()
        }),
    }
}

/// The demo binary as an image, the way `reenact image` makes it.
async fn demo_image(docker: &Docker) -> String {
    image::ensure_target_image(docker, demo(), None)
        .await
        .expect("the demo target images")
}

fn demo_scenarios() -> Vec<Scenario> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .iter()
        .map(|file| scenario::load(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
        .collect()
}

async fn containers_with(docker: &Docker, label: &str, value: &str) -> Vec<String> {
    docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&labels::filter(label, value))
                .build(),
        ))
        .await
        .expect("containers list")
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

async fn networks_with(docker: &Docker, label: &str, value: &str) -> Vec<String> {
    docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&labels::filter(label, value))
                .build(),
        ))
        .await
        .expect("networks list")
        .into_iter()
        .filter_map(|n| n.name)
        .collect()
}

const SMOKE: &str = r#"
id: docker-smoke
title: one stub from a mock container
ticket: SMOKE-1
customers: [test]
severity: sev4
tags: [docker]
root_cause: unknown
clock: { start: 2026-10-31T23:00:00Z }
mocks:
  erp:
    stubs:
      - request: { method: GET, path: /v1/health }
        response: { status: 200, json: { ok: true } }
target:
  url: http://127.0.0.1:9
flow:
  - name: never replayed here
    request: { method: GET, path: /healthz }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn smoke_one_mock_container_answers_a_stub() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let started = std::time::Instant::now();
    let placement = Placement::Docker(backend().await);
    let image_ready = started.elapsed();
    let scenario = scenario::load_bytes(&repo().join("smoke.yaml"), repo(), SMOKE.as_bytes())
        .expect("valid smoke scenario");
    let http = run::http_client();
    let run_id = new_run_id();
    let mut mocks = placement.open_run(&run_id).await.expect("run network");
    let started = std::time::Instant::now();
    let placed = mocks
        .start_mock(&scenario.mocks[0], &scenario.clock, None, &http)
        .await;
    let ready = started.elapsed();
    let answer = match &placed {
        Ok(placed) => {
            assert!(
                placed.url.starts_with("http://127.0.0.1:"),
                "{}",
                placed.url
            );
            let response = http
                .get(format!("{}/v1/health", placed.url))
                .send()
                .await
                .expect("the mock answers");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(_) => (0, String::new()),
    };
    let closing = std::time::Instant::now();
    mocks.close().await;
    let _ = writeln!(
        std::io::stderr(),
        "docker smoke: image ready {image_ready:?}, mock start to configured {ready:?}, teardown {:?}",
        closing.elapsed()
    );
    placed.expect("the mock container starts");
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1, r#"{"ok":true}"#);
    assert!(
        containers_with(&docker, labels::RUN, &run_id)
            .await
            .is_empty()
    );
    assert!(
        networks_with(&docker, labels::RUN, &run_id)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn every_scenario_observes_the_same_in_containers_as_in_process() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let docker_placement = Placement::Docker(backend().await);
    let image = demo_image(&docker).await;
    let http = run::http_client();
    let scenarios = demo_scenarios();
    assert!(scenarios.len() >= 5, "too few scenarios to compare");
    // With the target as a process, mocks in containers cannot reach it for webhooks: that
    // scenario is refused (and only that one); with the target as a container, nothing is.
    let process_refused: Vec<&str> = scenarios
        .iter()
        .filter(|s| !run::unsupported(s, &demo_target("1.4.3"), true).is_empty())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        process_refused,
        [
            "quickbooks-webhook-cloudevents-refused",
            "webhook-signature-checked-over-reserialized-body"
        ]
    );
    for scenario in scenarios
        .iter()
        .filter(|s| process_refused.contains(&s.id.as_str()))
    {
        let ctx = RunContext {
            http: &http,
            project_root: repo(),
            placement: &docker_placement,
        };
        match run::run_scenario(scenario, &demo_target("1.4.3"), &ctx).await {
            Err(run::RunError::Backend { source, .. })
                if matches!(*source, BackendError::Unsupported { .. }) => {}
            other => panic!("{}: expected a refusal, got {other:?}", scenario.id),
        }
    }
    for scenario in &scenarios {
        // (in-process, docker) behaviour per release, for the verdicts.
        let mut behaviours: Vec<(Behaviour, Behaviour)> = Vec::new();
        for release in ["1.4.2", "1.4.3"] {
            let process = demo_target(release);
            let container = demo_container(&image, release);
            assert!(run::unsupported(scenario, &container, true).is_empty());
            let mut normalized = Vec::new();
            for (placement, choice) in [
                (&Placement::InProcess, &process),
                (&docker_placement, &container),
            ] {
                let ctx = RunContext {
                    http: &http,
                    project_root: repo(),
                    placement,
                };
                let started = std::time::Instant::now();
                let result = run::run_scenario(scenario, choice, &ctx)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "{} on {} with {}: {}",
                            scenario.id,
                            placement.name(),
                            choice.label,
                            crate::support::error_chain(&e)
                        )
                    });
                let _ = writeln!(
                    std::io::stderr(),
                    "{} {} on {}: {:?}",
                    scenario.id,
                    choice.label,
                    placement.name(),
                    started.elapsed()
                );
                normalized.push((
                    result.behaviour,
                    reenact::snapshot::normalize(
                        &result.observation,
                        &result.expectations,
                        &scenario.snapshot,
                    ),
                    result.observation,
                ));
            }
            let (in_process, in_docker) = (&normalized[0], &normalized[1]);
            // The docker run really had its target in a container on the run's network.
            assert_eq!(
                in_docker.2.target_network_url.as_deref(),
                Some("http://reenact-target:8080"),
                "{}",
                scenario.id
            );
            assert!(
                in_docker.2.target_log.iter().any(|line| line
                    .contains(&format!("ledger-sync {release} listening on 0.0.0.0:8080"))),
                "{}: the container's log is not the target log: {:?}",
                scenario.id,
                in_docker.2.target_log
            );
            assert_eq!(in_process.2.target_network_url, None);
            assert_eq!(
                in_process.0, in_docker.0,
                "{} on {release}: behaviour differs between backends",
                scenario.id
            );
            assert_eq!(
                serde_json::to_string_pretty(&in_process.1).unwrap(),
                serde_json::to_string_pretty(&in_docker.1).unwrap(),
                "{} on {release}: normalized observation differs between backends",
                scenario.id
            );
            behaviours.push((in_process.0, in_docker.0));
            // Mock container logs reach the observation (a fresh container's readiness line
            // at least); in-process mocks have none. Neither is part of the snapshot.
            assert!(
                in_process.2.mock_logs.is_empty(),
                "{:?}",
                in_process.2.mock_logs
            );
            let logged: Vec<&String> = in_docker.2.mock_logs.keys().collect();
            let mut names: Vec<&String> = scenario.mocks.iter().map(|m| &m.name).collect();
            names.sort();
            assert_eq!(logged, names, "{}: one log per mock", scenario.id);
            for (mock, lines) in &in_docker.2.mock_logs {
                assert!(
                    lines.iter().any(|line| line.trim() == docker::READY_LINE),
                    "{}: mock `{mock}` log lacks the readiness line: {lines:?}",
                    scenario.id
                );
            }
        }
        let verdict_in_process = judge(&[behaviours[0].0], &[behaviours[1].0]);
        let verdict_in_docker = judge(&[behaviours[0].1], &[behaviours[1].1]);
        assert_eq!(
            verdict_in_process, verdict_in_docker,
            "{}: verdict differs between backends",
            scenario.id
        );
    }
    assert_nothing_left(&docker).await;
}

const CONTAINER_TARGET: &str = r#"
id: container-target
title: the target in a container
ticket: DOCKER-1
customers: [test]
severity: sev4
tags: [docker]
root_cause: unknown
mocks:
  erp:
    stubs:
      - request: { method: GET, path: /v1/health }
        response: { status: 200, json: { ok: true } }
target:
  image: IMAGE
  command: [--release, "1.4.3", --host, HOST, --port, "{{ target.port }}"]
  env:
    ACCOUNTING_API_URL: "{{ mocks.erp.url }}"
  ready: { http: GET /healthz, within: 3s }
flow:
  - name: health
    request: { method: GET, path: /healthz }
    expect: { status: 200 }
"#;

fn container_scenario(image: &str, host: &str) -> Scenario {
    let text = CONTAINER_TARGET
        .replace("IMAGE", image)
        .replace("HOST", host);
    scenario::load_bytes(&repo().join("container.yaml"), repo(), text.as_bytes())
        .expect("valid container scenario")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn a_container_target_that_exits_or_is_never_ready_says_so_with_its_last_lines() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let placement = Placement::Docker(backend().await);
    let image = demo_image(&docker).await;
    let http = run::http_client();
    let ctx = RunContext {
        http: &http,
        project_root: repo(),
        placement: &placement,
    };
    let failure = |scenario: Scenario| {
        let ctx = &ctx;
        async move {
            match run::run_scenario(&scenario, &TargetChoice::from_scenario(), ctx).await {
                Err(run::RunError::Target { source, .. }) => *source,
                other => panic!("expected the target to fail, got {other:?}"),
            }
        }
    };
    // An invalid address: the demo exits at once with a usage error.
    let error = failure(container_scenario(&image, "not-an-address")).await;
    assert!(
        matches!(&error, TargetError::Exited { status, .. } if status == "exit code 2"),
        "expected an exit before ready, got {error:?}"
    );
    assert_logged(&error, "invalid host `not-an-address`");
    // Listening on the container's loopback only: alive, but never reachable through the
    // published port.
    let error = failure(container_scenario(&image, "127.0.0.1")).await;
    assert!(
        matches!(&error, TargetError::NotReady { within, .. } if within == "3s"),
        "expected a readiness timeout, got {error:?}"
    );
    assert_logged(&error, "listening on 127.0.0.1:8080");
    // A missing image is named, and nothing is pulled.
    match failure(container_scenario(
        "reenact-test-no-such-image:0",
        "0.0.0.0",
    ))
    .await
    {
        TargetError::Container(inner) => assert!(
            matches!(*inner, BackendError::NoImage { ref image } if image == "reenact-test-no-such-image:0"),
            "{inner:?}"
        ),
        other => panic!("expected a missing image, got {other:?}"),
    }
    let pid = std::process::id().to_string();
    assert!(containers_with(&docker, labels::PID, &pid).await.is_empty());
    assert!(networks_with(&docker, labels::PID, &pid).await.is_empty());
}

/// The error carries the container's last lines, and one of them says `needle`.
fn assert_logged(error: &TargetError, needle: &str) {
    let tail = error.log_tail();
    assert!(
        tail.iter().any(|line| line.contains(needle)),
        "no `{needle}` in {tail:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn reenact_image_prints_a_labelled_content_tag_and_reuses_it() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let image_of = || {
        Command::new(reenact_bin())
            .arg("image")
            .arg(demo())
            .env("NO_COLOR", "1")
            .output()
            .expect("reenact runs")
    };
    let (first, second) = (image_of(), image_of());
    for output in [&first, &second] {
        assert_eq!(
            output.status.code(),
            Some(exit_codes::SUCCESS),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tag = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    assert_eq!(String::from_utf8_lossy(&second.stdout).trim(), tag);
    let (name, hash) = tag.split_once(':').expect("name:hash");
    assert_eq!(name, "reenact-target-ledger-sync");
    assert_eq!(hash.len(), 16);
    let inspected = docker.inspect_image(&tag).await.expect("the image exists");
    let config = inspected.config.expect("image config");
    let image_labels = config.labels.expect("labels");
    assert_eq!(image_labels[labels::MANAGED], "true");
    assert_eq!(image_labels[labels::KIND], "target-image");
    assert_eq!(image_labels[labels::CONTENT], hash);
    assert_eq!(config.entrypoint, Some(vec!["/ledger-sync".to_owned()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn clean_removes_a_dead_runs_container_and_keeps_a_live_runs() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let image = backend().await.image().to_owned();
    let run_id = new_run_id();
    // What a killed run leaves: a container labelled with a pid that no longer runs. A live
    // run's: labelled with this test's own pid (a process that runs). (A network needs no
    // image, so the object that is not reenact's is a network without labels.)
    let mut child = Command::new("true").spawn().expect("true runs");
    let dead_pid = child.id().to_string();
    child.wait().expect("true exits");
    let mut dead_labels = labels::for_run(&run_id, "mock");
    dead_labels.insert(labels::PID.to_owned(), dead_pid);
    let mut made = Vec::new();
    for (what, container_labels) in [
        ("dead", dead_labels),
        ("live", labels::for_run(&run_id, "mock")),
    ] {
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            labels: Some(container_labels),
            ..Default::default()
        };
        let id = docker
            .create_container(
                Some(
                    CreateContainerOptionsBuilder::default()
                        .name(&format!("reenact-test-{what}-{run_id}"))
                        .build(),
                ),
                body,
            )
            .await
            .expect("container created")
            .id;
        made.push(id);
    }
    let foreign = format!("not-reenact-{run_id}");
    docker
        .create_network(NetworkCreateRequest {
            name: foreign.clone(),
            ..Default::default()
        })
        .await
        .expect("network created");
    // A temp folder of its own: this test is about Docker objects, not about the run records
    // of whatever else runs on this machine.
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = Command::new(reenact_bin())
        .arg("clean")
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp.path())
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("reenact runs");
    let dead_gone = docker.inspect_container(&made[0], None).await.is_err();
    let live_kept = docker.inspect_container(&made[1], None).await.is_ok();
    let foreign_still_there = docker.inspect_network(&foreign, None).await.is_ok();
    // (`--all` would remove the live one too, but also whatever else runs on this engine.)
    let _ = docker
        .remove_container(
            &made[1],
            Some(
                testcontainers::bollard::query_parameters::RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .build(),
            ),
        )
        .await;
    let _ = docker.remove_network(&foreign).await;
    assert_eq!(
        output.status.code(),
        Some(exit_codes::SUCCESS),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Other dead runs' leftovers on this engine may go too: only ours are counted on.
    assert!(stdout.starts_with("removed "), "{stdout}");
    assert!(
        stderr.contains(&format!("removed `reenact-test-dead-{run_id}`")),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("reenact-test-live-{run_id}")),
        "{stderr}"
    );
    assert!(stderr.contains("reenact clean --all"), "{stderr}");
    assert!(dead_gone, "the dead run's container was not removed");
    assert!(live_kept, "clean removed a live run's container");
    assert!(
        foreign_still_there,
        "clean removed a network that is not reenact's"
    );
}

/// Kill trials on Docker (issue 11), graceful: SIGINT or SIGTERM while the mock containers start
/// (a creation in flight), while the target container starts, and mid-flow, with the target as a
/// process or as a container, leave no container, network, process, port or file behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn kill_trials_sigint_and_sigterm_leave_nothing() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    // The mock image exists before the first trial (as the trials' reenact builds it).
    let _ = backend().await;
    let image = demo_image(&docker).await;
    let container = Place::DockerContainer(image);
    for (place, moment, signal) in [
        (Place::DockerProcess, Moment::MocksStarting, libc::SIGINT),
        (container.clone(), Moment::MocksStarting, libc::SIGTERM),
        (container.clone(), Moment::TargetStarting, libc::SIGINT),
        (Place::DockerProcess, Moment::MidFlow, libc::SIGTERM),
        (container, Moment::MidFlow, libc::SIGINT),
    ] {
        kill::graceful(place, moment, signal, Some(&docker)).await;
    }
}

/// Kill trials on Docker (issue 11), SIGKILL: what the run leaves (containers, networks, target
/// processes, its run folder and record) is removed by `reenact clean` or by the next run's
/// start-up sweep, to the last object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn kill_trials_sigkill_then_a_sweep_leave_nothing() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let _ = backend().await;
    let image = demo_image(&docker).await;
    let container = Place::DockerContainer(image);
    for (place, moment, sweep) in [
        (container.clone(), Moment::MocksStarting, Sweep::Clean),
        (Place::DockerProcess, Moment::TargetStarting, Sweep::NextRun),
        (container, Moment::MidFlow, Sweep::NextRun),
    ] {
        kill::killed(place, moment, sweep, Some(&docker)).await;
    }
}

/// Assert that this test process has no reenact container or network left on the engine.
async fn assert_nothing_left(docker: &Docker) {
    let pid = std::process::id().to_string();
    assert_eq!(
        containers_with(docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "containers left behind"
    );
    assert_eq!(
        networks_with(docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "networks left behind"
    );
}

const ISOLATION: &str = r#"
id: docker-isolation
title: names on the run network
ticket: ISO-1
clock: { start: 2026-10-31T23:00:00Z }
mocks:
  sender: {}
  partner:
    hostnames: [hooks.partner.example]
    stubs:
      - request: { method: POST, path: /hook }
        response: { status: 200, json: { received: true } }
target:
  url: http://127.0.0.1:9
flow:
  - name: never replayed here
    request: { method: GET, path: /healthz }
"#;

fn webhook_to(url: &str) -> reenact::mock::webhook::WebhookRequest {
    reenact::mock::webhook::WebhookRequest {
        url: url.to_owned(),
        method: "POST".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"event":"invoice.updated"}"#.to_vec(),
        sign: None,
        retry: reenact::mock::webhook::RetryPolicy {
            attempts: 1,
            backoff_millis: 0,
            timeout_millis: 5000,
        },
        provider: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn run_network_resolves_declared_names_and_nothing_else() {
    let _serial = SERIAL.lock().await;
    let placement = Placement::Docker(backend().await);
    let scenario =
        scenario::load_bytes(&repo().join("isolation.yaml"), repo(), ISOLATION.as_bytes())
            .expect("valid isolation scenario");
    let http = run::http_client();
    let run_id = new_run_id();
    let mut mocks = placement.open_run(&run_id).await.expect("run networks");
    let mut placed = Vec::new();
    for spec in &scenario.mocks {
        match mocks.start_mock(spec, &scenario.clock, None, &http).await {
            Ok(mock) => placed.push(mock),
            Err(err) => {
                mocks.close().await;
                panic!("{}: {}", spec.name, crate::support::error_chain(&err));
            }
        }
    }
    // No target container yet: the run has no network of its own (decision 60); a target
    // container's start makes it, as `open_network` does here.
    let docker = engine().await;
    let network = format!("reenact-{run_id}");
    let before = docker.inspect_network(&network, None).await;
    let RunMocks::Docker(run) = &mut mocks else {
        unreachable!("a docker placement opens docker runs")
    };
    let opened = run.open_network().await;
    let after = docker.inspect_network(&network, None).await;
    let sender = reenact::mock::ControlClient::new(placed[0].admin_url.clone(), http.clone());
    let partner = reenact::mock::ControlClient::new(placed[1].admin_url.clone(), http.clone());
    let started = std::time::Instant::now();
    let undeclared = sender
        .send_webhook(&webhook_to("http://api.xero.com/hook"))
        .await;
    let undeclared_took = started.elapsed();
    let declared = sender
        .send_webhook(&webhook_to("http://hooks.partner.example:8080/hook"))
        .await;
    let by_name = sender
        .send_webhook(&webhook_to(&format!(
            "{}/hook",
            placed[1].network_url.as_deref().unwrap_or_default()
        )))
        .await;
    let journal = partner.journal().await;
    // The host-side URLs still work although the run's network has no way out.
    let from_host = http
        .post(format!("{}/hook", placed[1].url))
        .send()
        .await
        .map(|r| r.status().as_u16());
    mocks.close().await;

    assert!(
        before.is_err(),
        "the run made a network before a target container needed it"
    );
    opened.expect("the run's network opens");
    assert!(after.is_ok(), "open_network made no network: {after:?}");
    let undeclared = undeclared.expect("the control API answers");
    assert_eq!(undeclared.deliveries.len(), 1);
    let attempt = &undeclared.deliveries[0];
    assert!(attempt.response.is_none(), "{attempt:?}");
    let error = attempt.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("dns error"),
        "the undeclared name must fail to resolve, got: {error}"
    );
    // The sink answers at once: no resolver timeout to wait out.
    assert!(
        undeclared_took < std::time::Duration::from_secs(3),
        "{undeclared_took:?}"
    );
    for (what, report) in [("hostname", declared), ("mock name", by_name)] {
        let report = report.expect("the control API answers");
        let status = report.deliveries[0].response.as_ref().map(|r| r.status);
        assert_eq!(status, Some(200), "by {what}: {:?}", report.deliveries[0]);
    }
    let journal = journal.expect("the partner's journal");
    assert_eq!(journal.entries.len(), 2, "{journal:?}");
    assert_eq!(from_host.expect("the host reaches the mock"), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn https_mock_in_a_container_serves_the_run_ca_certificate() {
    let _serial = SERIAL.lock().await;
    let placement = Placement::Docker(backend().await);
    let mut scenario = scenario::load_bytes(&repo().join("smoke.yaml"), repo(), SMOKE.as_bytes())
        .expect("valid smoke scenario");
    let mut spec = scenario.mocks.remove(0);
    spec.tls = true;
    spec.hostnames = vec!["api.erp.example".into()];
    let ca = reenact::mock::tls::RunCa::generate().expect("a CA");
    let identity = ca
        .issue_with_names(&spec.name, &spec.hostnames)
        .expect("a certificate");
    let plain = run::http_client();
    let trusting = run::http_client_trusting(&ca.ca_der()).expect("a client trusting the CA");
    let mut mocks = placement
        .open_run(&new_run_id())
        .await
        .expect("run networks");
    let placed = mocks
        .start_mock(&spec, &scenario.clock, Some(identity), &plain)
        .await;
    let answers = match &placed {
        Ok(placed) => {
            let url = format!("{}/v1/health", placed.url);
            let trusted = trusting.get(&url).send().await;
            let trusted = match trusted {
                Ok(response) => Ok((response.status().as_u16(), response.text().await)),
                Err(err) => Err(crate::support::error_chain(&err)),
            };
            let untrusted = plain.get(&url).send().await.map(|r| r.status().as_u16());
            Some((trusted, untrusted))
        }
        Err(_) => None,
    };
    mocks.close().await;
    let placed = placed.unwrap_or_else(|e| panic!("{}", crate::support::error_chain(&e)));
    assert!(
        placed.url.starts_with("https://127.0.0.1:"),
        "{}",
        placed.url
    );
    assert_eq!(placed.network_url.as_deref(), Some("https://erp:8080"));
    let (trusted, untrusted) = answers.expect("answers");
    let (status, body) = trusted.expect("a client trusting the run's CA gets an answer");
    assert_eq!(status, 200);
    assert_eq!(body.expect("a body"), r#"{"ok":true}"#);
    let refused = untrusted.expect_err("a client that does not trust the CA must fail");
    assert!(
        crate::support::error_chain(&refused).contains("certificate"),
        "{}",
        crate::support::error_chain(&refused)
    );
}

/// Normalized observation and behaviour of every job of `jobs`, each run by `run_jobs` on
/// `placement` two at a time, in job order, each with whether a mock's log tail shows an
/// engine's readiness line (printed before a run on a reused container, so never its own);
/// and how long the suite took.
async fn run_suite(
    jobs: &[run::Job],
    placement: Placement,
) -> (Vec<(String, String, bool)>, std::time::Duration) {
    let started = std::time::Instant::now();
    let jobs: Vec<run::Job> = jobs
        .iter()
        .map(|job| run::Job {
            placement: placement.clone(),
            ..job.clone()
        })
        .collect();
    let results = run::run_jobs(
        jobs.clone(),
        run::http_client(),
        repo().to_path_buf(),
        2,
        |_, _| {},
    )
    .await;
    let took = started.elapsed();
    let normalized = jobs
        .iter()
        .zip(results)
        .map(|(job, result)| {
            let result = result.unwrap_or_else(|e| {
                panic!("{}: {}", job.scenario.id, crate::support::error_chain(&e))
            });
            let snapshot = reenact::snapshot::normalize(
                &result.observation,
                &result.expectations,
                &job.scenario.snapshot,
            );
            let shows_ready = result
                .observation
                .mock_logs
                .values()
                .flatten()
                .any(|line| line.trim() == docker::READY_LINE);
            (
                format!("{}: {:?}", job.scenario.id, result.behaviour),
                serde_json::to_string_pretty(&snapshot).expect("json"),
                shows_ready,
            )
        })
        .collect();
    (normalized, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn a_suite_reuses_mock_containers_and_observes_the_same_as_with_fresh_ones() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let choice = Arc::new(demo_target("1.4.3"));
    let scenarios: Vec<Arc<Scenario>> = demo_scenarios()
        .into_iter()
        .filter(|scenario| docker::unsupported(scenario, false).is_empty())
        .map(Arc::new)
        .collect();
    assert!(scenarios.len() >= 4, "too few scenarios for a suite");
    let most_mocks = scenarios.iter().map(|s| s.mocks.len()).max().unwrap_or(0);
    assert!(most_mocks >= 1);
    // Every scenario twice, so that containers are reused within the suite whatever the order.
    let jobs: Vec<run::Job> = scenarios
        .iter()
        .chain(scenarios.iter())
        .map(|scenario| run::Job {
            scenario: scenario.clone(),
            target: choice.clone(),
            placement: Placement::InProcess,
        })
        .collect();
    let (fresh, fresh_took) = run_suite(&jobs, Placement::Docker(backend().await)).await;
    let reusing = backend().await.with_reuse().await.expect("a pool");
    let (reused, reused_took) = run_suite(&jobs, Placement::Docker(reusing.clone())).await;
    let created = reusing.pool().expect("reuse is on").created();
    let _ = writeln!(
        std::io::stderr(),
        "suite of {} runs, -j 2: fresh containers {fresh_took:?}, reused {reused_took:?} ({created} containers)",
        jobs.len()
    );
    for ((fresh_id, fresh_obs, fresh_ready), (reused_id, reused_obs, reused_ready)) in
        fresh.iter().zip(&reused)
    {
        assert_eq!(fresh_id, reused_id, "behaviour differs with reuse");
        assert_eq!(
            fresh_obs, reused_obs,
            "{fresh_id}: observation differs with reuse"
        );
        // A fresh container's tail starts at its readiness line; a reused one's holds only
        // what it printed during this run.
        assert!(
            fresh_ready,
            "{fresh_id}: fresh mock log lacks the readiness line"
        );
        assert!(
            !reused_ready,
            "{reused_id}: a reused mock's log shows lines from before its run"
        );
    }
    assert!(
        created <= 2 * most_mocks,
        "{created} containers for -j 2 and at most {most_mocks} mock(s) per scenario"
    );
    assert_nothing_left(&docker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn connecting_sweeps_what_a_dead_run_of_this_host_left_and_nothing_else() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let image = backend().await.image().to_owned();
    // A pid that is certainly dead: a child we started and reaped.
    let mut child = Command::new("true").spawn().expect("true runs");
    let dead_pid = child.id().to_string();
    child.wait().expect("true exits");
    let run_id = new_run_id();
    let make = |pid: &str, host: &str| {
        let mut with = labels::for_run(&run_id, "mock");
        with.insert(labels::PID.to_owned(), pid.to_owned());
        with.insert(labels::HOST.to_owned(), host.to_owned());
        with
    };
    let this_host = labels::this_host();
    let mut created = Vec::new();
    for (what, container_labels) in [
        ("dead", make(&dead_pid, &this_host)),
        ("live", make(&std::process::id().to_string(), &this_host)),
        ("elsewhere", make(&dead_pid, "some-other-host.example")),
    ] {
        let id = docker
            .create_container(
                Some(
                    CreateContainerOptionsBuilder::default()
                        .name(&format!("reenact-test-sweep-{what}-{run_id}"))
                        .build(),
                ),
                ContainerCreateBody {
                    image: Some(image.clone()),
                    labels: Some(container_labels),
                    ..Default::default()
                },
            )
            .await
            .expect("container created")
            .id;
        created.push((what, id));
    }
    let dead_network = format!("reenact-test-sweep-{run_id}");
    docker
        .create_network(NetworkCreateRequest {
            name: dead_network.clone(),
            labels: Some(make(&dead_pid, &this_host)),
            ..Default::default()
        })
        .await
        .expect("network created");
    // Connecting sweeps.
    let _backend = backend().await;
    let mut still_there = Vec::new();
    for (what, id) in &created {
        if docker.inspect_container(id, None).await.is_ok() {
            still_there.push(*what);
        }
        let _ = docker
            .remove_container(
                id,
                Some(
                    testcontainers::bollard::query_parameters::RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .build(),
                ),
            )
            .await;
    }
    let network_left = docker.inspect_network(&dead_network, None).await.is_ok();
    let _ = docker.remove_network(&dead_network).await;
    assert_eq!(still_there, ["live", "elsewhere"]);
    assert!(!network_left, "the dead run's network was not swept");
}

/// A customer's IdPs under their vendors' hostnames: Entra ID (`provider: oidc`) at
/// `login.microsoftonline.com` and Okta (`provider: saml`) at `acme.okta.com`, the demo as a
/// container behind its public URL. The demo is configured with the vendors' URLs only.
const VENDOR_HOSTNAMES: &str = r#"
id: docker-sso-vendor-hostnames
title: sign-in through IdPs under their vendors' hostnames
mocks:
  entra:
    provider: oidc
    hostnames: [login.microsoftonline.com]
    with:
      profile: entra
      tenant_id: 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f
      clock: { anchor: real }
      clients:
        - client_id: 0c5e8a41-ledger-sync
          client_secret: s3cret-entra-2026
          redirect_uris: ["https://ledger.acme.test/auth/callback"]
      users: [{ sub: alice, email: alice@acme.test }]
  okta:
    provider: saml
    hostnames: [acme.okta.com]
    with:
      entity_id: http://www.okta.com/exk1fcia6d6EMsf331d8
      sp:
        entity_id: https://ledger.acme.test/saml/metadata
        acs_url: https://ledger.acme.test/saml/acs
      users: [{ name_id: bob@acme.test }]
      clock: real
target:
  image: IMAGE
  command: [--release, "1.4.3", --host, 0.0.0.0, --port, "{{ target.port }}"]
  public_url: https://ledger.acme.test
  env:
    PUBLIC_URL: https://ledger.acme.test
    OIDC_ISSUER: https://login.microsoftonline.com/6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f/v2.0
    OIDC_DISCOVERY_URL: http://login.microsoftonline.com:8080/6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f/v2.0/.well-known/openid-configuration
    OIDC_CLIENT_ID: 0c5e8a41-ledger-sync
    OIDC_CLIENT_SECRET: s3cret-entra-2026
    SAML_IDP_METADATA_URL: http://acme.okta.com:8080/metadata
  ready: { http: GET /healthz, within: 10s }
flow:
  - name: alice signs in with Entra ID
    sso_login: { start: { path: /login/oidc }, idp: entra, user: alice@acme.test }
    expect: { status: 200, body_contains: "Welcome, alice@acme.test" }
  - name: bob signs in with Okta
    sso_login: { start: { path: /login/saml }, idp: okta, user: bob@acme.test }
    expect: { status: 200, body_contains: "Welcome, bob@acme.test" }
expect:
  - { name: alice signed in at Entra, mock: entra, state: logins, where: { sub: alice }, count: 1 }
  - { name: bob signed in at Okta, mock: okta, state: logins, count: 1 }
"#;

/// The demo in a container signs in through IdP mocks it knows only by their vendors'
/// hostnames: its back-channel calls (discovery, keys, token, metadata) resolve on the run's
/// network, and the browser (`sso_login`, on the host) follows the vendor URLs the demo and
/// the IdPs redirect to, and the demo's public URL, to the published ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn a_container_target_signs_in_through_idps_under_their_vendor_hostnames() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let placement = Placement::Docker(backend().await);
    let image = demo_image(&docker).await;
    let text = VENDOR_HOSTNAMES.replace("IMAGE", &image);
    let scenario = scenario::load_bytes(
        &repo().join("vendor-hostnames.yaml"),
        repo(),
        text.as_bytes(),
    )
    .expect("valid vendor hostnames scenario");
    let http = run::http_client();
    let ctx = RunContext {
        http: &http,
        project_root: repo(),
        placement: &placement,
    };
    let run = run::run_scenario(&scenario, &TargetChoice::from_scenario(), &ctx)
        .await
        .unwrap_or_else(|e| panic!("{}", crate::support::error_chain(&e)));
    assert_eq!(
        run.failed_step(),
        None,
        "{:#?}\n{:?}",
        run.observation.steps,
        run.observation.target_log
    );
    assert!(
        run.expectations.iter().all(|result| result.passed),
        "{:?}",
        run.expectations
    );
    let entra_host = "http://login.microsoftonline.com:8080/6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f/oauth2/v2.0/authorize?";
    let oidc = &run.observation.steps[0];
    assert!(
        oidc.hops[0]
            .location
            .as_deref()
            .is_some_and(|location| location.starts_with(entra_host)),
        "the demo sends the browser to Entra's hostname: {:?}",
        oidc.hops[0]
    );
    assert!(
        oidc.hops[1].location.as_deref().is_some_and(
            |location| location.starts_with("https://ledger.acme.test/auth/callback?code=")
        ),
        "Entra sends it back to the public URL: {:?}",
        oidc.hops[1]
    );
    let saml = &run.observation.steps[1];
    assert!(
        saml.hops[0].location.as_deref().is_some_and(
            |location| location.starts_with("http://acme.okta.com:8080/sso?SAMLRequest=")
        ),
        "the demo sends the browser to Okta's hostname: {:?}",
        saml.hops[0]
    );
    assert_eq!(
        saml.hops[1].form_post.as_deref(),
        Some("https://ledger.acme.test/saml/acs")
    );
    // The demo's own calls reached the IdPs by hostname inside the network.
    let discovery = run.observation.mocks["entra"]
        .entries
        .iter()
        .find(|entry| entry.path.ends_with("/.well-known/openid-configuration"))
        .expect("the demo read Entra's discovery");
    assert!(
        discovery
            .headers
            .iter()
            .any(|(name, value)| name == "host" && value == "login.microsoftonline.com:8080"),
        "{:?}",
        discovery.headers
    );
    assert_nothing_left(&docker).await;
}

/// A bank whose statements the scenario reads from its container: an MT940 and a camt.053 file
/// rendered from the ledger, the downloads in its state.
const BANK_IN_A_CONTAINER: &str = r#"
id: docker-bank
title: a bank's statements served from its container
clock: { start: 2026-11-03T08:00:00Z }
mocks:
  bank:
    provider: bank
    with:
      bank: { bic: DEUTDEFFXXX, name: Deutsche Bank AG }
      auth: { bearer: bank-token-7c1d9e2f }
      accounts:
        - id: main
          iban: DE89370400440532013000
          currency: EUR
          opening: { date: 2026-11-02, balance: "-10.00" }
          transactions: [{ booked: 2026-11-02, amount: "25.50", purpose: Refund }]
      statements:
        - { name: main.sta, format: mt940, accounts: [main], from: 2026-11-02 }
        - { name: main.xml, format: camt.053.001.08, accounts: [main], from: 2026-11-02 }
target:
  url: "{{ mocks.bank.url }}"
flow:
  - request: { mock: bank, method: GET, path: /statements/main.sta }
    expect: { status: 401 }
  - request:
      { mock: bank, method: GET, path: /statements/main.sta, headers: { Authorization: "Bearer bank-token-7c1d9e2f" } }
    expect: { status: 200, body_contains: ":60F:D261101EUR10,00" }
  - request:
      { mock: bank, method: GET, path: /statements/main.xml, headers: { Authorization: "Bearer bank-token-7c1d9e2f" } }
    expect: { status: 200, body_contains: "<Cd>CLBD</Cd>" }
expect:
  - { mock: bank, state: downloads, count: 2 }
"#;

/// `provider: bank` runs in its mock container like in-process: its settings (ledger, decimals,
/// dates, the bearer secret) survive the trip, and the files and state are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn a_bank_serves_its_statements_from_its_container_as_in_process() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let docker_placement = Placement::Docker(backend().await);
    let scenario = scenario::load_bytes(
        &repo().join("docker-bank.yaml"),
        repo(),
        BANK_IN_A_CONTAINER.as_bytes(),
    )
    .expect("valid bank scenario");
    let http = run::http_client();
    let mut documents = Vec::new();
    for placement in [&Placement::InProcess, &docker_placement] {
        let ctx = RunContext {
            http: &http,
            project_root: repo(),
            placement,
        };
        let run = run::run_scenario(&scenario, &TargetChoice::from_scenario(), &ctx)
            .await
            .unwrap_or_else(|e| panic!("{}", crate::support::error_chain(&e)));
        assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
        assert!(
            run.expectations.iter().all(|result| result.passed),
            "{:?}",
            run.expectations
        );
        documents.push(reenact::snapshot::normalize(
            &run.observation,
            &run.expectations,
            &reenact::scenario::model::SnapshotSpec::default(),
        ));
    }
    assert_eq!(
        serde_json::to_string_pretty(&documents[0]).unwrap(),
        serde_json::to_string_pretty(&documents[1]).unwrap(),
        "the bank observed differently in its container"
    );
    assert!(
        !documents[1].to_string().contains("bank-token-7c1d9e2f"),
        "the bank's token in the observation"
    );
    assert_nothing_left(&docker).await;
}

/// A bank with `sftp:` serves SFTP from its container: the published port answers on the
/// host, a statement downloads byte for byte as over HTTP, the download is in the container's
/// state with its channel, and the in-network address is `NAME:2222`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test it -- --ignored docker::`"]
async fn a_bank_serves_sftp_from_its_container() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let placement = Placement::Docker(backend().await);
    let scenario = scenario::load_bytes(
        &repo().join("docker-bank-sftp.yaml"),
        repo(),
        br#"id: docker-bank-sftp
title: a bank's SFTP server in its container
clock: { start: 2026-11-03T07:00:00Z }
mocks:
  bank:
    provider: bank
    with:
      bank: { bic: DEUTDEFFXXX, name: Deutsche Bank AG }
      accounts:
        - { id: operating, iban: DE89 3704 0044 0532 0130 00, currency: EUR, opening: { date: 2026-11-02, balance: "10.00" } }
      statements:
        - { name: stmt.sta, format: mt940, accounts: [operating], from: 2026-11-02 }
      sftp:
        users: [{ username: ledger, password: sftp-pass-8d2e }]
flow:
  - request: { mock: bank, method: GET, path: /statements }
"#,
    )
    .expect("valid bank scenario");
    let http = run::http_client();
    let mut run_mocks = placement
        .open_run(&new_run_id())
        .await
        .expect("the run's network");
    let placed = run_mocks
        .start_mock(&scenario.mocks[0], &scenario.clock, None, &http)
        .await;
    let outcome = async {
        let placed = placed.map_err(|e| crate::support::error_chain(&e))?;
        assert_eq!(placed.network_sftp_address.as_deref(), Some("bank:2222"));
        let address = placed.sftp_address.clone().ok_or("no SFTP address")?;
        let addr: std::net::SocketAddr = address.parse().map_err(|_| "not an address")?;
        let mut connection = crate::provider_bank_sftp::Connection::open(addr).await;
        assert!(connection.password("ledger", "sftp-pass-8d2e").await);
        let sftp = connection.sftp().await;
        let over_sftp = sftp
            .read("/inbox/stmt.sta")
            .await
            .map_err(|e| e.to_string())?;
        let over_http = http
            .get(format!("{}/statements/stmt.sta", placed.url))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(over_sftp, over_http.to_vec());
        assert!(over_sftp.starts_with(b":20:"), "an MT940 statement");
        let state = reenact::mock::ControlClient::new(placed.admin_url.clone(), http.clone())
            .state()
            .await
            .map_err(|e| e.to_string())?;
        let channels: Vec<&str> = state["provider"]["state"]["downloads"]
            .as_array()
            .ok_or("no downloads")?
            .iter()
            .filter_map(|d| d["channel"].as_str())
            .collect();
        assert_eq!(channels, ["sftp", "http"]);
        Ok::<(), String>(())
    }
    .await;
    run_mocks.close().await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert_nothing_left(&docker).await;
}
