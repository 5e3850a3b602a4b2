//! Docker backend tests: the mock image built without a registry, one mock container answering a
//! stub (the smoke test that catches a Docker client the engine rejects), every demo scenario
//! giving the same normalized observation and behaviour in containers as in-process, nothing left
//! behind, `reenact clean` sweeping a leftover, the run network resolving declared names only,
//! and an HTTPS mock serving the run CA's certificate from its container.
//!
//! They need a Docker engine, so plain `cargo test` lists them as ignored with that reason (a
//! skipped test is never counted as passed). `.ci/run` starts an engine and runs them with
//! `cargo test --test docker -- --ignored`; run them by hand the same way. Asked to run without
//! a reachable engine, they fail and say how to get one.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use reenact::backend::docker::{self, DockerBackend};
use reenact::backend::{BackendError, Placement, labels, new_run_id};
use reenact::exit_codes;
use reenact::run::{self, RunContext, TargetChoice};
use reenact::scenario::{self, Scenario};
use support::{demo_cmd, repo};
use testcontainers::bollard::Docker;
use testcontainers::bollard::models::{ContainerCreateBody, NetworkCreateRequest};
use testcontainers::bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
};

/// Docker tests share one engine; `reenact clean` removes every reenact object, so they run one
/// at a time.
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

fn demo_target() -> TargetChoice {
    let command = demo_cmd("1.4.3");
    TargetChoice {
        label: "ledger-sync@1.4.3".into(),
        def: Some(reenact::project::TargetDef {
            build: None,
            command: Some(run::split_command(&command).expect("valid command")),
            url: None,
            env: Default::default(),
        }),
    }
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
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
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
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
async fn every_scenario_observes_the_same_in_containers_as_in_process() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let docker_placement = Placement::Docker(backend().await);
    let http = run::http_client();
    let choice = Arc::new(demo_target());
    // The docker backend refuses HTTPS mocks and webhook steps for now (see
    // `docker::unsupported`): the webhook scenario's mock would send from its container to the
    // demo target on the host's loopback, which a container cannot reach. It is left out of the
    // parity check, by name, so that no other scenario drops out unnoticed, and its refusal is
    // checked instead.
    const NOT_ON_DOCKER: [&str; 1] = ["webhook-signature-checked-over-reserialized-body"];
    let (scenarios, refused): (Vec<Scenario>, Vec<Scenario>) = demo_scenarios()
        .into_iter()
        .partition(|scenario| docker::unsupported(scenario).is_empty());
    let refused_ids: Vec<&str> = refused.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(refused_ids, NOT_ON_DOCKER);
    assert!(scenarios.len() >= 4, "too few scenarios left to compare");
    for scenario in &refused {
        let ctx = RunContext {
            http: &http,
            project_root: repo(),
            placement: &docker_placement,
        };
        match run::run_scenario(scenario, &choice, &ctx).await {
            Err(run::RunError::Backend { source, .. })
                if matches!(*source, BackendError::Unsupported { .. }) => {}
            other => panic!("{}: expected a refusal, got {other:?}", scenario.id),
        }
    }
    for scenario in scenarios {
        let mut normalized = Vec::new();
        for placement in [&Placement::InProcess, &docker_placement] {
            let ctx = RunContext {
                http: &http,
                project_root: repo(),
                placement,
            };
            let started = std::time::Instant::now();
            let result = run::run_scenario(&scenario, &choice, &ctx)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{} on {}: {}",
                        scenario.id,
                        placement.name(),
                        reenact::target::error_chain(&e)
                    )
                });
            let _ = writeln!(
                std::io::stderr(),
                "{} on {}: {:?}",
                scenario.id,
                placement.name(),
                started.elapsed()
            );
            // Mock container logs reach the observation (a fresh container's readiness line
            // at least); in-process mocks have none. Neither is part of the snapshot.
            let logged: Vec<&String> = result.observation.mock_logs.keys().collect();
            if matches!(placement, Placement::InProcess) {
                assert!(logged.is_empty(), "{logged:?}");
            } else {
                let names: Vec<&String> = scenario.mocks.iter().map(|m| &m.name).collect();
                let mut sorted = names.clone();
                sorted.sort();
                assert_eq!(logged, sorted, "{}: one log per mock", scenario.id);
                for (mock, lines) in &result.observation.mock_logs {
                    assert!(
                        lines.iter().any(|line| line.trim() == docker::READY_LINE),
                        "{}: mock `{mock}` log lacks the readiness line: {lines:?}",
                        scenario.id
                    );
                }
            }
            normalized.push((
                result.behaviour,
                reenact::snapshot::normalize(
                    &result.observation,
                    &result.expectations,
                    &scenario.snapshot.redact,
                ),
            ));
        }
        let (in_process, in_docker) = (&normalized[0], &normalized[1]);
        assert_eq!(
            in_process.0, in_docker.0,
            "{}: behaviour differs between backends",
            scenario.id
        );
        assert_eq!(
            serde_json::to_string_pretty(&in_process.1).unwrap(),
            serde_json::to_string_pretty(&in_docker.1).unwrap(),
            "{}: normalized observation differs between backends",
            scenario.id
        );
    }
    let pid = std::process::id().to_string();
    assert_eq!(
        containers_with(&docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "containers left behind"
    );
    assert_eq!(
        networks_with(&docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "networks left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
async fn clean_removes_a_leftover_labelled_container_and_nothing_else() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let image = backend().await.image().to_owned();
    let run_id = new_run_id();
    // What a killed run leaves: a labelled container (a network needs no image, so the object
    // that is not reenact's is a network without labels).
    let body = ContainerCreateBody {
        image: Some(image),
        labels: Some(labels::for_run(&run_id, "mock")),
        ..Default::default()
    };
    let leftover = docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::default()
                    .name(&format!("reenact-test-leftover-{run_id}"))
                    .build(),
            ),
            body,
        )
        .await
        .expect("container created")
        .id;
    let foreign = format!("not-reenact-{run_id}");
    docker
        .create_network(NetworkCreateRequest {
            name: foreign.clone(),
            ..Default::default()
        })
        .await
        .expect("network created");
    let output = Command::new(reenact_bin())
        .arg("clean")
        .env("NO_COLOR", "1")
        .output()
        .expect("reenact runs");
    let foreign_still_there = docker.inspect_network(&foreign, None).await.is_ok();
    let _ = docker.remove_network(&foreign).await;
    assert_eq!(
        output.status.code(),
        Some(exit_codes::SUCCESS),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("removed 1 container(s)"));
    assert!(docker.inspect_container(&leftover, None).await.is_err());
    assert!(
        foreign_still_there,
        "clean removed a network that is not reenact's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
async fn sigint_and_sigterm_mid_scenario_leave_no_container_or_network() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let target = demo_cmd("1.4.3");
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        // The 429 scenario waits a second for Retry-After: long enough to interrupt it mid-run.
        let child = Command::new(reenact_bin())
            .args([
                "run",
                "scenarios/accounting-429-retry-after-ignored.yaml",
                "--backend",
                "docker",
                "--target-cmd",
                &target,
            ])
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("reenact starts");
        let pid = child.id().to_string();
        let mut seen = false;
        for _ in 0..300 {
            if !containers_with(&docker, labels::PID, &pid).await.is_empty() {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(seen, "the run never started its mock container");
        // Into the flow: the target starts and the first export waits out a Retry-After.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        // SAFETY: kill(2) on our own child's pid; no memory effects.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let output = child.wait_with_output().expect("reenact exits");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(containers_with(&docker, labels::PID, &pid).await.is_empty());
        assert!(networks_with(&docker, labels::PID, &pid).await.is_empty());
    }
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
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
async fn run_network_resolves_declared_names_and_nothing_else() {
    let _serial = SERIAL.lock().await;
    let placement = Placement::Docker(backend().await);
    let scenario =
        scenario::load_bytes(&repo().join("isolation.yaml"), repo(), ISOLATION.as_bytes())
            .expect("valid isolation scenario");
    let http = run::http_client();
    let mut mocks = placement
        .open_run(&new_run_id())
        .await
        .expect("run networks");
    let mut placed = Vec::new();
    for spec in &scenario.mocks {
        match mocks.start_mock(spec, &scenario.clock, None, &http).await {
            Ok(mock) => placed.push(mock),
            Err(err) => {
                mocks.close().await;
                panic!("{}: {}", spec.name, reenact::target::error_chain(&err));
            }
        }
    }
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
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
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
                Err(err) => Err(reenact::target::error_chain(&err)),
            };
            let untrusted = plain.get(&url).send().await.map(|r| r.status().as_u16());
            Some((trusted, untrusted))
        }
        Err(_) => None,
    };
    mocks.close().await;
    let placed = placed.unwrap_or_else(|e| panic!("{}", reenact::target::error_chain(&e)));
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
        reenact::target::error_chain(&refused).contains("certificate"),
        "{}",
        reenact::target::error_chain(&refused)
    );
}

