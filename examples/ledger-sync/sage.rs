//! The ledger-sync demo's Sage Business Cloud Accounting client: OAuth 2.0 at `/token`, the
//! business chosen with `X-Business`, bills as purchase invoices and vendors as contacts.
//!
//! [`SageClient`] keeps the tokens and the business of one connection. Sage access tokens last
//! 5 minutes and every refresh rotates the refresh token, so a client refreshes often; a request
//! without `X-Business` is served from the user's lead business. These incidents of release
//! 1.4.2 live here, each beside its 1.4.3 fix and selected only by [`Release`]:
//!
//! - SUP-5063: after a token refresh 1.4.2 keeps only the new tokens and forgets the business
//!   chosen at connect, so every later call goes without `X-Business` and Sage posts the bills
//!   into the user's lead business; 1.4.3 keeps the business across refreshes and refuses to
//!   call without it.
//! - SUP-5077: the bills of a batch are posted in parallel; when the access token has expired,
//!   every one of them gets `401` and 1.4.2 refreshes once per call, all with the same refresh
//!   token. Sage rotates it on first use, so all refreshes but one get `invalid_grant` and their
//!   bills fail. 1.4.3 refreshes single-flight: one refresh at a time, and a call that waited
//!   for it uses the tokens it brought.

use hyper::HeaderMap;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::connector::{
    Bill, Settings, bearer, http_client, request_tokens, status_line, text_at, unreachable_message,
    unsupported,
};
use crate::log;
use crate::release::Release;
use crate::webhook::Rejection;

/// The header that selects the business a call works in.
const BUSINESS_HEADER: &str = "X-Business";
/// Sage's largest page.
const ITEMS_PER_PAGE: usize = 200;
/// The most contact pages read in one go, so a looping API cannot hang the service.
const MAX_PAGES: usize = 100;

/// The tokens of a connection and the business it works in.
#[derive(Clone, Debug)]
struct Session {
    access: String,
    refresh: String,
    /// The business every call names in `X-Business`.
    business: Option<String>,
}

impl Session {
    /// A session holding freshly issued tokens and no business yet.
    fn new((access, refresh): (String, String)) -> Session {
        Session {
            access,
            refresh,
            business: None,
        }
    }
}

/// Talks to Sage Business Cloud Accounting on behalf of one ledger-sync process.
pub struct SageClient {
    base_url: String,
    http: reqwest::Client,
    release: Release,
    /// `SAGE_BUSINESS_ID`: the business to work in (default: the user's lead business).
    business: Option<String>,
    /// `SAGE_REDIRECT_URI`: the redirect URI sent with the code, when the app registered one.
    redirect_uri: Option<String>,
    session: Mutex<Option<Session>>,
    /// Held while a refresh is under way (1.4.3: single-flight refresh, SUP-5077).
    refreshing: Mutex<()>,
}

