//! Sign-in by OpenID Connect (authorization code flow with PKCE): the relying party of
//! ledger-sync. Configured by `OIDC_ISSUER`, `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET`.

use crate::sso::SsoSettings;

/// The OpenID Connect login of one process.
pub struct OidcLogin {
    #[expect(dead_code, reason = "the login is not built yet")]
    settings: SsoSettings,
}

impl OidcLogin {
    /// The login `OIDC_*` configures, `None` when `OIDC_ISSUER` is not set.
    pub fn from_env(settings: &SsoSettings) -> Result<Option<OidcLogin>, String> {
        if std::env::var("OIDC_ISSUER").map_or(true, |issuer| issuer.trim().is_empty()) {
            return Ok(None);
        }
        Ok(Some(OidcLogin {
            settings: settings.clone(),
        }))
    }

    /// `GET /login/oidc`: where to send the browser.
    pub async fn start(&self) -> Result<String, String> {
        Err("OpenID Connect sign-in is not built yet".to_owned())
    }

    /// `GET /auth/callback?QUERY`: who signed in, or why not.
    pub async fn callback(&self, _query: &str) -> Result<String, String> {
        Err("OpenID Connect sign-in is not built yet".to_owned())
    }
}