/// Normalized observation and behaviour of every job of `jobs`, run by `run_jobs` on
/// `placement` two at a time, in job order; and how long the suite took.
async fn run_suite(
    jobs: &[run::Job],
    placement: Placement,
) -> (Vec<(String, String)>, std::time::Duration) {
    let started = std::time::Instant::now();
    let results = run::run_jobs(
        jobs.to_vec(),
        run::http_client(),
        repo().to_path_buf(),
        placement,
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
                panic!("{}: {}", job.scenario.id, reenact::target::error_chain(&e))
            });
            let snapshot = reenact::snapshot::normalize(
                &result.observation,
                &result.expectations,
                &job.scenario.snapshot.redact,
            );
            (
                format!("{}: {:?}", job.scenario.id, result.behaviour),
                serde_json::to_string_pretty(&snapshot).expect("json"),
            )
        })
        .collect();
    (normalized, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
async fn a_suite_reuses_mock_containers_and_observes_the_same_as_with_fresh_ones() {
    let _serial = SERIAL.lock().await;
    let docker = engine().await;
    let choice = Arc::new(demo_target());
    let scenarios: Vec<Arc<Scenario>> = demo_scenarios()
        .into_iter()
        .filter(|scenario| docker::unsupported(scenario).is_empty())
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
    for ((fresh_id, fresh_obs), (reused_id, reused_obs)) in fresh.iter().zip(&reused) {
        assert_eq!(fresh_id, reused_id, "behaviour differs with reuse");
        assert_eq!(
            fresh_obs, reused_obs,
            "{fresh_id}: observation differs with reuse"
        );
    }
    assert!(
        created <= 2 * most_mocks,
        "{created} containers for -j 2 and at most {most_mocks} mock(s) per scenario"
    );
    let pid = std::process::id().to_string();
    assert_eq!(
        containers_with(&docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "containers left behind"
    );
    assert_eq!(
        networks_with(&docker, labels::PID, &pid).await,
        Vec::<String>::new(),
        "networks left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Docker engine: .ci/run runs these with `cargo test --test docker -- --ignored`"]
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