impl SageClient {
    /// A client for Sage at `settings.base_url`.
    pub fn from_env(settings: Settings) -> Result<SageClient, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Ok(SageClient {
            http: http_client(settings.timeout)?,
            base_url: settings.base_url,
            release: settings.release,
            business: var("SAGE_BUSINESS_ID"),
            redirect_uri: var("SAGE_REDIRECT_URI"),
            session: Mutex::new(None),
            refreshing: Mutex::new(()),
        })
    }

    /// Exchanges the authorization `code` for tokens and picks the business from `/businesses`.
    pub async fn connect(&self, code: Option<&str>) -> Result<(), String> {
        let code = code.ok_or("connecting to Sage needs the authorization `code`")?;
        let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
        if let Some(uri) = &self.redirect_uri {
            form.push(("redirect_uri", uri));
        }
        let session = Session::new(self.token(&form).await?);
        let response = self
            .http
            // List items are summaries (`id`, `displayed_as`, `$path`) unless attributes are
            // asked for: `lead` needs `attributes=all`.
            .get(format!("{}/businesses?attributes=all", self.base_url))
            .header(AUTHORIZATION, bearer(&session.access)?)
            .send()
            .await
            .map_err(unreachable_message)?;
        let status = response.status();
        log(format!("connect: GET /businesses -> {}", status.as_u16()));
        let body = response.bytes().await.map_err(unreachable_message)?;
        if !status.is_success() {
            return Err(format!(
                "listing Sage businesses failed: {}",
                status_line(status)
            ));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|error| format!("unexpected answer from /businesses: {error}"))?;
        let business = pick_business(&json, self.business.as_deref())?;
        log(format!("connect: working in Sage business {business}"));
        *self.session.lock().await = Some(Session {
            business: Some(business),
            ..session
        });
        Ok(())
    }

    /// `POST /token` with `form`: the new access and refresh tokens.
    async fn token(&self, form: &[(&str, &str)]) -> Result<(String, String), String> {
        request_tokens(&self.http, &self.base_url, "/token", "sage", form).await
    }

    /// Sends the request `build` makes with the session's token and business; on `401` refreshes
    /// once and sends it again. Logs `what` with the status.
    async fn call(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(StatusCode, bytes::Bytes), String> {
        let mut refreshed = false;
        loop {
            let session = self
                .session
                .lock()
                .await
                .clone()
                .ok_or("not connected to Sage")?;
            let mut request = build().header(AUTHORIZATION, bearer(&session.access)?);
            match self.release {
                // SUP-5063 (bug): 1.4.2 names the business only when the session has one, and
                // a refreshed session has none (see `refresh`): Sage then works in the user's
                // lead business.
                Release::V1_4_2 => {
                    if let Some(business) = &session.business {
                        request = request.header(BUSINESS_HEADER, business);
                    }
                }
                // SUP-5063 (fix): 1.4.3 never calls without `X-Business`.
                Release::V1_4_3 => {
                    let business = session
                        .business
                        .as_ref()
                        .ok_or("no Sage business selected: connect again")?;
                    request = request.header(BUSINESS_HEADER, business);
                }
            }
            let response = request.send().await.map_err(unreachable_message)?;
            let status = response.status();
            log(format!("{what} -> {}", status.as_u16()));
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.refresh(&session).await?;
                continue;
            }
            let body = response.bytes().await.map_err(unreachable_message)?;
            return Ok((status, body));
        }
    }

    /// Trades the session's refresh token (single use: Sage rotates it) for new tokens, after
    /// the call made with `used` got `401`.
    async fn refresh(&self, used: &Session) -> Result<(), String> {
        let _flight = match self.release {
            // SUP-5077 (bug): 1.4.2 refreshes for every call that got 401, even while a parallel
            // call is refreshing with the same refresh token: Sage accepts it once.
            Release::V1_4_2 => None,
            // SUP-5077 (fix): 1.4.3 refreshes one at a time; a call that waited finds the tokens
            // already rotated and retries with them.
            Release::V1_4_3 => {
                let flight = self.refreshing.lock().await;
                let current = self.session.lock().await.clone();
                if current.is_some_and(|session| session.refresh != used.refresh) {
                    return Ok(());
                }
                Some(flight)
            }
        };
        let tokens = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &used.refresh),
            ])
            .await?;
        self.keep(tokens).await;
        Ok(())
    }

    /// Stores the tokens a refresh issued.
    async fn keep(&self, tokens: (String, String)) {
        let mut guard = self.session.lock().await;
        match self.release {
            // SUP-5063 (bug): 1.4.2 replaces the session with one built from the new tokens,
            // which drops the business chosen at connect.
            Release::V1_4_2 => *guard = Some(Session::new(tokens)),
            // SUP-5063 (fix): 1.4.3 swaps the tokens and keeps the business.
            Release::V1_4_3 => {
                if let Some(session) = guard.as_mut() {
                    (session.access, session.refresh) = tokens;
                }
            }
        }
    }

    /// Creates a bill as a purchase invoice of its vendor (found by name or created) and returns
    /// its id, or the message to show the user.
    pub async fn post_bill(&self, export_id: &str, bill: &Bill) -> Result<String, String> {
        let date = bill
            .date
            .as_deref()
            .ok_or("a Sage purchase invoice needs the expense's date")?;
        let vendor = match self.find_vendor(export_id, &bill.contact).await? {
            Some(id) => id,
            None => self.create_vendor(export_id, &bill.contact).await?,
        };
        let mut invoice = json!({
            "contact_id": vendor,
            "date": date,
            "vendor_reference": bill.reference,
            "currency_id": bill.currency,
            "total_amount": bill.amount,
            "invoice_lines": [{
                "description": bill.reference,
                "ledger_account_code": bill.account_code,
                "quantity": "1",
                "unit_price": bill.amount,
            }],
        });
        if let Some(due_date) = &bill.due_date {
            invoice["due_date"] = Value::from(due_date.as_str());
        }
        let body = json!({ "purchase_invoice": invoice });
        let (status, answer) = self
            .call(
                &format!("export {export_id}: POST /purchase_invoices"),
                || {
                    self.http
                        .post(format!("{}/purchase_invoices", self.base_url))
                        .json(&body)
                },
            )
            .await?;
        created_id(status, &answer)
    }

    /// Sage has no batch endpoint: one purchase invoice per bill, all posted in parallel.
    pub async fn post_bills(
        &self,
        export_id: &str,
        bills: &[Bill],
    ) -> Result<Vec<Result<String, String>>, String> {
        let posts = bills.iter().map(|bill| self.post_bill(export_id, bill));
        Ok(futures_util::future::join_all(posts).await)
    }

    /// `PUT /purchase_invoices/{id}` with the new due date.
    pub async fn update_due_date(&self, bill_id: &str, due_date: &str) -> Result<(), String> {
        let body = json!({ "purchase_invoice": { "due_date": due_date } });
        let path = format!("/purchase_invoices/{bill_id}");
        let (status, answer) = self
            .call(&format!("update bill: PUT {path}"), || {
                self.http
                    .put(format!("{}{path}", self.base_url))
                    .json(&body)
            })
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(error_message(status, &answer))
        }
    }

    /// The names of the business's contacts, following `$next` page by page.
    pub async fn list_vendors(&self) -> Result<Vec<String>, String> {
        Ok(self
            .contacts("sync vendors")
            .await?
            .iter()
            .filter_map(|contact| text_at(contact, &["name"]).map(str::to_owned))
            .collect())
    }

    /// Sage sends no webhooks.
    pub fn verify_webhook(
        &self,
        _key: &[u8],
        _headers: &HeaderMap,
        _body: &[u8],
    ) -> Result<Vec<Value>, Rejection> {
        Err(Rejection::BadPayload(unsupported(
            "Sage",
            "receiving webhooks",
        )))
    }

    /// Every contact of the business.
    async fn contacts(&self, what: &str) -> Result<Vec<Value>, String> {
        let mut contacts = Vec::new();
        // `attributes=name`: list items are summaries without it, and the vendor match reads
        // `name`. `$next` carries the parameters on to the next page.
        let mut next = Some(format!(
            "/contacts?items_per_page={ITEMS_PER_PAGE}&attributes=name"
        ));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                log(format!("{what}: stopping after {MAX_PAGES} pages"));
                break;
            }
            let (status, body) = self
                .call(&format!("{what}: GET {path}"), || {
                    self.http.get(format!("{}{path}", self.base_url))
                })
                .await?;
            if !status.is_success() {
                return Err(error_message(status, &body));
            }
            let json: Value = serde_json::from_slice(&body)
                .map_err(|error| format!("unexpected answer from Sage: {error}"))?;
            if let Some(items) = json.get("$items").and_then(Value::as_array) {
                contacts.extend(items.iter().cloned());
            }
            next = text_at(&json, &["$next"]).map(str::to_owned);
        }
        Ok(contacts)
    }

    /// The id of the business's contact called `name`, if there is one.
    async fn find_vendor(&self, export_id: &str, name: &str) -> Result<Option<String>, String> {
        let contacts = self.contacts(&format!("export {export_id}")).await?;
        Ok(contacts
            .iter()
            .find(|contact| text_at(contact, &["name"]) == Some(name))
            .and_then(|contact| text_at(contact, &["id"]))
            .map(str::to_owned))
    }

    /// Creates the vendor `name`; its id.
    async fn create_vendor(&self, export_id: &str, name: &str) -> Result<String, String> {
        let body = json!({ "contact": { "name": name, "contact_type_ids": ["VENDOR"] } });
        let (status, answer) = self
            .call(&format!("export {export_id}: POST /contacts"), || {
                self.http
                    .post(format!("{}/contacts", self.base_url))
                    .json(&body)
            })
            .await?;
        created_id(status, &answer)
    }
}

