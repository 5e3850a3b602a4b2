//! Built-in providers: stateful, protocol-faithful fakes of real systems, [`Provider`], each a
//! [`kit::Fake`] made of the [`kit`]'s shared parts.
//!
//! A mock with `provider:` answers every request that none of its stubs matched through its
//! provider (stubs first, as overrides; see `docs/decisions.md`). The engine keeps the provider's
//! [`ProviderState`] beside its stubs: a reset or a reconfigure starts it afresh, the control
//! API's `GET /__reenact/state` returns it under `provider`, and every time it reads comes from
//! the engine's virtual clock. Ids a provider generates are seeded by the mock's name and a
//! per-run serial, so they are the same on every run.

pub(crate) mod bank;
pub(crate) mod intacct;
pub(crate) mod kit;
pub(crate) mod oidc;
pub(crate) mod quickbooks;
pub(crate) mod sage;
pub(crate) mod saml;
pub(crate) mod xero;

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::matching::RequestView;
use crate::mock::engine::json_response;
use crate::mock::webhook::SigningSettings;
use crate::scenario::model::ProviderSpec;

/// A request as a provider sees it: as matching sees it, at a virtual time.
#[derive(Debug)]
pub(crate) struct ProviderRequest<'a> {
    /// Method, path, query, headers and body.
    pub view: RequestView<'a>,
    /// Virtual time of arrival.
    pub now: OffsetDateTime,
    /// Whether it came over TLS.
    pub tls: bool,
}

impl ProviderRequest<'_> {
    /// The first header called `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.view
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The provider's own base URL as the client reached it: the scheme it was served on and
    /// the request's `Host` (`127.0.0.1` without one), as a discovery document or a redirect
    /// must name the provider (`self.url` in stub templates).
    pub(crate) fn self_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.header("host").unwrap_or("127.0.0.1"))
    }

    /// The first query parameter called `name`.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.view.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as an `application/x-www-form-urlencoded` form (the last of repeated names).
    pub(crate) fn form(&self) -> BTreeMap<String, String> {
        form_urlencoded::parse(self.view.body)
            .into_owned()
            .collect()
    }

    /// The credentials of an `Authorization` header in `scheme`, for every provider: the scheme
    /// is case-insensitive and one or more spaces follow it (RFC 9110 §11.4 and §11.6.2,
    /// `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`), so `bearer x` and
    /// `Bearer  x` carry the token `x` as vendors' servers read them.
    pub(crate) fn credentials(&self, scheme: &str) -> Option<&str> {
        let (name, rest) = self.header("authorization")?.split_once(' ')?;
        let token = rest.trim_start_matches(' ');
        (name.eq_ignore_ascii_case(scheme) && !token.is_empty()).then_some(token)
    }

    /// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
    pub(crate) fn bearer(&self) -> Option<&str> {
        self.credentials("Bearer")
    }

    /// The user-id and password of an `Authorization: Basic` header (RFC 7617 §2: base64 of
    /// `user-id:password`, split at the first colon), as sent; `None` when absent or not
    /// base64 of UTF-8 with a colon.
    pub(crate) fn basic(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(self.credentials("Basic")?)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// A provider's answer: the response, and whether one of its routes served it (`false` for a
/// path the provider does not know, journaled as unmatched).
#[derive(Debug)]
pub(crate) struct ProviderAnswer {
    /// The response.
    pub response: Response<Bytes>,
    /// Whether a route of the provider answered.
    pub routed: bool,
}

impl ProviderAnswer {
    /// The answer of one of the provider's routes.
    pub(crate) fn routed(response: Response<Bytes>) -> ProviderAnswer {
        ProviderAnswer {
            response,
            routed: true,
        }
    }

    /// The answer to a path provider `name` does not serve: a `404` JSON naming the request,
    /// marked `x-reenact-unmatched: true`, journaled as unmatched.
    pub(crate) fn unrouted(name: &str, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let mut response = json_response(
            StatusCode::NOT_FOUND,
            &json!({
                "error": format!("the {name} provider serves no such route"),
                "request": { "method": request.view.method, "path": request.view.path },
            }),
        );
        response.headers_mut().insert(
            crate::mock::engine::UNMATCHED_HEADER,
            HeaderValue::from_static("true"),
        );
        ProviderAnswer {
            response,
            routed: false,
        }
    }
}

/// A response with `status` and no body.
pub(crate) fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// An OAuth 2.0 token endpoint error: `400 {"error": "<error>"}` (RFC 6749 §5.2), e.g.
/// `invalid_grant` or `unsupported_grant_type`.
pub(crate) fn oauth_error(error: &str) -> Response<Bytes> {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": error }))
}

/// A webhook whose body and signature a provider writes itself, from its state (the `xero:` of a
/// webhook step); travels in [`crate::mock::webhook::WebhookRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderWebhook {
    /// One Xero event about a record of the state.
    XeroEvent {
        /// `eventCategory`: `INVOICE` or `CONTACT`.
        category: String,
        /// `eventType`: `CREATE` or `UPDATE`.
        event_type: String,
        /// The record's id.
        resource_id: String,
    },
    /// Xero's Intent to Receive handshake.
    XeroIntentToReceive,
    /// One QuickBooks change event about a record of the state.
    QuickBooksEvent {
        /// `Bill` or `Vendor`.
        entity: String,
        /// `Create` or `Update`.
        operation: String,
        /// The record's `Id`.
        id: String,
        /// Its realm; the first of `with.realms` when `None`.
        realm: Option<String>,
        /// CloudEvents instead of the legacy `eventNotifications` payload.
        cloudevents: bool,
    },
}

