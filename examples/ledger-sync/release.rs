//! The release switch of the ledger-sync demo.
//!
//! ledger-sync ships as two releases built from the same code: 1.4.2 carries thirty-two
//! customer incidents (eight with Xero, SUP-4821 to SUP-5003; four with QuickBooks Online,
//! SUP-5011, SUP-5024, SUP-5032 and SUP-5081; three with Sage Intacct, SUP-5040 to SUP-5052; two
//! with Sage Business Cloud Accounting, SUP-5063 and SUP-5077; three with OpenID Connect sign-in,
//! SUP-5101, SUP-5108 and SUP-5115; three with SAML sign-in, SUP-5122, SUP-5129 and SUP-5136;
//! five with bank statement import, SUP-5201, SUP-5208, SUP-5215, SUP-5222 and SUP-5229;
//! four with bank payments, SUP-5301, SUP-5308, SUP-5315 and SUP-5322;
//! each told in `README.md` beside this file) and 1.4.3 fixes them. [`Release`] is the one value
//! that selects between the buggy and the
//! fixed code paths; everything else behaves identically in both releases.

use std::fmt;

/// A release of ledger-sync; selects the buggy (1.4.2) or fixed (1.4.3) behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// The release the incidents were reported against.
    V1_4_2,
    /// The release that fixes every incident of 1.4.2.
    V1_4_3,
}

impl Release {
    /// Every release this build can impersonate, in the order shown in messages.
    pub const ALL: [Release; 2] = [Release::V1_4_2, Release::V1_4_3];

    /// The release's version string, as given on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::V1_4_2 => "1.4.2",
            Release::V1_4_3 => "1.4.3",
        }
    }

    /// Parses a version string; `None` when this build does not know the release.
    pub fn parse(text: &str) -> Option<Release> {
        Release::ALL
            .into_iter()
            .find(|release| release.as_str() == text.trim())
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    //! Tests for release parsing.

    use super::*;

    #[test]
    fn parses_known_releases_only() {
        assert_eq!(Release::parse("1.4.2"), Some(Release::V1_4_2));
        assert_eq!(Release::parse("1.4.3"), Some(Release::V1_4_3));
        assert_eq!(Release::parse("1.5.0"), None);
        assert_eq!(Release::parse(""), None);
    }
}
