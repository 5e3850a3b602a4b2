//! How ledger-sync reaches its bank's HTTP API: `BANK_URL` and its credentials
//! (`BANK_USERNAME`/`BANK_PASSWORD` for HTTP Basic, or `BANK_TOKEN` for a bearer token), read once
//! at start and shared by the statement import (`statements.rs`) and the payment runs
//! (`payments.rs`). The SFTP channel is `sftp.rs`.

use std::fmt;
use std::time::Duration;

/// Credentials for the bank's HTTP API; never shown in `Debug`.
#[derive(Clone)]
pub enum Credentials {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: [redacted] }}"
                )
            }
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
        }
    }
}

/// The bank's HTTP API (`BANK_URL`): its base URL without a trailing `/`, the credentials, and
/// a client with ledger-sync's timeout.
#[derive(Clone, Debug)]
pub struct BankHttp {
    pub base_url: String,
    pub credentials: Credentials,
    pub http: reqwest::Client,
}

impl BankHttp {
    /// The API `BANK_URL` names; `None` without it. A URL that is not `http(s)`, both kinds of
    /// credentials, or half a Basic pair is an error (ledger-sync stops with exit code 2).
    pub fn from_env(timeout: Duration) -> Result<Option<BankHttp>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("BANK_URL") else {
            return Ok(None);
        };
        let base_url = url.trim().trim_end_matches('/').to_owned();
        if !base_url.starts_with("http://") && !base_url.starts_with("https://") {
            return Err(format!("BANK_URL `{base_url}` is not an http(s) URL"));
        }
        let credentials = match (
            var("BANK_USERNAME"),
            var("BANK_PASSWORD"),
            var("BANK_TOKEN"),
        ) {
            (None, None, None) => Credentials::None,
            (None, None, Some(token)) => Credentials::Bearer(token),
            (Some(username), Some(password), None) => Credentials::Basic { username, password },
            (_, _, Some(_)) => {
                return Err("set BANK_TOKEN or BANK_USERNAME and BANK_PASSWORD, not both".into());
            }
            _ => return Err("BANK_USERNAME and BANK_PASSWORD go together".into()),
        };
        Ok(Some(BankHttp {
            base_url,
            credentials,
            http: crate::connector::http_client(timeout)?,
        }))
    }

    /// A request to `{base_url}{path}` (`path` from its `/`) with the credentials.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.credentials {
            Credentials::None => request,
            Credentials::Basic { username, password } => {
                request.basic_auth(username, Some(password))
            }
            Credentials::Bearer(token) => request.bearer_auth(token),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The credentials stay out of `Debug`.

    use super::*;

    #[test]
    fn credentials_never_show_in_debug() {
        let basic = Credentials::Basic {
            username: "acme".into(),
            password: "s3cret-pw".into(),
        };
        let bearer = Credentials::Bearer("tok-123".into());
        let shown = format!("{basic:?} {bearer:?}");
        assert!(
            !shown.contains("s3cret-pw") && !shown.contains("tok-123"),
            "{shown}"
        );
        assert!(shown.contains("acme"));
    }
}