/// One payload a provider wrote for a [`ProviderWebhook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderPayload {
    /// Headers besides the signature.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
    /// How the body is signed (a handshake signs some payloads with a wrong key on purpose).
    pub sign: SigningSettings,
    /// The answer the vendor requires to this payload, when it checks one (a handshake).
    pub expected_status: Option<u16>,
}

pub(crate) use kit::{Provider, ProviderState};

impl Provider {
    /// The provider `spec` names, serving as mock `mock` (which seeds its ids): the one place
    /// a provider is chosen.
    pub(crate) fn new(mock: &str, spec: &ProviderSpec) -> Provider {
        match spec {
            ProviderSpec::Xero(settings) => Provider::of(xero::Xero::new(mock, settings.clone())),
            ProviderSpec::Intacct(settings) => {
                Provider::of(intacct::Intacct::new(mock, settings.clone()))
            }
            ProviderSpec::Sage(settings) => Provider::of(sage::Sage::new(mock, settings.clone())),
            ProviderSpec::QuickBooks(settings) => {
                Provider::of(quickbooks::QuickBooks::new(mock, settings.clone()))
            }
            ProviderSpec::Saml(settings) => Provider::of(saml::Saml::new(mock, settings.clone())),
            ProviderSpec::Oidc(settings) => {
                Provider::of(oidc::Oidc::new(mock, settings.as_ref().clone()))
            }
            ProviderSpec::Bank(settings) => {
                Provider::of(bank::Bank::new(settings.as_ref().clone()))
            }
        }
    }
}

