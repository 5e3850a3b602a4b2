//! `with:` settings of `provider: sage`, [`SageSettings`] (documented in `docs/providers/sage.md`):
//! the user's businesses and the app's redirect URI.

use serde::{Deserialize, Serialize};

/// `with:` settings of `provider: sage` (documented in `docs/providers/sage.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageSettings {
    /// The user's businesses, in order; exactly one is the lead business.
    pub businesses: Vec<SageBusiness>,
    /// The app's registered redirect URI: a code exchange naming another gets `invalid_grant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// One Sage business of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageBusiness {
    /// The business id (`X-Business`).
    pub id: String,
    /// The business's name.
    pub name: String,
    /// Whether it is the user's lead business, used when a request has no `X-Business`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lead: bool,
}
