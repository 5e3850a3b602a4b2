//! OAuth 2.0 tokens and sessions for every provider, [`Tokens`]: authorization codes, access
//! tokens (or session ids) and refresh tokens, each belonging to a consent, with the vendor's
//! rules as a [`TokenPolicy`] rather than code: lifetimes, sliding expiry, rotation (always, with
//! or without a grace window, or after an age with a lag), an absolute cap per consent,
//! revocation of a token or of its whole consent, and the fields of the token answer.
//!
//! Token strings are minted by the provider (a `mint` closure), so each vendor keeps its own
//! token format and its ids stay seeded by its own counter.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// How a vendor issues, refreshes and revokes tokens.
#[derive(Debug, Clone)]
pub(crate) struct TokenPolicy {
    /// How long an access token (or session) lives.
    pub access_lifetime: Duration,
    /// Whether every use of an access token moves its expiry to `access_lifetime` later (a
    /// session that times out when idle).
    pub access_sliding: bool,
    /// Refresh tokens, when the vendor issues them.
    pub refresh: Option<RefreshPolicy>,
    /// How long an authorization code the provider issued stays redeemable (`None`: no limit;
    /// codes the provider did not issue are taken as they come, once).
    pub code_lifetime: Option<Duration>,
    /// What a revocation ends.
    pub revocation: Revocation,
    /// The fields of the token answer, in the vendor's order.
    pub answer: &'static [AnswerField],
}

/// How a vendor's refresh tokens live and rotate.
#[derive(Debug, Clone)]
pub(crate) struct RefreshPolicy {
    /// How long a refresh token lives.
    pub lifetime: Duration,
    /// Whether every use moves its expiry to `lifetime` later (an idle limit, or a rolling one).
    pub sliding: bool,
    /// The absolute cap of a consent's refresh tokens, counted from the consent.
    pub cap: Option<Duration>,
    /// When a refresh answers a new refresh token.
    pub rotation: Rotation,
}

/// When a refresh answers a new refresh token, and what becomes of the one used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// Every refresh answers a new one. The one used keeps refreshing for `grace` after its
    /// first use, each time into a new one (Xero's 30 minutes); with `None` it is dead at once
    /// (single use, Sage).
    Every {
        /// How long a used token stays usable.
        grace: Option<Duration>,
    },
    /// A refresh answers the same token until it is `age` old, then a new one; the old one
    /// then answers its replacement for `lag`, and is refused after (Intuit's).
    AfterAge {
        /// The age at which a refresh rotates the token.
        age: Duration,
        /// How long the replaced token keeps answering its replacement.
        lag: Duration,
    },
}

/// What a revocation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// The refresh token named (its access tokens live out their lifetime).
    RefreshToken,
    /// Every token of the consent the named access or refresh token belongs to.
    Consent,
}

/// One field of a token answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerField {
    /// `access_token`.
    AccessToken,
    /// `token_type` with this value (`Bearer`, `bearer`).
    TokenType(&'static str),
    /// `expires_in`: the access token's lifetime in seconds.
    ExpiresIn,
    /// `refresh_token`.
    RefreshToken,
    /// The seconds the refresh token has left, under this name (`refresh_token_expires_in`,
    /// `x_refresh_token_expires_in`).
    RefreshExpiresIn(&'static str),
    /// The seconds to the consent's cap, under this name.
    CapExpiresIn(&'static str),
    /// `scope` with this value.
    Scope(&'static str),
}

/// The kind of token a `mint` closure is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Minted {
    /// An access token or session id.
    Access,
    /// A refresh token.
    Refresh,
}

/// Why a token endpoint refuses a grant: its `error` (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantError {
    /// `invalid_grant`: a code or refresh token that is unknown, used, expired or revoked.
    InvalidGrant,
}

impl GrantError {
    /// The `error` value.
    pub(crate) fn code(self) -> &'static str {
        match self {
            GrantError::InvalidGrant => "invalid_grant",
        }
    }
}

/// Why [`Tokens::authenticate`] refused a request's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No token, or one the provider never issued.
    Unknown,
    /// Issued, and expired at this virtual time.
    Expired {
        /// When it expired.
        at: OffsetDateTime,
    },
    /// Its consent was revoked.
    Revoked,
}

