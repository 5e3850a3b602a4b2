//! `with:` of `provider: oidc` → [`OidcSettings`]: the profile and issuer, clients, users and
//! groups, the signing algorithm, a key rotation, the IdP's clock and per-claim overrides. Every
//! mistake is a diagnostic at the offending node, with a hint.

use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::read::AfterBad;
use super::{Cx, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    ClaimOverrides, ClockAnchor, IdpClock, KeyRotation, OidcClient, OidcKey, OidcProfile,
    OidcSettings, OidcUser, SecretText, SigningAlg,
};
use crate::scenario::yaml::Node;

pub(super) const OIDC_KEYS: &[&str] = &[
    "profile",
    "issuer",
    "tenant_id",
    "domain",
    "clients",
    "users",
    "groups",
    "login",
    "alg",
    "rotation",
    "clock",
    "claims",
    "access_lifetime",
    "refresh_lifetime",
    "jwks_max_age",
    "keys",
];
pub(super) const OIDC_CLIENT_KEYS: &[&str] =
    &["client_id", "client_secret", "redirect_uris", "spa"];
pub(super) const OIDC_USER_KEYS: &[&str] = &["sub", "email", "name", "groups", "claims"];
pub(super) const OIDC_SIGNING_KEY_KEYS: &[&str] = &["file", "kid"];
pub(super) const OIDC_ROTATION_KEYS: &[&str] = &["at", "publish_next_at"];
pub(super) const OIDC_CLOCK_KEYS: &[&str] = &["anchor", "offset"];
pub(super) const OIDC_CLAIM_KEYS: &[&str] = &[
    "iss",
    "aud",
    "lifetime",
    "nbf_offset",
    "iat_offset",
    "tid",
    "nonce",
    "kid",
    "wrong_key",
    "extra",
];

const PROFILES: &[(&str, OidcProfile)] = &[
    ("generic", OidcProfile::Generic),
    ("entra", OidcProfile::Entra),
    ("okta", OidcProfile::Okta),
    ("google", OidcProfile::Google),
];
const ALGS: &[(&str, SigningAlg)] = &[("RS256", SigningAlg::RS256), ("ES256", SigningAlg::ES256)];
const ANCHORS: &[(&str, ClockAnchor)] = &[
    ("virtual", ClockAnchor::Virtual),
    ("real", ClockAnchor::Real),
];
/// Claims the fake writes itself: `extra` and a user's `claims` cannot set them.
const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "auth_time",
    "tid",
    "azp",
];
/// Default access-token lifetime (one hour: Entra's, Okta's and Google's default).
const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);
/// Entra's refresh tokens expire after 90 days of inactivity [MS-QA-700082].
const ENTRA_REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 86_400);
/// Refresh lifetime of the other profiles (reenact's choice: 30 days).
const DEFAULT_REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// Default JWKS `Cache-Control: max-age` (reenact's choice: one day).
const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(86_400);
/// Longest id, secret or claim text accepted.
const MAX_TEXT: usize = 512;
/// Longest lifetime accepted (a hundred years: times stay far inside what a date can hold).
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 366 * 86_400);

