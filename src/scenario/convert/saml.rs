//! `with:` of `provider: saml` → [`SamlSettings`]: the IdP's entity id, its service provider,
//! its users and the knobs that bend each rule of a Response. Every mistake is a diagnostic at
//! the offending node, with a hint.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Cx, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    NAME_ID_EMAIL, SamlClock, SamlKeyPair, SamlRotation, SamlServiceProvider, SamlSettings,
    SamlSigning, SamlUser, SecretText,
};
use crate::scenario::yaml::{Node, NodeKind};

pub(super) const SAML_KEYS: &[&str] = &[
    "entity_id",
    "base_url",
    "sp",
    "users",
    "sign",
    "name_id_format",
    "lifetime",
    "not_before",
    "clock",
    "clock_offset",
    "audience",
    "recipient",
    "destination",
    "in_response_to",
    "signing_cert",
    "keys",
    "rotation",
    "wrapping",
];
pub(super) const SAML_SP_KEYS: &[&str] = &["entity_id", "acs_url"];
pub(super) const SAML_USER_KEYS: &[&str] = &["name_id", "attributes"];
pub(super) const SAML_ROTATION_KEYS: &[&str] = &["to", "at", "retire"];
pub(super) const SAML_KEY_FILE_KEYS: &[&str] = &["key_file", "cert_file"];

/// Short names of the NameID formats of SAML Core 8.3 and their URIs.
pub(super) const NAME_ID_FORMATS: &[(&str, &str)] = &[
    ("emailAddress", NAME_ID_EMAIL),
    (
        "unspecified",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    ),
    (
        "persistent",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    ),
    (
        "transient",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    ),
];
/// The default assertion lifetime: 5 minutes (reenact's choice, see `docs/providers/saml.md`).
const DEFAULT_LIFETIME_SECONDS: i64 = 300;
/// Longest text a setting may hold.
const MAX_TEXT: usize = 2048;