/// A new access token and the refresh token that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issued {
    /// The consent the tokens belong to.
    pub consent: usize,
    /// The access token or session id.
    pub access: String,
    /// Its lifetime.
    pub access_lifetime: Duration,
    /// The refresh token answered, with the time it has left.
    pub refresh: Option<(String, Duration)>,
    /// The time to the consent's cap.
    pub cap_left: Option<Duration>,
}

impl Issued {
    /// The token answer with `fields`, in that order.
    pub(crate) fn answer(&self, fields: &[AnswerField]) -> Map<String, Value> {
        let mut out = Map::new();
        for field in fields {
            let (name, value) = match *field {
                AnswerField::AccessToken => ("access_token", Value::from(self.access.clone())),
                AnswerField::TokenType(kind) => ("token_type", Value::from(kind)),
                AnswerField::ExpiresIn => (
                    "expires_in",
                    Value::from(self.access_lifetime.whole_seconds()),
                ),
                AnswerField::RefreshToken => match &self.refresh {
                    Some((token, _)) => ("refresh_token", Value::from(token.clone())),
                    None => continue,
                },
                AnswerField::RefreshExpiresIn(name) => match &self.refresh {
                    Some((_, left)) => (name, Value::from(left.whole_seconds())),
                    None => continue,
                },
                AnswerField::CapExpiresIn(name) => match self.cap_left {
                    Some(left) => (name, Value::from(left.whole_seconds())),
                    None => continue,
                },
                AnswerField::Scope(scope) => ("scope", Value::from(scope)),
            };
            out.insert(name.to_owned(), value);
        }
        out
    }
}

/// One consent: what the provider attached to it (`G`), when it was given and its cap.
#[derive(Debug)]
struct Consent<G> {
    data: G,
    cap: Option<OffsetDateTime>,
    revoked: bool,
}

#[derive(Debug)]
struct AccessToken {
    consent: usize,
    expires: OffsetDateTime,
}

#[derive(Debug)]
struct RefreshToken {
    consent: usize,
    issued: OffsetDateTime,
    expires: OffsetDateTime,
    revoked: bool,
    /// When a refresh first used it, and the token that replaced it (rotation after an age).
    rotated: Option<(OffsetDateTime, Option<String>)>,
}

/// The codes, consents and tokens of one provider's run, under one [`TokenPolicy`]; `G` is what
/// the provider attaches to a consent (a tenant connection's event id, a signed-in user).
#[derive(Debug)]
pub(crate) struct Tokens<G> {
    policy: TokenPolicy,
    /// Codes the provider issued: when, and for which redirect URI.
    issued_codes: BTreeMap<String, (OffsetDateTime, String)>,
    /// Codes redeemed (each is single use).
    used_codes: Vec<String>,
    consents: Vec<Consent<G>>,
    access: BTreeMap<String, AccessToken>,
    refresh: BTreeMap<String, RefreshToken>,
}

impl<G> Tokens<G> {
    /// No tokens yet, under `policy`.
    pub(crate) fn new(policy: TokenPolicy) -> Tokens<G> {
        Tokens {
            policy,
            issued_codes: BTreeMap::new(),
            used_codes: Vec::new(),
            consents: Vec::new(),
            access: BTreeMap::new(),
            refresh: BTreeMap::new(),
        }
    }

