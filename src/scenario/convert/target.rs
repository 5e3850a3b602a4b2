//! `target` → [`TargetSpec`]: how the system under test runs (a `command`, a container `image`
//! with its `port`, or a `url` already serving), its environment, its readiness probe
//! ([`ReadySpec`]) and the backend it asks for.

use super::{Cx, Fields, Scope, is_method};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    BackendChoice, DEFAULT_READY_WITHIN, DEFAULT_TARGET_PORT, ImageLaunch, Launch, ReadySpec,
    TargetSpec,
};
use crate::scenario::template::Template;
use crate::scenario::yaml::Node;

pub(super) const TARGET_KEYS: &[&str] = &[
    "command",
    "url",
    "image",
    "port",
    "env",
    "ready",
    "backend",
    "public_url",
];

pub(super) const READY_KEYS: &[&str] = &["http", "within"];

impl Cx<'_> {
    pub(super) fn target(&mut self, node: &Node) -> Option<TargetSpec> {
        let context = "in `target`";
        let fields = self.fields(node, TARGET_KEYS, "target", context)?;
        let scope = Scope::Target;
        let command = match fields.get("command") {
            Some(value) => self.target_command(value, context, scope).map(Some),
            None => Some(None),
        };
        let launch = if !self.target_forms_exclusive(&fields, context) {
            None
        } else if let Some(value) = fields.get("image") {
            let image = self.string(value, "image", context).and_then(|image| {
                if image.is_empty() || image.chars().any(char::is_whitespace) {
                    self.error(
                        Diagnostic::new(format!("invalid image `{image}` {context}"), Some(value.span))
                            .with_label("expected a local image tag, e.g. `reenact-target-ledger-sync:0a1b2c3d`")
                            .with_help("`reenact image BINARY` turns a binary into an image and prints its tag"),
                    );
                    return None;
                }
                Some(image)
            });
            let port = match fields.get("port") {
                Some(value) => self
                    .integer(value, "port", context, 1..=65535)
                    .map(|port| port as u16),
                None => Some(DEFAULT_TARGET_PORT),
            };
            match (image, command, port) {
                (Some(image), Some(args), Some(port)) => {
                    Some(Some(Launch::Image(ImageLaunch { image, args, port })))
                }
                _ => None,
            }
        } else if let Some(value) = fields.get("url") {
            self.string(value, "url", context)
                .and_then(|text| self.template(value, &text, scope))
                .filter(|url| self.target_url(value, url, context))
                .map(|url| Some(Launch::Url(url)))
        } else {
            command.map(|command| command.map(Launch::Command))
        };
        let env = match fields.get("env") {
            Some(value) => {
                let names_ok = self.env_fields(value, context);
                self.template_map(value, "env", context, scope)
                    .filter(|_| names_ok)
            }
            None => Some(Vec::new()),
        };
        let ready = match fields.get("ready") {
            Some(value) => self.ready(value).map(Some),
            None => Some(None),
        };
        let backend = match fields.get("backend") {
            Some(value) => self
                .choice(
                    value,
                    "backend",
                    context,
                    &[
                        ("inprocess", BackendChoice::Inprocess),
                        ("docker", BackendChoice::Docker),
                    ],
                )
                .map(Some),
            None => Some(None),
        };
        let public_url = match fields.get("public_url") {
            Some(value) => self.public_url(value, context).map(Some),
            None => Some(None),
        };
        Some(TargetSpec {
            launch: launch?,
            env: env?,
            ready: ready?,
            backend: backend?,
            public_url: public_url?,
        })
    }

    /// `target.public_url`: an `http://` or `https://` origin, a host and an optional port,
    /// nothing after it but a `/` (the target's paths are the flow's).
    fn public_url(&mut self, node: &Node, context: &str) -> Option<String> {
        let text = self.string(node, "public_url", context)?;
        let problem = match reqwest::Url::parse(&text) {
            Err(err) => Some(format!("not a URL: {err}")),
            Ok(url) if !matches!(url.scheme(), "http" | "https") => Some(format!(
                "the scheme is `{}`, not `http` or `https`",
                url.scheme()
            )),
            Ok(url) if url.host_str().is_none_or(str::is_empty) => {
                Some("the URL has no host".to_string())
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                Some("it carries credentials".to_string())
            }
            Ok(url) if url.path() != "/" || url.query().is_some() || url.fragment().is_some() => {
                Some("it has more than a scheme, host and port".to_string())
            }
            Ok(url) => return Some(url.origin().ascii_serialization()),
        };
        let example = reqwest::Url::parse(&text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        let mut diagnostic = Diagnostic::new(
            format!(
                "invalid `public_url` {context}: {}",
                problem.unwrap_or_default()
            ),
            Some(node.span),
        )
        .with_label(
            "expected the origin the target's users reach it at, e.g. `https://ledger.acme.test`",
        );
        if let Some(origin) = example {
            diagnostic = diagnostic.with_help(format!("did you mean `{origin}`?"));
        }
        self.error(diagnostic);
        None
    }

    /// Whether `target.url` is an `http://` or `https://` URL with a host. A templated URL is
    /// known only when it is rendered: its text before the first placeholder must start one.
    fn target_url(&mut self, node: &Node, url: &Template, context: &str) -> bool {
        let source = url.source();
        let problem = if url.is_literal() {
            match reqwest::Url::parse(source) {
                Err(err) => Some(format!("not a URL: {err}")),
                Ok(parsed) if !matches!(parsed.scheme(), "http" | "https") => Some(format!(
                    "the scheme is `{}`, not `http` or `https`",
                    parsed.scheme()
                )),
                Ok(parsed) if parsed.host_str().is_none_or(str::is_empty) => {
                    Some("the URL has no host".to_string())
                }
                Ok(_) => None,
            }
        } else {
            let prefix = &source[..source.find("{{").unwrap_or(source.len())];
            let starts_a_url = ["http://", "https://"]
                .iter()
                .any(|scheme| prefix.starts_with(scheme) || scheme.starts_with(prefix));
            (!starts_a_url).then(|| "it does not start with `http://` or `https://`".to_string())
        };
        let Some(problem) = problem else {
            return true;
        };
        self.error(
            Diagnostic::new(
                format!("invalid `url` {context}: {problem}"),
                Some(node.span),
            )
            .with_label("expected the URL of the running target, e.g. `http://127.0.0.1:8080`"),
        );
        false
    }

    /// `target.command`: a program and its arguments, or with `image` the container's arguments.
    fn target_command(
        &mut self,
        value: &Node,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<Vec<Template>> {
        let items = self.non_empty_list(
            value,
            "command",
            context,
            "give the program and its arguments (with `image`: the arguments)",
        )?;
        self.each_item(items, |cx, _, item| {
            let text = cx.scalar_text(item, "command", context)?;
            cx.template(item, &text, scope)
        })
    }

    /// The target forms: `url` excludes `command` and `image`; `port` needs `image`.
    fn target_forms_exclusive(&mut self, fields: &Fields<'_>, context: &str) -> bool {
        let mut ok = true;
        for other in ["command", "image"] {
            if let (Some(_), Some(url)) = (fields.key(other), fields.key("url")) {
                self.error(
                    Diagnostic::new(
                        format!("`{other}` and `url` cannot both be given {context}"),
                        Some(url.span),
                    )
                    .with_label("`url` is for a target that is already running")
                    .with_help("keep `url`, or drop it and start the target with `command` (a process) or `image` (a container, with `command` as its arguments)"),
                );
                ok = false;
            }
        }
        if let (Some(port), None) = (fields.key("port"), fields.key("image")) {
            self.error(
                Diagnostic::new(
                    format!("`port` {context} is only for an `image` target"),
                    Some(port.span),
                )
                .with_label("the port a container target listens on")
                .with_help(
                    "a `command` target listens on `{{ target.port }}`, which reenact chooses",
                ),
            );
            ok = false;
        }
        ok
    }

    fn ready(&mut self, node: &Node) -> Option<ReadySpec> {
        let context = "in `target.ready`";
        let fields = self.fields(node, READY_KEYS, "ready", context)?;
        let within = match fields.get("within") {
            Some(value) => self.duration(value, "within", context),
            None => Some(DEFAULT_READY_WITHIN),
        };
        let Some(http) = fields.get("http") else {
            self.missing(&fields, "http", context);
            return None;
        };
        let text = self.string(http, "http", context)?;
        let probe = text
            .split_once(' ')
            .map(|(method, path)| (method.trim(), path.trim()))
            .filter(|(method, path)| is_method(method) && path.starts_with('/'));
        let Some((method, path)) = probe else {
            self.error(
                Diagnostic::new(format!("invalid readiness probe `{text}`"), Some(http.span))
                    .with_label("expected `METHOD /path`, e.g. `GET /healthz`"),
            );
            return None;
        };
        Some(ReadySpec {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            within: within?,
        })
    }
}