impl Cx<'_> {
    /// `with:` of `provider: saml`.
    pub(super) fn saml(&mut self, node: &Node, mock: &str) -> Option<SamlSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, SAML_KEYS, "with", &context)?;
        let entity_id = self.required(&fields, "entity_id", &context, |cx, value| {
            cx.saml_text(
                value,
                "entity_id",
                &context,
                "the IdP's entity id, e.g. `https://idp.acme.test/saml`",
            )
        });
        let base_url = fields.get("base_url").map(|value| {
            self.absolute_url(
                value,
                "base_url",
                &context,
                "https://app.acme.test/saml/acs",
            )
        });
        let sp = self.required(&fields, "sp", &context, |cx, value| cx.saml_sp(value, mock));
        let users = self.required(&fields, "users", &context, |cx, value| {
            cx.saml_users(value, mock)
        });
        let sign = match fields.get("sign") {
            Some(value) => self.choice(
                value,
                "sign",
                &context,
                &[
                    ("response", SamlSigning::Response),
                    ("assertion", SamlSigning::Assertion),
                    ("both", SamlSigning::Both),
                    ("none", SamlSigning::None),
                ],
            ),
            None => Some(SamlSigning::Both),
        };
        let name_id_format = match fields.get("name_id_format") {
            Some(value) => self.saml_name_id_format(value, &context),
            None => Some(NAME_ID_EMAIL.to_owned()),
        };
        let lifetime = match fields.get("lifetime") {
            Some(value) => self
                .signed_seconds(value, "lifetime", &context)
                .and_then(|s| {
                    if s > 0 {
                        return Some(s);
                    }
                    self.error(
                        Diagnostic::new(
                            format!("`lifetime` {context} must be longer than zero"),
                            Some(value.span),
                        )
                        .with_label("an assertion valid for no time")
                        .with_help("to issue expired assertions, set `clock_offset`, e.g. `-10m`"),
                    );
                    None
                }),
            None => Some(DEFAULT_LIFETIME_SECONDS),
        };
        let not_before = match fields.get("not_before") {
            Some(value) => self.signed_seconds(value, "not_before", &context),
            None => Some(0),
        };
        let clock = match fields.get("clock") {
            Some(value) => self.choice(
                value,
                "clock",
                &context,
                &[("virtual", SamlClock::Virtual), ("real", SamlClock::Real)],
            ),
            None => Some(SamlClock::Virtual),
        };
        let clock_offset = match fields.get("clock_offset") {
            Some(value) => self.signed_seconds(value, "clock_offset", &context),
            None => Some(0),
        };
        let optional_text = |cx: &mut Self, key: &str| {
            fields
                .get(key)
                .map(|value| cx.saml_text(value, key, &context, "write the value to send"))
        };
        let audience = optional_text(self, "audience");
        let recipient = optional_text(self, "recipient");
        let destination = optional_text(self, "destination");
        let in_response_to = optional_text(self, "in_response_to");
        let signing_cert = match fields.get("signing_cert") {
            Some(value) => self.saml_key(value, "signing_cert", &context),
            None => Some(1),
        };
        let keys = match fields.get("keys") {
            Some(value) => self.saml_keys(value, mock),
            None => Some(Vec::new()),
        };
        let rotation = fields
            .get("rotation")
            .map(|value| self.saml_rotation(value, mock, signing_cert));
        let wrapping = match fields.get("wrapping") {
            Some(value) => self.boolean(value, "wrapping", &context),
            None => Some(false),
        };
        Some(SamlSettings {
            entity_id: entity_id?,
            base_url: present(base_url)?,
            sp: sp?,
            users: users?,
            sign: sign?,
            name_id_format: name_id_format?,
            lifetime_seconds: lifetime?,
            not_before_seconds: not_before?,
            clock: clock?,
            clock_offset_seconds: clock_offset?,
            audience: present(audience)?,
            recipient: present(recipient)?,
            destination: present(destination)?,
            in_response_to: present(in_response_to)?,
            signing_cert: signing_cert?,
            keys: keys?,
            rotation: present(rotation)?,
            wrapping: wrapping?,
        })
    }

    /// Non-empty text of at most [`MAX_TEXT`] characters without control characters.
    fn saml_text(&mut self, node: &Node, key: &str, context: &str, help: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        if !text.trim().is_empty() && text.len() <= MAX_TEXT && !text.chars().any(char::is_control)
        {
            return Some(text);
        }
        self.error(
            Diagnostic::new(format!("invalid `{key}` {context}"), Some(node.span))
                .with_label(format!(
                    "expected 1 to {MAX_TEXT} characters without control characters"
                ))
                .with_help(help.to_owned()),
        );
        None
    }

    /// `name_id_format`: a short name of [`NAME_ID_FORMATS`] or any `urn:` URI.
    fn saml_name_id_format(&mut self, node: &Node, context: &str) -> Option<String> {
        let text = self.string(node, "name_id_format", context)?;
        if let Some((_, uri)) = NAME_ID_FORMATS.iter().find(|(name, _)| *name == text) {
            return Some((*uri).to_owned());
        }
        if text.starts_with("urn:")
            && text.len() <= MAX_TEXT
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Some(text);
        }
        let names: Vec<&str> = NAME_ID_FORMATS.iter().map(|(name, _)| *name).collect();
        self.error(
            Diagnostic::new(
                format!("invalid `name_id_format` `{text}` {context}"),
                Some(node.span),
            )
            .with_label(format!(
                "expected one of {} or a `urn:` URI",
                names.join(", ")
            ))
            .with_help(
                "e.g. `persistent` or `urn:oasis:names:tc:SAML:2.0:nameid-format:persistent`",
            ),
        );
        None
    }

    /// A built-in key pair and certificate: `1` or `2`.
    fn saml_key(&mut self, node: &Node, key: &str, context: &str) -> Option<u8> {
        let text = self.scalar_text(node, key, context)?;
        match text.as_str() {
            "1" => return Some(1),
            "2" => return Some(2),
            _ => {}
        }
        self.error(
            Diagnostic::new(
                format!("invalid `{key}` `{text}` {context}"),
                Some(node.span),
            )
            .with_label("expected `1` or `2`")
            .with_help("the fake IdP has two built-in key pairs with certificates, 1 and 2"),
        );
        None
    }

    /// `with.sp`: `{ entity_id, acs_url }`.
    fn saml_sp(&mut self, node: &Node, mock: &str) -> Option<SamlServiceProvider> {
        let context = format!("in `sp` of mock `{mock}`");
        let fields = self.fields(node, SAML_SP_KEYS, "sp", &context)?;
        let entity_id = self.required(&fields, "entity_id", &context, |cx, value| {
            cx.saml_text(
                value,
                "entity_id",
                &context,
                "the SP's entity id, e.g. `https://app.acme.test/saml/metadata`",
            )
        });
        let acs_url = self.required(&fields, "acs_url", &context, |cx, value| {
            cx.absolute_url(value, "acs_url", &context, "https://app.acme.test/saml/acs")
        });
        Some(SamlServiceProvider {
            entity_id: entity_id?,
            acs_url: acs_url?,
        })
    }

    /// `with.users`: at least one, unique NameIDs.
    fn saml_users(&mut self, node: &Node, mock: &str) -> Option<Vec<SamlUser>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "users",
            &context,
            "give at least one user: `{ name_id: alice@acme.test }`",
        )?;
        let user_context = |index: usize| format!("in user {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            super::read::AfterBad::Report,
            |cx, index, item| cx.saml_user(item, &user_context(index)),
            |user| Some(user.name_id.clone()),
            |index, _, id| {
                (
                    format!("duplicate name_id `{id}` {}", user_context(index)),
                    "every user's `name_id` must be unique",
                )
            },
        )
    }

    fn saml_user(&mut self, node: &Node, context: &str) -> Option<SamlUser> {
        let fields = self.fields(node, SAML_USER_KEYS, "users", context)?;
        let name_id = self.required(&fields, "name_id", context, |cx, value| {
            cx.saml_text(value, "name_id", context, "e.g. `alice@acme.test`")
        });
        let attributes = match fields.get("attributes") {
            Some(value) => self.map_entries(value, "attributes", context, |cx, _, value| {
                match &value.kind {
                    NodeKind::Sequence(items) if !items.is_empty() => {
                        cx.each_item(items, |cx, _, item| {
                            cx.saml_text(item, "attributes", context, "an attribute value")
                        })
                    }
                    NodeKind::Sequence(_) => {
                        cx.error(
                            Diagnostic::new(format!("empty attribute {context}"), Some(value.span))
                                .with_label("an attribute has at least one value")
                                .with_help("remove the attribute or give it a value"),
                        );
                        None
                    }
                    _ => cx
                        .saml_text(value, "attributes", context, "an attribute value")
                        .map(|v| vec![v]),
                }
            }),
            None => Some(Vec::new()),
        };
        Some(SamlUser {
            name_id: name_id?,
            attributes: attributes?,
        })
    }

    /// `with.keys`: one or two `{ key_file, cert_file }`, files in the scenario folder: an RSA
    /// private key in PKCS#8 PEM and its certificate in PEM.
    fn saml_keys(&mut self, node: &Node, mock: &str) -> Option<Vec<SamlKeyPair>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "keys",
            &context,
            "give one or two `{ key_file: idp.key.pem, cert_file: idp.crt.pem }`",
        )?;
        let pairs = self.each_item(items, |cx, index, item| {
            let context = format!("in key {} of mock `{mock}`", index + 1);
            let fields = cx.fields(item, SAML_KEY_FILE_KEYS, "keys", &context)?;
            let key = cx.required(&fields, "key_file", &context, |cx, value| {
                let (name, text) = cx.text_file(value, "key_file", &context)?;
                let usable = crate::pem::block(&text, "PRIVATE KEY")
                    .is_some_and(|der| ring::signature::RsaKeyPair::from_pkcs8(&der).is_ok());
                if usable {
                    return Some(SecretText(text));
                }
                cx.error(
                    Diagnostic::new(format!("`{name}` is not an RSA private key in PKCS#8 PEM"), Some(value.span))
                        .with_label("expected a `-----BEGIN PRIVATE KEY-----` block ring can load")
                        .with_help("make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out idp.key.pem`"),
                );
                None
            });
            let cert = cx.required(&fields, "cert_file", &context, |cx, value| {
                let (name, text) = cx.text_file(value, "cert_file", &context)?;
                if crate::pem::block(&text, "CERTIFICATE").is_some_and(|der| der.first() == Some(&0x30)) {
                    return Some(text);
                }
                cx.error(
                    Diagnostic::new(format!("`{name}` is not a PEM certificate"), Some(value.span))
                        .with_label("expected a `-----BEGIN CERTIFICATE-----` block")
                        .with_help("make one with `openssl req -new -x509 -key idp.key.pem -out idp.crt.pem -days 3650 -subj /CN=idp`"),
                );
                None
            });
            Some(SamlKeyPair {
                key_pem: key?,
                cert_pem: cert?,
            })
        });
        if let Some(third) = items.get(2) {
            self.error(
                Diagnostic::new(format!("more than two `keys` {context}"), Some(third.span))
                    .with_label("the IdP has key pairs 1 and 2")
                    .with_help("the first replaces built-in pair 1, the second pair 2"),
            );
            return None;
        }
        pairs
    }

    /// `with.rotation`: `{ to, at, retire? }`.
    fn saml_rotation(&mut self, node: &Node, mock: &str, from: Option<u8>) -> Option<SamlRotation> {
        let context = format!("in `rotation` of mock `{mock}`");
        let fields = self.fields(node, SAML_ROTATION_KEYS, "rotation", &context)?;
        let to = self.required(&fields, "to", &context, |cx, value| {
            let to = cx.saml_key(value, "to", &context)?;
            if Some(to) != from {
                return Some(to);
            }
            cx.error(
                Diagnostic::new(
                    format!("`to` {context} is the key that already signs"),
                    Some(value.span),
                )
                .with_label("a rotation switches to the other built-in key")
                .with_help("with `signing_cert: 1` (the default), write `to: 2`"),
            );
            None
        });
        let at = self.required(&fields, "at", &context, |cx, value| {
            cx.rfc3339_time(value, "at", &context)
        });
        let retire = fields.get("retire").map(|value| {
            let retire = self.rfc3339_time(value, "retire", &context)?;
            let before = at
                .as_deref()
                .zip(OffsetDateTime::parse(&retire, &Rfc3339).ok())
                .is_some_and(|(at, r)| OffsetDateTime::parse(at, &Rfc3339).is_ok_and(|at| r < at));
            if !before {
                return Some(retire);
            }
            self.error(
                Diagnostic::new(
                    format!("`retire` {context} is before `at`"),
                    Some(value.span),
                )
                .with_label("the old certificate leaves the metadata after the switch")
                .with_help("give a time at or after `at`, or leave `retire` out"),
            );
            None
        });
        Some(SamlRotation {
            to: to?,
            at: at?,
            retire: present(retire)?,
        })
    }
}