/// Why a provider cannot send a webhook; the control API answers `400` with the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProviderWebhookError {
    /// The mock has no provider.
    #[error("mock `{mock}` has no provider")]
    NoProvider {
        /// The mock.
        mock: String,
    },
    /// The provider has no state to write the webhook from.
    #[error("the provider has no state")]
    NoState,
    /// The provider sends no webhooks at all.
    #[error("the {provider} provider sends no webhooks")]
    NoWebhooks {
        /// The provider's name.
        provider: &'static str,
    },
    /// A setting the provider signs its webhooks with is missing.
    #[error("the {provider} provider has no `{setting}`")]
    MissingSetting {
        /// The provider's name.
        provider: &'static str,
        /// The setting under `with:`.
        setting: &'static str,
    },
    /// The webhook is another provider's kind.
    #[error("the {provider} provider cannot send `{kind}` webhooks")]
    ForeignKind {
        /// The provider's name.
        provider: &'static str,
        /// The webhook's kind.
        kind: &'static str,
    },
    /// The provider sends only webhooks of its own kind.
    #[error("the {provider} provider sends only `{provider}` webhooks")]
    OnlyOwnKind {
        /// The provider's name.
        provider: &'static str,
    },
    /// Xero has no webhook events of this category.
    #[error("no Xero webhook events of category `{category}`")]
    XeroCategory {
        /// The category asked for.
        category: String,
    },
    /// The Xero record the event is about is not in the state.
    #[error("no {kind} `{id}` in the state of the xero provider")]
    XeroRecord {
        /// What it is, e.g. `invoice`.
        kind: String,
        /// Its id.
        id: String,
    },
    /// QuickBooks has no entity of this name.
    #[error("unknown entity `{entity}`")]
    QuickBooksEntity {
        /// The name asked for.
        entity: String,
    },
    /// The QuickBooks record the event is about is not in the state.
    #[error("no {entity} with Id `{id}` in realm `{realm}` of the state")]
    QuickBooksRecord {
        /// The entity, e.g. `Bill`.
        entity: &'static str,
        /// Its `Id`.
        id: String,
        /// The realm.
        realm: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorization(value: &str) -> Option<String> {
        let headers = [("authorization".to_owned(), value.to_owned())];
        let request = ProviderRequest {
            view: RequestView {
                method: "GET",
                path: "/",
                query: "",
                headers: &headers,
                body: b"",
            },
            now: time::OffsetDateTime::UNIX_EPOCH,
            tls: false,
        };
        request.bearer().map(str::to_owned)
    }

    /// One parser for every provider: the scheme is case-insensitive, one or more spaces follow
    /// it, and anything else is no bearer token.
    #[test]
    fn bearer_tokens_are_read_as_rfc_9110_reads_credentials() {
        for (header, token) in [
            ("Bearer abc.def", Some("abc.def")),
            ("bearer abc.def", Some("abc.def")),
            ("BEARER abc.def", Some("abc.def")),
            ("Bearer   abc.def", Some("abc.def")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Basic YTpi", None),
            ("Bearerabc", None),
            ("", None),
        ] {
            assert_eq!(authorization(header).as_deref(), token, "{header:?}");
        }
    }

    /// The control API answers a refused webhook with this text: it is pinned here.
    #[test]
    fn webhook_refusals_read_as_before() {
        let cases = [
            (
                ProviderWebhookError::NoProvider { mock: "erp".into() },
                "mock `erp` has no provider",
            ),
            (ProviderWebhookError::NoState, "the provider has no state"),
            (
                ProviderWebhookError::NoWebhooks { provider: "sage" },
                "the sage provider sends no webhooks",
            ),
            (
                ProviderWebhookError::MissingSetting {
                    provider: "xero",
                    setting: "webhook_key",
                },
                "the xero provider has no `webhook_key`",
            ),
            (
                ProviderWebhookError::ForeignKind {
                    provider: "xero",
                    kind: "quickbooks",
                },
                "the xero provider cannot send `quickbooks` webhooks",
            ),
            (
                ProviderWebhookError::OnlyOwnKind {
                    provider: "quickbooks",
                },
                "the quickbooks provider sends only `quickbooks` webhooks",
            ),
            (
                ProviderWebhookError::XeroCategory {
                    category: "BILL".into(),
                },
                "no Xero webhook events of category `BILL`",
            ),
            (
                ProviderWebhookError::XeroRecord {
                    kind: "invoice".into(),
                    id: "i-9".into(),
                },
                "no invoice `i-9` in the state of the xero provider",
            ),
            (
                ProviderWebhookError::QuickBooksEntity {
                    entity: "Bil".into(),
                },
                "unknown entity `Bil`",
            ),
            (
                ProviderWebhookError::QuickBooksRecord {
                    entity: "Bill",
                    id: "7".into(),
                    realm: "r1".into(),
                },
                "no Bill with Id `7` in realm `r1` of the state",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text, "{err:?}");
        }
    }
}