    /// The policy.
    pub(crate) fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// How many access tokens (or sessions) and refresh tokens were issued.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.access.len(), self.refresh.len())
    }

    /// Remember `code`, issued at `now` for `redirect_uri` (an authorization endpoint).
    pub(crate) fn issue_code(&mut self, code: String, now: OffsetDateTime, redirect_uri: String) {
        self.issued_codes.insert(code, (now, redirect_uri));
    }

    /// Redeem the `code` of an `authorization_code` grant's `form`: refused when it is missing,
    /// empty or used, when the provider issued it and it is older than the code lifetime or
    /// was issued for another `redirect_uri`, or when `registered` names a redirect URI the
    /// form does not. The fakes take any other non-empty code, once.
    pub(crate) fn redeem_code(
        &mut self,
        form: &BTreeMap<String, String>,
        now: OffsetDateTime,
        registered: Option<&str>,
    ) -> Result<(), GrantError> {
        let code = form
            .get("code")
            .filter(|code| !code.is_empty())
            .ok_or(GrantError::InvalidGrant)?;
        let redirect_uri = form.get("redirect_uri").map(String::as_str);
        let lifetime = self.policy.code_lifetime;
        let issued_ok = self.issued_codes.get(code).is_none_or(|(at, uri)| {
            lifetime.is_none_or(|lifetime| now < *at + lifetime) && redirect_uri == Some(uri)
        });
        let registered_ok = registered.is_none_or(|registered| redirect_uri == Some(registered));
        if self.used_codes.contains(code) || !issued_ok || !registered_ok {
            return Err(GrantError::InvalidGrant);
        }
        self.used_codes.push(code.clone());
        Ok(())
    }

    /// A new consent carrying `data`, with its first tokens (a code exchange, a sign-in).
    pub(crate) fn consent(
        &mut self,
        data: G,
        now: OffsetDateTime,
        mint: &mut dyn FnMut(Minted, &G) -> String,
    ) -> Issued {
        let cap = self
            .policy
            .refresh
            .as_ref()
            .and_then(|refresh| refresh.cap)
            .map(|cap| now + cap);
        self.consents.push(Consent {
            data,
            cap,
            revoked: false,
        });
        let consent = self.consents.len() - 1;
        let access = mint(Minted::Access, &self.consents[consent].data);
        let refresh = self.new_refresh(consent, now, mint);
        self.issue(consent, access, refresh, now)
    }

    /// A new consent carrying `data` with an access token and no refresh token, whatever the
    /// policy: a grant that must not answer one (RFC 6749 §4.4.3, client credentials).
    pub(crate) fn consent_without_refresh(
        &mut self,
        data: G,
        now: OffsetDateTime,
        mint: &mut dyn FnMut(Minted, &G) -> String,
    ) -> Issued {
        self.consents.push(Consent {
            data,
            cap: None,
            revoked: false,
        });
        let consent = self.consents.len() - 1;
        let access = mint(Minted::Access, &self.consents[consent].data);
        self.issue(consent, access, None, now)
    }

    /// The consent data of `consent`.
    pub(crate) fn data(&self, consent: usize) -> Option<&G> {
        self.consents.get(consent).map(|c| &c.data)
    }

    /// A `refresh_token` grant with `token`: a new access token and the refresh token the
    /// policy's rotation answers, or `invalid_grant` for a token that is unknown, expired, past
    /// its consent's cap, revoked, or used up by rotation.
    pub(crate) fn refresh(
        &mut self,
        token: Option<&str>,
        now: OffsetDateTime,
        mint: &mut dyn FnMut(Minted, &G) -> String,
    ) -> Result<Issued, GrantError> {
        let policy = self
            .policy
            .refresh
            .clone()
            .ok_or(GrantError::InvalidGrant)?;
        let token = token.ok_or(GrantError::InvalidGrant)?;
        let life = self.refresh.get(token).ok_or(GrantError::InvalidGrant)?;
        let consent = life.consent;
        let cap = self.consents.get(consent).and_then(|c| c.cap);
        let consent_revoked = self.consents.get(consent).is_none_or(|c| c.revoked);
        if life.revoked
            || consent_revoked
            || now >= life.expires
            || cap.is_some_and(|cap| now >= cap)
        {
            return Err(GrantError::InvalidGrant);
        }
        let (issued, rotated) = (life.issued, life.rotated.clone());
        let used_up = match (policy.rotation, rotated.as_ref()) {
            (_, None) => false,
            (Rotation::Every { grace: Some(grace) }, Some((at, _))) => now > *at + grace,
            (Rotation::Every { grace: None }, Some(_)) => true,
            (Rotation::AfterAge { lag, .. }, Some((at, _))) => now > *at + lag,
        };
        if used_up {
            return Err(GrantError::InvalidGrant);
        }
        let access = mint(Minted::Access, &self.consents[consent].data);
        let answered = match policy.rotation {
            Rotation::Every { .. } => {
                if let Some(life) = self.refresh.get_mut(token) {
                    life.rotated.get_or_insert((now, None));
                }
                self.slide(token, now, &policy);
                self.new_refresh(consent, now, mint)
            }
            Rotation::AfterAge { age, .. } => match rotated {
                Some((_, replacement)) => replacement,
                None if now - issued >= age => {
                    let replacement = self.new_refresh(consent, now, mint);
                    if let (Some(old), Some(new)) = (self.refresh.get_mut(token), &replacement) {
                        old.rotated = Some((now, Some(new.clone())));
                    }
                    replacement
                }
                None => Some(token.to_owned()),
            },
        };
        if let Some(answered) = &answered {
            self.slide(answered, now, &policy);
        }
        Ok(self.issue(consent, access, answered, now))
    }

    /// The consent of a request's access token (or session id), or why it is refused. A sliding
    /// policy moves the token's expiry.
    pub(crate) fn authenticate(
        &mut self,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(usize, &G), AuthFailure> {
        let life = token
            .and_then(|token| self.access.get_mut(token))
            .ok_or(AuthFailure::Unknown)?;
        let consent = life.consent;
        if self.consents.get(consent).is_none_or(|c| c.revoked) {
            return Err(AuthFailure::Revoked);
        }
        if now >= life.expires {
            return Err(AuthFailure::Expired { at: life.expires });
        }
        if self.policy.access_sliding {
            life.expires = now + self.policy.access_lifetime;
        }
        let data = &self.consents[consent].data;
        Ok((consent, data))
    }

    /// Revoke what `token` names under the policy's [`Revocation`]; a token the provider does
    /// not know is ignored (revocation endpoints answer the same either way, RFC 7009 §2.2).
    pub(crate) fn revoke(&mut self, token: &str) {
        match self.policy.revocation {
            Revocation::RefreshToken => {
                if let Some(life) = self.refresh.get_mut(token) {
                    life.revoked = true;
                }
            }
            Revocation::Consent => {
                let consent = self
                    .refresh
                    .get(token)
                    .map(|life| life.consent)
                    .or_else(|| self.access.get(token).map(|life| life.consent));
                if let Some(consent) = consent.and_then(|c| self.consents.get_mut(c)) {
                    consent.revoked = true;
                }
            }
        }
    }

    /// A fresh refresh token of `consent`, when the policy issues them.
    fn new_refresh(
        &mut self,
        consent: usize,
        now: OffsetDateTime,
        mint: &mut dyn FnMut(Minted, &G) -> String,
    ) -> Option<String> {
        let policy = self.policy.refresh.as_ref()?;
        let token = mint(Minted::Refresh, &self.consents.get(consent)?.data);
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                consent,
                issued: now,
                expires: now + policy.lifetime,
                revoked: false,
                rotated: None,
            },
        );
        Some(token)
    }

    /// Move a sliding refresh token's expiry to a lifetime from `now`, never past the cap.
    fn slide(&mut self, token: &str, now: OffsetDateTime, policy: &RefreshPolicy) {
        if !policy.sliding {
            return;
        }
        let cap = self.refresh.get(token).and_then(|life| {
            self.consents
                .get(life.consent)
                .and_then(|consent| consent.cap)
        });
        if let Some(life) = self.refresh.get_mut(token) {
            let expires = now + policy.lifetime;
            life.expires = cap.map_or(expires, |cap| expires.min(cap));
        }
    }

    /// Access token `access` of `consent`, answered with `refresh`.
    fn issue(
        &mut self,
        consent: usize,
        access: String,
        refresh: Option<String>,
        now: OffsetDateTime,
    ) -> Issued {
        let lifetime = self.policy.access_lifetime;
        self.access.insert(
            access.clone(),
            AccessToken {
                consent,
                expires: now + lifetime,
            },
        );
        let refresh = refresh.map(|token| {
            let left = self
                .refresh
                .get(&token)
                .map_or(Duration::ZERO, |life| life.expires - now);
            (token, left)
        });
        let cap_left = self
            .consents
            .get(consent)
            .and_then(|c| c.cap)
            .map(|cap| cap - now);
        Issued {
            consent,
            access,
            access_lifetime: lifetime,
            refresh,
            cap_left,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    fn policy(rotation: Rotation, sliding: bool, cap: Option<Duration>) -> TokenPolicy {
        TokenPolicy {
            access_lifetime: Duration::minutes(30),
            access_sliding: false,
            refresh: Some(RefreshPolicy {
                lifetime: Duration::days(60),
                sliding,
                cap,
                rotation,
            }),
            code_lifetime: Some(Duration::seconds(60)),
            revocation: Revocation::RefreshToken,
            answer: &[],
        }
    }

    /// Tokens numbered in minting order: `a1`, `r2`, ...
    fn minter() -> impl FnMut(Minted, &()) -> String {
        let mut n = 0;
        move |kind, _| {
            n += 1;
            match kind {
                Minted::Access => format!("a{n}"),
                Minted::Refresh => format!("r{n}"),
            }
        }
    }

    fn refresh_token(issued: &Issued) -> String {
        issued
            .refresh
            .clone()
            .map(|(token, _)| token)
            .unwrap_or_default()
    }

    #[test]
    fn every_refresh_rotates_and_the_used_token_lives_out_its_grace() {
        let grace = Rotation::Every {
            grace: Some(Duration::minutes(30)),
        };
        let mut tokens = Tokens::new(policy(grace, true, None));
        let mut mint = minter();
        let first = tokens.consent((), at(0), &mut mint);
        let old = refresh_token(&first);
        let second = tokens.refresh(Some(&old), at(10), &mut mint).unwrap();
        assert_ne!(
            refresh_token(&second),
            old,
            "a new refresh token every time"
        );
        // Within 30 minutes of its first use the old one still refreshes...
        assert!(tokens.refresh(Some(&old), at(40), &mut mint).is_ok());
        // ...and not after.
        assert_eq!(
            tokens.refresh(Some(&old), at(41), &mut mint),
            Err(GrantError::InvalidGrant)
        );
    }

    #[test]
    fn a_single_use_token_is_dead_once_used_and_expires_unused() {
        let single = Rotation::Every { grace: None };
        let mut tokens = Tokens::new(policy(single, false, None));
        let mut mint = minter();
        let first = tokens.consent((), at(0), &mut mint);
        let old = refresh_token(&first);
        let second = tokens.refresh(Some(&old), at(1), &mut mint).unwrap();
        assert_eq!(
            tokens.refresh(Some(&old), at(1), &mut mint),
            Err(GrantError::InvalidGrant)
        );
        let unused = refresh_token(&second);
        let past = at(1) + Duration::days(60);
        assert_eq!(
            tokens.refresh(Some(&unused), past, &mut mint),
            Err(GrantError::InvalidGrant),
            "not sliding: 60 days after its issue it is gone"
        );
    }

    #[test]
    fn rotation_after_an_age_answers_the_same_token_then_its_replacement_for_the_lag() {
        let age = Rotation::AfterAge {
            age: Duration::days(1),
            lag: Duration::minutes(5),
        };
        let mut tokens = Tokens::new(policy(age, true, Some(Duration::days(3))));
        let mut mint = minter();
        let first = tokens.consent((), at(0), &mut mint);
        let old = refresh_token(&first);
        let young = tokens.refresh(Some(&old), at(60), &mut mint).unwrap();
        assert_eq!(
            refresh_token(&young),
            old,
            "younger than a day: the same token"
        );
        let day = 24 * 60;
        let rotated = tokens.refresh(Some(&old), at(day), &mut mint).unwrap();
        let new = refresh_token(&rotated);
        assert_ne!(new, old);
        let lagging = tokens.refresh(Some(&old), at(day + 5), &mut mint).unwrap();
        assert_eq!(
            refresh_token(&lagging),
            new,
            "within the lag: the replacement"
        );
        assert_eq!(
            tokens.refresh(Some(&old), at(day + 6), &mut mint),
            Err(GrantError::InvalidGrant)
        );
        // Sliding, but never past the consent's cap of 3 days.
        let late = tokens.refresh(Some(&new), at(2 * day), &mut mint).unwrap();
        assert_eq!(late.cap_left, Some(Duration::days(1)));
        assert_eq!(late.refresh.map(|(_, left)| left), Some(Duration::days(1)));
        assert_eq!(
            tokens.refresh(Some(&new), at(3 * day), &mut mint),
            Err(GrantError::InvalidGrant)
        );
    }

    #[test]
    fn access_tokens_expire_slide_and_fall_with_a_revoked_consent() {
        let mut sessions = Tokens::new(TokenPolicy {
            access_lifetime: Duration::minutes(10),
            access_sliding: true,
            refresh: None,
            code_lifetime: None,
            revocation: Revocation::Consent,
            answer: &[],
        });
        let mut mint = minter();
        let issued = sessions.consent("acme", at(0), &mut |kind, _| mint(kind, &()));
        assert_eq!(issued.refresh, None);
        let id = issued.access;
        assert_eq!(sessions.authenticate(Some(&id), at(9)), Ok((0, &"acme")));
        // Used at minute 9, it lives to minute 19.
        assert!(sessions.authenticate(Some(&id), at(18)).is_ok());
        assert_eq!(
            sessions.authenticate(Some(&id), at(28)),
            Err(AuthFailure::Expired { at: at(28) })
        );
        assert_eq!(
            sessions.authenticate(Some("nope"), at(0)),
            Err(AuthFailure::Unknown)
        );
        let other = sessions.consent("beta", at(30), &mut |kind, _| mint(kind, &()));
        sessions.revoke(&other.access);
        assert_eq!(
            sessions.authenticate(Some(&other.access), at(31)),
            Err(AuthFailure::Revoked)
        );
    }

    #[test]
    fn codes_are_single_use_short_lived_and_bound_to_their_redirect() {
        let mut tokens: Tokens<()> =
            Tokens::new(policy(Rotation::Every { grace: None }, false, None));
        let form = |code: &str, uri: &str| {
            BTreeMap::from([
                ("code".to_owned(), code.to_owned()),
                ("redirect_uri".to_owned(), uri.to_owned()),
            ])
        };
        tokens.issue_code("c1".into(), at(0), "https://app/cb".into());
        tokens.issue_code("c2".into(), at(0), "https://app/cb".into());
        tokens.issue_code("c3".into(), at(0), "https://app/cb".into());
        let err = Err(GrantError::InvalidGrant);
        assert_eq!(
            tokens.redeem_code(&form("c1", "https://app/other"), at(0), None),
            err
        );
        assert_eq!(
            tokens.redeem_code(&form("c2", "https://app/cb"), at(2), None),
            err
        );
        assert_eq!(
            tokens.redeem_code(&form("c3", "https://app/cb"), at(0), None),
            Ok(())
        );
        assert_eq!(
            tokens.redeem_code(&form("c3", "https://app/cb"), at(0), None),
            err
        );
        // A code the fake did not issue is taken once, unless the registered URI differs.
        let registered = Some("https://app/cb");
        assert_eq!(
            tokens.redeem_code(&form("x", "https://evil/cb"), at(0), registered),
            err
        );
        assert_eq!(
            tokens.redeem_code(&form("x", "https://app/cb"), at(0), registered),
            Ok(())
        );
        assert_eq!(
            tokens.redeem_code(&form("", "https://app/cb"), at(0), None),
            err
        );
    }

    #[test]
    fn the_answer_has_the_policy_fields_in_order() {
        let issued = Issued {
            consent: 0,
            access: "a".into(),
            access_lifetime: Duration::minutes(5),
            refresh: Some(("r".into(), Duration::days(31))),
            cap_left: None,
        };
        let answer = issued.answer(&[
            AnswerField::AccessToken,
            AnswerField::Scope("full_access"),
            AnswerField::TokenType("bearer"),
            AnswerField::ExpiresIn,
            AnswerField::RefreshToken,
            AnswerField::RefreshExpiresIn("refresh_token_expires_in"),
            AnswerField::CapExpiresIn("x_refresh_token_hard_expires_in"),
        ]);
        assert_eq!(
            Value::Object(answer).to_string(),
            r#"{"access_token":"a","scope":"full_access","token_type":"bearer","expires_in":300,"refresh_token":"r","refresh_token_expires_in":2678400}"#
        );
    }
}
