//! Faults → [`Fault`]: a stub's `faults` (which requests, by `nth`, `times`, `every`, `after` and
//! a seeded `probability`, and the `action`: a canned response, a delay, a timeout, a reset, an
//! empty, truncated, garbage or slow body, or `commit_then`), and a provider mock's route faults
//! ([`RouteFault`]: the same, on the requests `when: { method, path }` selects).

use std::time::Duration;

use super::{Cx, list_keys, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    CommitThen, DEFAULT_GARBAGE_BYTES, DEFAULT_SLOW_CHUNK, DEFAULT_SLOW_EVERY, DelayDraw, Fault,
    FaultAction, FaultSelector, Probability, RandomDelay, RouteFault,
};
use crate::scenario::yaml::{Node, NodeKind, Scalar};

pub(super) const FAULT_KEYS: &[&str] = &[
    "name",
    "nth",
    "times",
    "every",
    "after",
    "probability",
    "seed",
    "action",
];

/// Keys of a mock-level fault: a stub fault's, plus the route it selects.
pub(super) const ROUTE_FAULT_KEYS: &[&str] = &[
    "when",
    "name",
    "nth",
    "times",
    "every",
    "after",
    "probability",
    "seed",
    "action",
];

pub(super) const WHEN_KEYS: &[&str] = &["method", "path"];

pub(super) const ACTION_KEYS: &[&str] = &[
    "respond",
    "delay",
    "timeout",
    "reset",
    "empty",
    "truncated",
    "garbage",
    "malformed_chunk",
    "slow_body",
    "commit_then",
];

pub(super) const TRUNCATED_KEYS: &[&str] = &["bytes"];
pub(super) const GARBAGE_KEYS: &[&str] = &["bytes"];
pub(super) const SLOW_BODY_KEYS: &[&str] = &["chunk", "every", "chunks", "over"];
pub(super) const DELAY_KEYS: &[&str] = &["uniform", "lognormal", "fixed", "seed"];
pub(super) const UNIFORM_KEYS: &[&str] = &["lower", "upper"];
pub(super) const LOGNORMAL_KEYS: &[&str] = &["median", "sigma", "max"];

/// Most writes a `slow_body: { chunks }` dribble makes.
const MAX_DRIBBLE_CHUNKS: u64 = 100_000;

pub(super) const COMMIT_THEN_KEYS: &[&str] = &[
    "delay",
    "reset",
    "status",
    "headers",
    "json",
    "body",
    "body_file",
];

