//! Signing keys and compact JWS for the fake OpenID Provider, [`KeySet`]: the built-in RSA and
//! P-256 test keys (`providers/keys/oidc-*.pem`, public on purpose and fixed so that `kid`s and
//! runs are deterministic), their JWKs (RFC 7517 §4, RFC 7518 §6.2–6.3), and RS256 / ES256
//! signatures (RFC 7515 §3.1 compact serialization, RFC 7518 §3.3 and §3.4) made with `ring`.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

use crate::scenario::model::{OidcKey, SigningAlg};

/// The fake's built-in RSA test keys: the first two are published (current and next), the
/// third never is (a bad signature is made with it).
const RSA_PEMS: [(&str, &str); 3] = [
    ("reenact-rs256-1", include_str!("../keys/oidc-rsa-1.pem")),
    ("reenact-rs256-2", include_str!("../keys/oidc-rsa-2.pem")),
    (
        "reenact-rs256-unpublished",
        include_str!("../keys/oidc-rsa-3.pem"),
    ),
];
/// The fake's built-in P-256 test keys, in the same roles.
const EC_PEMS: [(&str, &str); 3] = [
    ("reenact-es256-1", include_str!("../keys/oidc-ec-1.pem")),
    ("reenact-es256-2", include_str!("../keys/oidc-ec-2.pem")),
    (
        "reenact-es256-unpublished",
        include_str!("../keys/oidc-ec-3.pem"),
    ),
];

/// base64url without padding (RFC 7515 §2).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A key pair of either algorithm.
#[derive(Debug)]
enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// One signing key: its `kid`, the pair, and its public JWK.
#[derive(Debug)]
pub(crate) struct SigningKey {
    kid: String,
    pair: Pair,
    jwk: Value,
}

impl SigningKey {
    /// The key's `kid`.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, with `kid`, `use: sig` and `alg`.
    pub(crate) fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The JWS `alg` of the key.
    fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
        }
    }

    /// `signing_input` signed, or `None` if `ring` fails (it does not for these keys).
    fn sign(&self, signing_input: &[u8]) -> Option<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, signing_input, &mut signature)
                    .ok()?;
                Some(signature)
            }
            Pair::Ec(pair) => pair
                .sign(&rng, signing_input)
                .ok()
                .map(|signature| signature.as_ref().to_vec()),
        }
    }
}

fn rsa_key(kid: &str, pem: &str) -> Option<SigningKey> {
    let pair = RsaKeyPair::from_pkcs8(&crate::pem::block(pem, "PRIVATE KEY")?).ok()?;
    let public = PublicKeyComponents::<Vec<u8>>::from(pair.public());
    let jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64url(&public.n), "e": b64url(&public.e),
    });
    Some(SigningKey {
        kid: kid.to_owned(),
        pair: Pair::Rsa(pair),
        jwk,
    })
}

fn ec_key(kid: &str, pem: &str) -> Option<SigningKey> {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &crate::pem::block(pem, "PRIVATE KEY")?,
        &rng,
    )
    .ok()?;
    // An uncompressed point: 0x04, then x and y of 32 bytes each (SEC 1 §2.3.3).
    let point = pair.public_key().as_ref();
    let (x, y) = point.get(1..33).zip(point.get(33..65))?;
    let jwk = json!({
        "kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
        "x": b64url(x), "y": b64url(y),
    });
    Some(SigningKey {
        kid: kid.to_owned(),
        pair: Pair::Ec(pair),
        jwk,
    })
}

/// The keys of one algorithm: `current` and `next` are published, `unpublished` never is.
#[derive(Debug)]
pub(crate) struct KeySet {
    /// The key that signs before a rotation.
    pub current: SigningKey,
    /// The key that signs after it (always listed unless the rotation publishes it later).
    pub next: SigningKey,
    /// A key no JWKS lists: a signature by it under another key's `kid` does not verify.
    pub unpublished: SigningKey,
}

impl KeySet {
    /// The built-in keys of `alg`; `None` only if a committed key file were damaged (the unit
    /// tests load every one).
    pub(crate) fn builtin(alg: SigningAlg) -> Option<KeySet> {
        let [a, b, c] = match alg {
            SigningAlg::RS256 => RSA_PEMS.map(|(kid, pem)| rsa_key(kid, pem)),
            SigningAlg::ES256 => EC_PEMS.map(|(kid, pem)| ec_key(kid, pem)),
        };
        Some(KeySet {
            current: a?,
            next: b?,
            unpublished: c?,
        })
    }

    /// The built-in keys of `alg` with the scenario's own `keys` (PEM PKCS#8, checked when the
    /// scenario was loaded) as the current and, when two are given, the next key.
    pub(crate) fn with_scenario_keys(alg: SigningAlg, keys: &[OidcKey]) -> Option<KeySet> {
        let mut set = KeySet::builtin(alg)?;
        let load = |key: &OidcKey| match alg {
            SigningAlg::RS256 => rsa_key(&key.kid, &key.pem.0),
            SigningAlg::ES256 => ec_key(&key.kid, &key.pem.0),
        };
        if let Some(key) = keys.first() {
            set.current = load(key)?;
        }
        if let Some(key) = keys.get(1) {
            set.next = load(key)?;
        }
        Some(set)
    }
}

/// A compact JWS of `claims` with header `{"alg", "typ": "JWT", "kid"}` (RFC 7519 §5), signed
/// by `key`; `kid` overrides the header's `kid`.
pub(crate) fn sign_jwt(key: &SigningKey, kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": key.alg(), "typ": "JWT", "kid": kid });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = key.sign(signing_input.as_bytes()).unwrap_or_default();
    format!("{signing_input}.{}", b64url(&signature))
}

#[cfg(test)]
mod tests {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    fn b64d(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .unwrap()
    }

    /// Every committed key loads, and a token it signs verifies with the JWK's public key only.
    #[test]
    fn every_builtin_key_signs_and_its_jwk_verifies() {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let keys = KeySet::builtin(alg).expect("the committed keys load");
            for key in [&keys.current, &keys.next, &keys.unpublished] {
                let token = sign_jwt(key, key.kid(), &json!({ "sub": "alice" }));
                let (input, signature) = token.rsplit_once('.').unwrap();
                let jwk = key.jwk();
                let verified = match alg {
                    SigningAlg::RS256 => {
                        let public = PublicKeyComponents {
                            n: b64d(jwk["n"].as_str().unwrap()),
                            e: b64d(jwk["e"].as_str().unwrap()),
                        };
                        public.verify(
                            &RSA_PKCS1_2048_8192_SHA256,
                            input.as_bytes(),
                            &b64d(signature),
                        )
                    }
                    SigningAlg::ES256 => {
                        let mut point = vec![4];
                        point.extend(b64d(jwk["x"].as_str().unwrap()));
                        point.extend(b64d(jwk["y"].as_str().unwrap()));
                        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                            .verify(input.as_bytes(), &b64d(signature))
                    }
                };
                assert!(verified.is_ok(), "{}", key.kid());
            }
            assert_ne!(keys.current.kid(), keys.next.kid());
        }
    }
}
