//! The secrets `tests/fixtures/secret-audit/planted-secrets.yaml` plants, and the encodings a
//! leak of one could take: what the secret audit and the package audit search for.

use base64::Engine as _;

/// A value the scenario plants, and what kind of secret it is.
pub struct Planted {
    /// What kind of secret it is, and where the fixture puts it.
    pub what: &'static str,
    /// The value.
    pub value: &'static str,
}

/// Every planted value; each appears in the fixture (checked below).
pub const PLANTED: &[Planted] = &[
    Planted {
        what: "an access token captured under the innocent name `at`",
        value: "tok-AT-7f3c9a1e5b2d4f60",
    },
    Planted {
        what: "an API key in a `?key=` query parameter",
        value: "AIzaSyPLANTEDkey0123456789abcdef",
    },
    Planted {
        what: "the wrong `X-Api-Key` a near-miss 404 used to quote",
        value: "XKEY-wrong-9b8a7c6d5e4f",
    },
    Planted {
        what: "the `X-Api-Key` a stub expects, which the near-miss 404 used to quote",
        value: "expected-key-000",
    },
    Planted {
        what: "an IBAN in a failing expectation's detail",
        value: "GB82WEST12345698765432",
    },
    Planted {
        what: "an account number in a failing expectation's detail",
        value: "31926819",
    },
    Planted {
        what: "an IBAN in free text",
        value: "DE89 3704 0044 0532 0130 00",
    },
    Planted {
        what: "a private key (PEM) in a text body",
        value: "PLANTEDPEMTEXTBODY",
    },
    Planted {
        what: "a private key (PEM) in a JSON field",
        value: "PLANTEDPEMJSONBODY",
    },
    Planted {
        what: "a session id",
        value: "SID-4d5e6f7a8b9c0d1e",
    },
    Planted {
        what: "a webhook signing key (target env, webhook `sign`, echoed in a body)",
        value: "whsec-PLANTED-5f4e3d2c1b0a",
    },
    Planted {
        what: "a JWT in free text",
        value: "c2lnUExBTlRFRGp3dHNpZw",
    },
    Planted {
        what: "a card number in free text",
        value: "5555 5555 5555 4444",
    },
    Planted {
        what: "a value declared in `snapshot.secrets`",
        value: "cust-ref-PLANTED-8c7b6a",
    },
    Planted {
        what: "a client secret sent in a Basic `Authorization`, echoed plain and URL-encoded",
        value: "cs-PLANTED/se+cret",
    },
    Planted {
        what: "an access token a mock issued",
        value: "tok-PARTNER-0a9b8c7d6e5f",
    },
    Planted {
        what: "a password in a JSON request body",
        value: "pw-PLANTED-hunter2",
    },
    Planted {
        what: "a provider's webhook key (`with.webhook_key`)",
        value: "xwk-PLANTED-1a2b3c4d5e6f7a8b",
    },
    Planted {
        what: "a bank's bearer token (`with.auth.bearer`), sent by a flow step",
        value: "bank-tok-PLANTED-4e5f6a7b8c9d",
    },
    Planted {
        what: "a bank's SFTP password (`with.sftp.users[].password`)",
        value: "sftp-pw-PLANTED-0a9b8c7d6e",
    },
];

/// A value as it may be written: as it is, without its spaces, JSON-escaped, URL-encoded (path
/// and form style) and base64 (padded or not, standard and URL-safe).
pub fn encodings(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(value).unwrap();
    let percent: String = value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    let mut out = vec![
        value.to_owned(),
        value.replace(' ', ""),
        json[1..json.len() - 1].to_owned(),
        percent,
        form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        STANDARD.encode(value).trim_end_matches('=').to_owned(),
        URL_SAFE_NO_PAD.encode(value),
    ];
    out.sort();
    out.dedup();
    out
}

/// Each planted value found, in any of its [`encodings`], in any of the `written` texts (labelled
/// by where they went): `what `encoding` in label`.
pub fn leaks(written: &[(String, String)]) -> Vec<String> {
    let mut leaks = Vec::new();
    for planted in PLANTED {
        for encoded in encodings(planted.value) {
            for (label, text) in written {
                if text.contains(&encoded) {
                    leaks.push(format!("{} `{encoded}` in {label}", planted.what));
                }
            }
        }
    }
    leaks
}