impl Cx<'_> {
    pub(super) fn fault(&mut self, node: &Node, context: &str) -> Option<Fault> {
        self.fault_with_keys(node, FAULT_KEYS, context)
    }

    /// A fault whose mapping may hold `keys` (the caller reads any key beyond [`FAULT_KEYS`]).
    fn fault_with_keys(&mut self, node: &Node, keys: &[&str], context: &str) -> Option<Fault> {
        let fields = self.fields(node, keys, "faults", context)?;
        let name = fields
            .get("name")
            .map(|value| self.string(value, "name", context));
        let nth = match fields.get("nth") {
            Some(value) => self.nth(value, context),
            None => Some(Vec::new()),
        };
        let count = |cx: &mut Self, key: &str| {
            fields
                .get(key)
                .map(|value| cx.integer(value, key, context, 1..=u64::MAX))
        };
        let times = count(self, "times");
        let every = count(self, "every");
        let after = fields
            .get("after")
            .map(|value| self.duration(value, "after", context));
        let seed = match fields.get("seed") {
            Some(value) => {
                if !fields.has("probability") {
                    self.error(
                        Diagnostic::new(
                            format!("`seed` needs `probability` {context}"),
                            fields.key("seed").map(|key| key.span),
                        )
                        .with_label("a seed only drives `probability`"),
                    );
                }
                self.integer(value, "seed", context, 0..=u64::MAX)
            }
            None => Some(0),
        };
        let probability = fields
            .get("probability")
            .map(|value| self.probability(value, context));
        let action = self.required(&fields, "action", context, |this, value| {
            this.fault_action(value, context)
        });
        let probability = present(probability)?;
        let seed = seed?;
        Some(Fault {
            name: present(name)?,
            selector: FaultSelector {
                nth: nth?,
                times: present(times)?,
                every: present(every)?,
                after: present(after)?,
                probability: probability.map(|chance| Probability { chance, seed }),
            },
            action: action?,
        })
    }

    /// `nth: 3` or `nth: [1, 3]`: 1-based request counts.
    fn nth(&mut self, node: &Node, context: &str) -> Option<Vec<u64>> {
        match &node.kind {
            NodeKind::Sequence(items) => {
                if items.is_empty() {
                    self.error(
                        Diagnostic::new(format!("`nth` {context} is empty"), Some(node.span))
                            .with_label("give at least one request number"),
                    );
                    return None;
                }
                self.each_item(items, |cx, _, item| {
                    cx.integer(item, "nth", context, 1..=u64::MAX)
                })
            }
            _ => self
                .integer(node, "nth", context, 1..=u64::MAX)
                .map(|n| vec![n]),
        }
    }

    /// A chance between 0 and 1 inclusive.
    fn probability(&mut self, node: &Node, context: &str) -> Option<f64> {
        self.number_between(node, "probability", context, 0.0, 1.0)
    }

    /// A number between `low` and `high` inclusive.
    fn number_between(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        low: f64,
        high: f64,
    ) -> Option<f64> {
        let value = match node.scalar() {
            Some(Scalar::Float(x)) => x,
            Some(Scalar::Int(n)) => n as f64,
            Some(Scalar::UInt(n)) => n as f64,
            _ => {
                self.type_error(node, "a number", key, context);
                return None;
            }
        };
        if (low..=high).contains(&value) {
            return Some(value);
        }
        self.error(
            Diagnostic::new(
                format!(
                    "`{key}` {context} must be between {low} and {high}, found `{}`",
                    node.text().unwrap_or_default()
                ),
                Some(node.span),
            )
            .with_label("out of range"),
        );
        None
    }

    /// `delay: 3s`, or a delay drawn per request:
    /// `delay: { uniform: { lower, upper } | lognormal: { median, sigma, max }, fixed, seed }`.
    fn delay(&mut self, node: &Node, context: &str) -> Option<FaultAction> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            return self
                .duration(node, "delay", context)
                .map(FaultAction::Delay);
        }
        let fields = self.fields(node, DELAY_KEYS, "delay", context)?;
        let draws = ["uniform", "lognormal"];
        if !self.at_most_one(&fields, &draws, context) {
            return None;
        }
        let fixed = match fields.get("fixed") {
            Some(value) => self.duration(value, "fixed", context),
            None => Some(Duration::ZERO),
        };
        let seed = match fields.get("seed") {
            Some(value) => self.integer(value, "seed", context, 0..=u64::MAX),
            None => Some(0),
        };
        let draw = if let Some(value) = fields.get("uniform") {
            self.uniform(value, context)
        } else if let Some(value) = fields.get("lognormal") {
            self.lognormal(value, context)
        } else {
            if fields.unknown.is_empty() {
                self.error(
                    Diagnostic::new(
                        format!("a `delay` mapping {context} needs a distribution"),
                        Some(node.span),
                    )
                    .with_label("give `uniform` or `lognormal`")
                    .with_help(
                        "`delay: { uniform: { lower: 100ms, upper: 300ms } }`, or a fixed `delay: 200ms`",
                    ),
                );
            }
            None
        };
        Some(FaultAction::RandomDelay(RandomDelay {
            fixed: fixed?,
            draw: draw?,
            seed: seed?,
        }))
    }

    fn uniform(&mut self, node: &Node, context: &str) -> Option<DelayDraw> {
        let fields = self.fields(node, UNIFORM_KEYS, "uniform", context)?;
        let lower = self.required_duration(&fields, node, "lower", "uniform", context);
        let upper = self.required_duration(&fields, node, "upper", "uniform", context);
        let (lower, upper) = (lower?, upper?);
        if lower > upper {
            self.error(
                Diagnostic::new(
                    format!("`lower` is above `upper` in `uniform` {context}"),
                    fields.key("lower").map(|key| key.span),
                )
                .with_label("the shortest draw must not be longer than the longest"),
            );
            return None;
        }
        Some(DelayDraw::Uniform { lower, upper })
    }

    fn lognormal(&mut self, node: &Node, context: &str) -> Option<DelayDraw> {
        let fields = self.fields(node, LOGNORMAL_KEYS, "lognormal", context)?;
        let median = self.required_duration(&fields, node, "median", "lognormal", context);
        let sigma = match fields.get("sigma") {
            Some(value) => self.number_between(value, "sigma", context, 0.0, 10.0),
            None => {
                self.error(
                    Diagnostic::new(
                        format!("`lognormal` {context} needs `sigma`"),
                        Some(node.span),
                    )
                    .with_label("the spread: σ of the underlying normal distribution, e.g. 0.4"),
                );
                None
            }
        };
        let max = fields
            .get("max")
            .map(|value| self.duration(value, "max", context));
        let (median, sigma, max) = (median?, sigma?, present(max)?);
        if max.is_some_and(|max| max < median) {
            self.error(
                Diagnostic::new(
                    format!("`max` is below `median` in `lognormal` {context}"),
                    fields.key("max").map(|key| key.span),
                )
                .with_label("the longest draw must be at least the median (as WireMock requires)"),
            );
            return None;
        }
        Some(DelayDraw::LogNormal { median, sigma, max })
    }

    /// A duration under `key` that must be given.
    fn required_duration(
        &mut self,
        fields: &super::cx::Fields<'_>,
        node: &Node,
        key: &str,
        owner: &str,
        context: &str,
    ) -> Option<Duration> {
        match fields.get(key) {
            Some(value) => self.duration(value, key, context),
            // A misspelt key was already reported with its did-you-mean.
            None if !fields.unknown.is_empty() => None,
            None => {
                self.error(
                    Diagnostic::new(
                        format!("`{owner}` {context} needs `{key}`"),
                        Some(node.span),
                    )
                    .with_label(format!("give `{key}`, a duration such as `100ms`")),
                );
                None
            }
        }
    }

    /// `true`, as `timeout: true` requires; `false` is an error rather than a silent no-op.
    fn must_be_true(&mut self, node: &Node, key: &str, context: &str) -> Option<()> {
        match self.boolean(node, key, context)? {
            true => Some(()),
            false => {
                self.error(
                    Diagnostic::new(format!("`{key}` {context} must be `true`"), Some(node.span))
                        .with_label("remove the fault instead of turning it off"),
                );
                None
            }
        }
    }

    /// The `action` of the fault described by `fault` (`in fault 1 of stub 2 of mock …`).
    fn fault_action(&mut self, node: &Node, fault: &str) -> Option<FaultAction> {
        let owner = &fault[3..];
        let action_context = format!("in the action of {owner}");
        let context = action_context.as_str();
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", "action", fault);
            return None;
        }
        let fields = self.fields(node, ACTION_KEYS, "action", context)?;
        if !self.at_most_one(&fields, ACTION_KEYS, context) {
            return None;
        }
        let Some((key, _, value)) = fields.entries.first().copied() else {
            if fields.unknown.is_empty() {
                self.error(
                    Diagnostic::new(format!("empty `action` {fault}"), Some(node.span))
                        .with_label(format!("give one of {}", list_keys(ACTION_KEYS))),
                );
            }
            return None;
        };
        match key {
            "respond" => self
                .response(value, &format!("in the `respond` action of {owner}"))
                .map(FaultAction::Respond),
            "delay" => self.delay(value, context),
            "timeout" => self
                .must_be_true(value, key, context)
                .map(|()| FaultAction::Timeout),
            "reset" => self
                .must_be_true(value, key, context)
                .map(|()| FaultAction::Reset),
            "empty" => self
                .must_be_true(value, key, context)
                .map(|()| FaultAction::Empty),
            "malformed_chunk" => self
                .must_be_true(value, key, context)
                .map(|()| FaultAction::MalformedChunk),
            "truncated" => {
                let fields = self.fields(value, TRUNCATED_KEYS, key, context)?;
                let bytes = fields
                    .get("bytes")
                    .map(|value| self.integer(value, "bytes", context, 0..=u64::MAX));
                Some(FaultAction::Truncated {
                    bytes: present(bytes)?,
                })
            }
            "garbage" => {
                let fields = self.fields(value, GARBAGE_KEYS, key, context)?;
                let bytes = match fields.get("bytes") {
                    Some(value) => self.integer(value, "bytes", context, 1..=1_048_576),
                    None => Some(DEFAULT_GARBAGE_BYTES),
                };
                Some(FaultAction::Garbage { bytes: bytes? })
            }
            "slow_body" => {
                let fields = self.fields(value, SLOW_BODY_KEYS, key, context)?;
                if fields.has("chunks") || fields.has("over") {
                    return self.dribble(&fields, value, context);
                }
                let chunk = match fields.get("chunk") {
                    Some(value) => self.integer(value, "chunk", context, 1..=u64::MAX),
                    None => Some(DEFAULT_SLOW_CHUNK),
                };
                let every = match fields.get("every") {
                    Some(value) => self.duration(value, "every", context),
                    None => Some(DEFAULT_SLOW_EVERY),
                };
                Some(FaultAction::SlowBody {
                    chunk: chunk?,
                    every: every?,
                })
            }
            _ => self
                .commit_then(value, &format!("in the `commit_then` action of {owner}"))
                .map(FaultAction::CommitThen),
        }
    }

    /// `slow_body: { chunks: N, over: D }`: N writes over D, not with `chunk` / `every`.
    fn dribble(
        &mut self,
        fields: &super::cx::Fields<'_>,
        node: &Node,
        context: &str,
    ) -> Option<FaultAction> {
        if let Some(key) = ["chunk", "every"].into_iter().find(|key| fields.has(key)) {
            self.error(
                Diagnostic::new(
                    format!("`{key}` with `chunks` / `over` in `slow_body` {context}"),
                    fields.key(key).map(|key| key.span),
                )
                .with_label(
                    "pace by bytes (`chunk`, `every`) or by count (`chunks`, `over`), not both",
                ),
            );
            return None;
        }
        let chunks = match fields.get("chunks") {
            Some(value) => self.integer(value, "chunks", context, 1..=MAX_DRIBBLE_CHUNKS),
            None => Some(1),
        };
        let over = self.required_duration(fields, node, "over", "slow_body", context);
        Some(FaultAction::Dribble {
            chunks: chunks?,
            over: over?,
        })
    }

    fn commit_then(&mut self, node: &Node, context: &str) -> Option<CommitThen> {
        let fields = self.fields(node, COMMIT_THEN_KEYS, "commit_then", context)?;
        let response_keys = ["status", "headers", "json", "body", "body_file"];
        let given_response = response_keys.iter().find(|key| fields.has(key));
        let then: Vec<&str> = ["delay", "reset"]
            .into_iter()
            .chain(given_response.copied())
            .filter(|key| fields.has(key))
            .collect();
        if then.len() > 1 {
            self.error(
                Diagnostic::new(
                    format!(
                        "`{}` and `{}` cannot both be given {context}",
                        then[0], then[1]
                    ),
                    fields.key(then[1]).map(|key| key.span),
                )
                .with_label(
                    "give `delay`, `reset`, or a response (`status`, `headers`, `json` | `body`)",
                ),
            );
            return None;
        }
        if let Some(value) = fields.get("delay") {
            self.duration(value, "delay", context)
                .map(CommitThen::Delay)
        } else if let Some(value) = fields.get("reset") {
            self.must_be_true(value, "reset", context)
                .map(|()| CommitThen::Reset)
        } else if given_response.is_some() {
            // Unknown keys were reported above; reading the response would report them again.
            if !fields.unknown.is_empty() {
                return None;
            }
            self.response(node, context).map(CommitThen::Respond)
        } else {
            if fields.unknown.is_empty() {
                self.error(
                    Diagnostic::new(format!("nothing to do after the commit {context}"), Some(node.span))
                        .with_label("give `delay`, `reset`, or a response (`status`, `headers`, `json` | `body`)"),
                );
            }
            None
        }
    }

    /// Mock-level `faults`: stub faults with `when: { method, path }`.
    pub(super) fn route_faults(&mut self, node: &Node, mock: &str) -> Option<Vec<RouteFault>> {
        let items = self.list(node, "faults", &format!("in mock `{mock}`"))?;
        self.each_item(items, |cx, index, item| {
            cx.route_fault(item, &format!("in fault {} of mock `{mock}`", index + 1))
        })
    }

    fn route_fault(&mut self, node: &Node, context: &str) -> Option<RouteFault> {
        let fault = self.fault_with_keys(node, ROUTE_FAULT_KEYS, context);
        let NodeKind::Mapping(entries) = &node.kind else {
            return None;
        };
        let when = entries
            .iter()
            .find(|(key, _)| key.text() == Some("when"))
            .map(|(_, value)| value);
        let Some(when) = when else {
            self.error(
                Diagnostic::new(format!("missing field `when` {context}"), Some(node.span))
                    .with_label(
                        "`when` is required: `when: { method: POST, path: /api.xro/2.0/Invoices }`",
                    ),
            );
            return None;
        };
        let when_context = format!("in `when` {context}");
        let fields = self.fields(when, WHEN_KEYS, "when", &when_context)?;
        let method = fields
            .get("method")
            .map(|value| self.method(value, &when_context));
        let path = match fields.get("path") {
            Some(value) => self.string(value, "path", &when_context).and_then(|text| {
                if text.starts_with('/') && !text.contains('?') {
                    Some(text)
                } else {
                    self.error(
                        Diagnostic::new(format!("invalid path `{text}`"), Some(value.span))
                            .with_label("an exact path, starting with `/`, without a query string"),
                    );
                    None
                }
            }),
            None => {
                self.missing(&fields, "path", &when_context);
                None
            }
        };
        Some(RouteFault {
            method: present(method)?,
            path: path?,
            fault: fault?,
        })
    }
}