impl Cx<'_> {
    /// `with:` of `provider: oidc`.
    pub(super) fn oidc(&mut self, node: &Node, mock: &str) -> Option<OidcSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, OIDC_KEYS, "with", &context)?;
        let profile = match fields.get("profile") {
            Some(value) => self.choice(value, "profile", &context, PROFILES),
            None => Some(OidcProfile::Generic),
        };
        let issuer = fields.get("issuer").map(|value| {
            self.absolute_url(
                value,
                "issuer",
                &context,
                "https://app.example.com/callback",
            )
        });
        let tenant_id = fields
            .get("tenant_id")
            .map(|value| self.oidc_word(value, "tenant_id", &context));
        let domain = fields.get("domain").map(|value| {
            let domain = self.oidc_word(value, "domain", &context)?;
            if domain.contains('.') && !domain.contains('/') && !domain.contains(':') {
                return Some(domain);
            }
            self.error(
                Diagnostic::new(format!("invalid `domain` `{domain}`"), Some(value.span))
                    .with_label("expected a host name alone")
                    .with_help("write the Okta org's domain, e.g. `acme.okta.com`"),
            );
            None
        });
        let groups = match fields.get("groups") {
            Some(value) => self.oidc_words(value, "groups", &context),
            None => Some(Vec::new()),
        };
        let clients = self.required(&fields, "clients", &context, |cx, value| {
            cx.oidc_clients(value, mock)
        });
        let users = self.required(&fields, "users", &context, |cx, value| {
            cx.oidc_users(value, mock, groups.as_deref().unwrap_or_default())
        });
        let login = fields.get("login").map(|value| {
            let sub = self.scalar_text(value, "login", &context)?;
            let known = users
                .as_ref()
                .is_none_or(|users| users.iter().any(|user| user.sub == sub));
            if known {
                return Some(sub);
            }
            self.error(
                Diagnostic::new(
                    format!("unknown user `{sub}` for `login`"),
                    Some(value.span),
                )
                .with_label("not the `sub` of a user in `users`")
                .with_help("name the `sub` of one of the users declared under `users`"),
            );
            None
        });
        let alg = match fields.get("alg") {
            Some(value) => self.choice(value, "alg", &context, ALGS),
            None => Some(SigningAlg::RS256),
        };
        let rotation = fields
            .get("rotation")
            .map(|value| self.oidc_rotation(value, mock));
        let clock = match fields.get("clock") {
            Some(value) => self.oidc_clock(value, mock),
            None => Some(IdpClock {
                anchor: ClockAnchor::Virtual,
                offset_seconds: 0,
            }),
        };
        let claims = match fields.get("claims") {
            Some(value) => self.oidc_claims(value, mock),
            None => Some(ClaimOverrides::default()),
        };
        let lifetime = |cx: &mut Self, key: &str, default: Duration| match fields.get(key) {
            Some(value) => cx.oidc_positive(value, key, &context),
            None => Some(default),
        };
        let access_lifetime = lifetime(self, "access_lifetime", DEFAULT_ACCESS_LIFETIME);
        let refresh_default = match profile {
            Some(OidcProfile::Entra) => ENTRA_REFRESH_LIFETIME,
            _ => DEFAULT_REFRESH_LIFETIME,
        };
        let refresh_lifetime = lifetime(self, "refresh_lifetime", refresh_default);
        let jwks_max_age = match fields.get("jwks_max_age") {
            Some(value) => self
                .duration(value, "jwks_max_age", &context)
                .and_then(|age| {
                    if age <= MAX_LIFETIME {
                        return Some(age);
                    }
                    self.error(
                        Diagnostic::new(
                            format!("`jwks_max_age` {context} must be at most 100 years"),
                            Some(value.span),
                        )
                        .with_label("longer than any cache keeps a key"),
                    );
                    None
                }),
            None => Some(DEFAULT_JWKS_MAX_AGE),
        };
        let keys = match (fields.get("keys"), alg) {
            (Some(value), Some(alg)) => self.oidc_keys(value, mock, alg),
            (Some(_), None) => None,
            (None, _) => Some(Vec::new()),
        };
        Some(OidcSettings {
            profile: profile?,
            issuer: present(issuer)?,
            tenant_id: present(tenant_id)?,
            domain: present(domain)?,
            clients: clients?,
            users: users?,
            groups: groups?,
            login: present(login)?,
            alg: alg?,
            rotation: present(rotation)?,
            clock: clock?,
            claims: claims?,
            access_lifetime: access_lifetime?,
            refresh_lifetime: refresh_lifetime?,
            jwks_max_age: jwks_max_age?,
            keys: keys?,
        })
    }

    /// `with.keys`: one or two `{ file, kid }`, the current and the next signing key, each a
    /// PEM PKCS#8 private key of `alg` inside the scenario root; unique `kid`s.
    fn oidc_keys(&mut self, node: &Node, mock: &str, alg: SigningAlg) -> Option<Vec<OidcKey>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "keys",
            &context,
            "name the current key, and optionally the next: `[{ file: keys/idp.pem, kid: idp-1 }]`",
        )?;
        if let Some(third) = items.get(2) {
            self.error(
                Diagnostic::new(format!("more than two `keys` {context}"), Some(third.span))
                    .with_label("the current key and the next one at most")
                    .with_help("a rotation switches from the first key to the second"),
            );
            return None;
        }
        let key_context = |index: usize| format!("in key {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| {
                let context = key_context(index);
                let fields = cx.fields(item, OIDC_SIGNING_KEY_KEYS, "keys", &context)?;
                let kid = cx.required(&fields, "kid", &context, |cx, value| {
                    cx.oidc_word(value, "kid", &context)
                });
                let pem = cx.required(&fields, "file", &context, |cx, value| {
                    let (name, text) = cx.text_file(value, "file", &context)?;
                    if pem_key_fits(alg, &text) {
                        return Some(text);
                    }
                    let (kind, command) = match alg {
                        SigningAlg::RS256 => (
                            "an RSA",
                            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
                        ),
                        SigningAlg::ES256 => (
                            "a P-256",
                            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                        ),
                    };
                    cx.error(
                        Diagnostic::new(
                            format!("`{name}` is not {kind} private key in PEM PKCS#8 {context}"),
                            Some(value.span),
                        )
                        .with_label(format!("`alg` is {alg:?}"))
                        .with_help(format!("make one with `{command}`")),
                    );
                    None
                });
                Some(OidcKey {
                    kid: kid?,
                    pem: SecretText(pem?),
                })
            },
            |key| Some(key.kid.clone()),
            |index, _, kid| {
                (
                    format!("duplicate kid `{kid}` {}", key_context(index)),
                    "every key's `kid` must be unique",
                )
            },
        )
    }

    /// A non-empty printable text without spaces, at most [`MAX_TEXT`] long.
    fn oidc_word(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        if !text.is_empty() && text.len() <= MAX_TEXT && text.chars().all(|c| c.is_ascii_graphic())
        {
            return Some(text);
        }
        self.error(
            Diagnostic::new(
                format!("invalid `{key}` `{text}` {context}"),
                Some(node.span),
            )
            .with_label(format!(
                "expected 1 to {MAX_TEXT} printable characters without spaces"
            )),
        );
        None
    }

    fn oidc_words(&mut self, node: &Node, key: &str, context: &str) -> Option<Vec<String>> {
        let items = self.list(node, key, context)?;
        self.each_item(items, |cx, _, item| cx.oidc_word(item, key, context))
    }

    /// A duration longer than zero and at most [`MAX_LIFETIME`].
    fn oidc_positive(&mut self, node: &Node, key: &str, context: &str) -> Option<Duration> {
        let value = self.duration(node, key, context)?;
        let (message, label) = if value.is_zero() {
            (
                format!("`{key}` {context} must be longer than zero"),
                "a lifetime of no time",
            )
        } else if value > MAX_LIFETIME {
            (
                format!("`{key}` {context} must be at most 100 years"),
                "longer than any token lives",
            )
        } else {
            return Some(value);
        };
        self.error(Diagnostic::new(message, Some(node.span)).with_label(label));
        None
    }

    /// A mapping of extra claims, none of them one the fake writes itself.
    fn oidc_extra(&mut self, node: &Node, key: &str, context: &str) -> Option<Map<String, Value>> {
        let entries = self.map_entries(node, key, context, |cx, name, value| {
            if let Some(name) = name.filter(|name| REGISTERED_CLAIMS.contains(name)) {
                cx.error(
                    Diagnostic::new(
                        format!("claim `{name}` in `{key}` {context} is written by the provider"),
                        Some(value.span),
                    )
                    .with_label("the provider writes this claim itself")
                    .with_help(format!(
                        "bend it with `claims: {{ {name}: .. }}` where the provider offers it"
                    )),
                );
                return None;
            }
            cx.json(value)
        })?;
        Some(entries.into_iter().collect())
    }

    fn oidc_clients(&mut self, node: &Node, mock: &str) -> Option<Vec<OidcClient>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "clients",
            &context,
            "register at least one client: `{ client_id: app, client_secret: s3cret, redirect_uris: [..] }`",
        )?;
        let client_context = |index: usize| format!("in client {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| {
                let context = client_context(index);
                let fields = cx.fields(item, OIDC_CLIENT_KEYS, "clients", &context)?;
                let client_id = cx.required(&fields, "client_id", &context, |cx, value| {
                    cx.oidc_word(value, "client_id", &context)
                });
                let client_secret = fields.get("client_secret").map(|value| {
                    cx.secret_setting(
                        value,
                        "client_secret",
                        &context,
                        "expected printable characters without spaces",
                        "omit `client_secret` for a public client (PKCE only)",
                    )
                });
                let redirect_uris = match fields.get("redirect_uris") {
                    Some(value) => cx.list(value, "redirect_uris", &context).and_then(|items| {
                        cx.each_item(items, |cx, _, item| {
                            cx.absolute_url(
                                item,
                                "redirect_uris",
                                &context,
                                "https://app.example.com/callback",
                            )
                        })
                    }),
                    None => Some(Vec::new()),
                };
                let spa = match fields.get("spa") {
                    Some(value) => cx.boolean(value, "spa", &context),
                    None => Some(false),
                };
                Some(OidcClient {
                    client_id: client_id?,
                    client_secret: present(client_secret)?,
                    redirect_uris: redirect_uris?,
                    spa: spa?,
                })
            },
            |client| Some(client.client_id.clone()),
            |index, _, id| {
                (
                    format!("duplicate client_id `{id}` {}", client_context(index)),
                    "every client_id must be unique",
                )
            },
        )
    }

    fn oidc_users(&mut self, node: &Node, mock: &str, groups: &[String]) -> Option<Vec<OidcUser>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "users",
            &context,
            "declare at least one user: `{ sub: alice, email: alice@acme.test }`",
        )?;
        let user_context = |index: usize| format!("in user {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| cx.oidc_user(item, &user_context(index), groups),
            |user| Some(user.sub.clone()),
            |index, _, sub| {
                (
                    format!("duplicate sub `{sub}` {}", user_context(index)),
                    "every user's `sub` must be unique",
                )
            },
        )
    }

    fn oidc_user(&mut self, node: &Node, context: &str, groups: &[String]) -> Option<OidcUser> {
        let fields = self.fields(node, OIDC_USER_KEYS, "users", context)?;
        let sub = self.required(&fields, "sub", context, |cx, value| {
            cx.oidc_word(value, "sub", context)
        });
        let email = fields
            .get("email")
            .map(|value| self.string(value, "email", context));
        let name = fields
            .get("name")
            .map(|value| self.string(value, "name", context));
        let member_of = match fields.get("groups") {
            Some(value) => self.list(value, "groups", context).and_then(|items| {
                self.each_item(items, |cx, _, item| {
                    let group = cx.scalar_text(item, "groups", context)?;
                    if groups.contains(&group) {
                        return Some(group);
                    }
                    cx.error(
                        Diagnostic::new(
                            format!("undeclared group `{group}` {context}"),
                            Some(item.span),
                        )
                        .with_label("not in `with.groups`")
                        .with_help("declare every group under `groups:` of the mock's `with`"),
                    );
                    None
                })
            }),
            None => Some(Vec::new()),
        };
        let claims = match fields.get("claims") {
            Some(value) => self.oidc_extra(value, "claims", context),
            None => Some(Map::new()),
        };
        Some(OidcUser {
            sub: sub?,
            email: present(email)?,
            name: present(name)?,
            groups: member_of?,
            claims: claims?,
        })
    }

    fn oidc_rotation(&mut self, node: &Node, mock: &str) -> Option<KeyRotation> {
        let context = format!("in `rotation` of mock `{mock}`");
        let fields = self.fields(node, OIDC_ROTATION_KEYS, "rotation", &context)?;
        let at = self.required(&fields, "at", &context, |cx, value| {
            cx.rfc3339_time(value, "at", &context)
        });
        let publish = fields
            .get("publish_next_at")
            .map(|value| self.rfc3339_time(value, "publish_next_at", &context));
        let publish = present(publish)?;
        let at = at?;
        if let (Some(publish), Some(node)) = (&publish, fields.get("publish_next_at")) {
            let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok();
            if parse(publish) > parse(&at) {
                self.error(
                    Diagnostic::new(
                        format!("`publish_next_at` {context} is after `at`"),
                        Some(node.span),
                    )
                    .with_label("the next key would sign before any JWKS lists it")
                    .with_help("publish the next key before (or when) signing switches to it"),
                );
                return None;
            }
        }
        Some(KeyRotation {
            at,
            publish_next_at: publish,
        })
    }

    fn oidc_clock(&mut self, node: &Node, mock: &str) -> Option<IdpClock> {
        let context = format!("in `clock` of mock `{mock}`");
        let fields = self.fields(node, OIDC_CLOCK_KEYS, "clock", &context)?;
        let anchor = match fields.get("anchor") {
            Some(value) => self.choice(value, "anchor", &context, ANCHORS),
            None => Some(ClockAnchor::Virtual),
        };
        let offset = match fields.get("offset") {
            Some(value) => self.signed_seconds(value, "offset", &context),
            None => Some(0),
        };
        Some(IdpClock {
            anchor: anchor?,
            offset_seconds: offset?,
        })
    }

    fn oidc_claims(&mut self, node: &Node, mock: &str) -> Option<ClaimOverrides> {
        let context = format!("in `claims` of mock `{mock}`");
        let fields = self.fields(node, OIDC_CLAIM_KEYS, "claims", &context)?;
        let text = |cx: &mut Self, key: &str| {
            fields
                .get(key)
                .map(|value| cx.oidc_word(value, key, &context))
        };
        let iss = text(self, "iss");
        let aud = text(self, "aud");
        let tid = text(self, "tid");
        let nonce = text(self, "nonce");
        let kid = text(self, "kid");
        let lifetime = fields
            .get("lifetime")
            .map(|value| self.oidc_positive(value, "lifetime", &context));
        let nbf = fields
            .get("nbf_offset")
            .map(|value| self.signed_seconds(value, "nbf_offset", &context));
        let iat = fields
            .get("iat_offset")
            .map(|value| self.signed_seconds(value, "iat_offset", &context));
        let wrong_key = match fields.get("wrong_key") {
            Some(value) => self.boolean(value, "wrong_key", &context),
            None => Some(false),
        };
        let extra = match fields.get("extra") {
            Some(value) => self.oidc_extra(value, "extra", &context),
            None => Some(Map::new()),
        };
        Some(ClaimOverrides {
            iss: present(iss)?,
            aud: present(aud)?,
            lifetime: present(lifetime)?,
            nbf_offset_seconds: present(nbf)?,
            iat_offset_seconds: present(iat)?,
            tid: present(tid)?,
            nonce: present(nonce)?,
            kid: present(kid)?,
            wrong_key: wrong_key?,
            extra: extra?,
        })
    }
}

/// Whether `pem` holds a PEM `PRIVATE KEY` (PKCS#8) that `ring` loads for `alg`.
fn pem_key_fits(alg: SigningAlg, pem: &str) -> bool {
    let Some(der) = crate::pem::block(pem, "PRIVATE KEY") else {
        return false;
    };
    match alg {
        SigningAlg::RS256 => ring::signature::RsaKeyPair::from_pkcs8(&der).is_ok(),
        SigningAlg::ES256 => ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &ring::rand::SystemRandom::new(),
        )
        .is_ok(),
    }
}