/// The business to work in: `wanted` if the user has it, else the lead business.
fn pick_business(businesses: &Value, wanted: Option<&str>) -> Result<String, String> {
    let items = businesses
        .get("$items")
        .and_then(Value::as_array)
        .ok_or("unexpected answer from /businesses: no `$items`")?;
    let found = match wanted {
        Some(wanted) => items
            .iter()
            .find(|b| text_at(b, &["id"]) == Some(wanted))
            .ok_or_else(|| format!("Sage business {wanted} is not one of the user's businesses"))?,
        None => items
            .iter()
            .find(|b| b.get("lead") == Some(&Value::Bool(true)))
            .or_else(|| items.first())
            .ok_or("the Sage user has no business")?,
    };
    text_at(found, &["id"])
        .map(str::to_owned)
        .ok_or_else(|| "a Sage business without an id".to_owned())
}

/// The `id` of a record a create answered, or the message to show.
fn created_id(status: StatusCode, body: &[u8]) -> Result<String, String> {
    if !status.is_success() {
        return Err(error_message(status, body));
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| text_at(&json, &["id"]).map(str::to_owned))
        .ok_or_else(|| format!("Sage answered {} without an id", status.as_u16()))
}

/// The message for an error answer: Sage's `$message`s, else the status line.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    let messages: Vec<String> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|error| text_at(error, &["$message"]).map(str::to_owned))
        .collect();
    if messages.is_empty() {
        format!("Sage answered {}", status_line(status))
    } else {
        messages.join("; ")
    }
}

#[cfg(test)]
mod tests {
    //! Table tests for SUP-5063 and Sage's answers.

    use super::*;

    #[test]
    fn sup_5063_the_configured_business_else_the_lead() {
        let businesses = json!({ "$items": [
            { "id": "aaa", "lead": true },
            { "id": "bbb", "lead": false },
        ]});
        assert_eq!(
            pick_business(&businesses, Some("bbb")).as_deref(),
            Ok("bbb")
        );
        assert_eq!(pick_business(&businesses, None).as_deref(), Ok("aaa"));
        assert!(pick_business(&businesses, Some("ccc")).is_err());
    }

    /// SUP-5063: what a refresh leaves of the session, per release.
    #[tokio::test]
    async fn sup_5063_a_refresh_keeps_the_business_only_on_1_4_3() {
        for (release, kept) in [(Release::V1_4_2, None), (Release::V1_4_3, Some("bbb"))] {
            let client = SageClient {
                base_url: String::new(),
                http: http_client(std::time::Duration::from_secs(1)).expect("a client"),
                release,
                business: None,
                redirect_uri: None,
                session: Mutex::new(Some(Session {
                    access: "a1".to_owned(),
                    refresh: "r1".to_owned(),
                    business: Some("bbb".to_owned()),
                })),
                refreshing: Mutex::new(()),
            };
            let tokens = ("a2".to_owned(), "r2".to_owned());
            client.keep(tokens).await;
            let session = client.session.lock().await.clone().expect("a session");
            assert_eq!(session.access, "a2");
            assert_eq!(session.refresh, "r2");
            assert_eq!(session.business.as_deref(), kept, "{release}");
        }
    }

    #[test]
    fn error_messages_join_sage_messages() {
        let body = br#"[{"$severity":"error","$dataCode":"RecordInvalid","$message":"Name can't be blank","$source":"name"}]"#;
        assert_eq!(
            error_message(StatusCode::UNPROCESSABLE_ENTITY, body),
            "Name can't be blank"
        );
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b""),
            "Sage answered 502 Bad Gateway"
        );
    }
}
