// openid-client 5.7.1 (npm; an OpenID Foundation certified relying party) judges reenact's oidc
// fake. Usage: node judge.mjs SERVE_OUTPUT   (the `NAME URL admin ADMIN_URL` lines that
// `reenact mock serve conformance/oidc/scenario.yaml` printed; run.sh passes them)
//
// Every flow is the library's own: discovery (Issuer.discover), the authorization URL with PKCE
// S256, nonce and state, the callback with its ID token validation (signature by the JWKS key its
// `kid` names, iss, aud, exp, nbf, nonce), refresh, client credentials and userinfo. The judge
// plays only the browser: it GETs the authorization URL and hands the 302's Location back.
// Each bent mock must be rejected by the library's own check with the library's own error text.
// Prints `ok  …` or `FAIL …` per check and a count; exits 1 on any failure.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { check, equal, finish } from "../lib.mjs";

const require = createRequire(import.meta.url);
const { Issuer, generators, errors } = require("openid-client");
const { version } = JSON.parse(
  readFileSync(new URL("./node_modules/openid-client/package.json", import.meta.url), "utf8"),
);

const served = process.argv[2];
if (!served) {
  console.error("usage: node judge.mjs SERVE_OUTPUT");
  process.exit(2);
}
const urls = {};
const admins = {};
for (const line of readFileSync(served, "utf8").split("\n")) {
  const [name, url, word, admin] = line.trim().split(/\s+/);
  if (word === "admin") {
    urls[name] = url;
    admins[name] = admin;
  }
}

const CALLBACK = "https://rp.acme.test/callback";
/** Run `fn`, which must throw `klass` with a message `message` matches. */
async function rejects(name, fn, klass, message) {
  try {
    await fn();
    check(name, false, "accepted");
  } catch (e) {
    check(`${name}: ${klass.name}`, e instanceof klass, `got ${e.constructor.name}: ${e.message}`);
    const ok = message instanceof RegExp ? message.test(e.message) : e.message === message;
    check(`${name}: message`, ok, `got ${JSON.stringify(e.message)}, want ${message}`);
    return e;
  }
  return undefined;
}

/** A client of the issuer discovered at `base` (or `issuer` itself). */
async function clientOf(base, { issuer, alg = "RS256", auth = "client_secret_basic" } = {}) {
  const found = issuer ?? (await Issuer.discover(base));
  return new found.Client({
    client_id: "app",
    client_secret: "judge-secret",
    redirect_uris: [CALLBACK],
    response_types: ["code"],
    id_token_signed_response_alg: alg,
    token_endpoint_auth_method: auth,
  });
}

/** The code flow with PKCE S256 as the library runs it; the judge is the browser. */
async function signIn(client, { scope = "openid email offline_access", login } = {}) {
  const verifier = generators.codeVerifier();
  const nonce = generators.nonce();
  const state = generators.state();
  const extra = login ? { login_hint: login } : {};
  const url = client.authorizationUrl({
    scope,
    code_challenge: generators.codeChallenge(verifier),
    code_challenge_method: "S256",
    nonce,
    state,
    ...extra,
  });
  const answer = await fetch(url, { redirect: "manual" });
  const location = answer.headers.get("location") ?? "";
  const params = client.callbackParams(location);
  const tokens = await client.callback(CALLBACK, params, { code_verifier: verifier, nonce, state });
  return { tokens, nonce, verifier, params };
}

async function advance(name, millis) {
  const answer = await fetch(`${admins[name]}/__reenact/clock/advance`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ millis }),
  });
  check(`${name}: virtual clock advanced`, answer.ok, `status ${answer.status}`);
}

console.log(`openid-client ${version}`);

// The valid IdP: discovery, code flow, claims, userinfo, refresh, client credentials, errors.
{
  const base = urls.idp;
  const issuer = await Issuer.discover(base);
  equal("discovery: issuer is the mock's URL", issuer.issuer, base);
  const client = await clientOf(base, { issuer });
  const { tokens } = await signIn(client);
  const claims = tokens.claims();
  equal("code flow: sub", claims.sub, "alice");
  equal("code flow: aud", claims.aud, "app");
  equal("code flow: groups", claims.groups, ["admins"]);
  check("code flow: exp an hour after iat", claims.exp - claims.iat === 3600, `${claims.exp - claims.iat}`);
  check("code flow: auth_time", Number.isInteger(claims.auth_time));
  check("code flow: refresh token answered", typeof tokens.refresh_token === "string");
  const me = await client.userinfo(tokens);
  equal("userinfo: the user's claims", [me.sub, me.email, me.name], ["alice", "alice@acme.test", "Alice"]);
  const refreshed = await client.refresh(tokens);
  equal("refresh: a new, validated ID token", refreshed.claims().sub, "alice");
  check("refresh: rotated", refreshed.refresh_token !== tokens.refresh_token);
  const e = await rejects("refresh: a used refresh token", () => client.refresh(tokens), errors.OPError, "invalid_grant (the refresh token is invalid, used, revoked or issued to another client)");
  equal("refresh: RFC 6749 error", e?.error, "invalid_grant");
  const bob = await signIn(client, { login: "bob" });
  equal("login_hint picks the user", bob.tokens.claims().sub, "bob");

  const post = await clientOf(base, { issuer, auth: "client_secret_post" });
  const grant = await post.grant({ grant_type: "client_credentials", scope: "api.read" });
  check("client credentials (client_secret_post): access token", typeof grant.access_token === "string");
  check("client credentials: no refresh token (RFC 6749 §4.4.3)", grant.refresh_token === undefined);

  const wrong = new issuer.Client({
    client_id: "app",
    client_secret: "rotated-away",
    redirect_uris: [CALLBACK],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const bad = await rejects("a rotated client secret (basic)", () => wrong.grant({ grant_type: "client_credentials" }), errors.OPError, "invalid_client (client authentication failed)");
  equal("invalid_client by basic: 401", bad?.response?.statusCode, 401);
  equal("invalid_client by basic: WWW-Authenticate", bad?.response?.headers?.["www-authenticate"], 'Basic realm="oidc"');

  // PKCE: the library's exchange with another verifier is refused by the fake.
  const verifier = generators.codeVerifier();
  const url = client.authorizationUrl({ scope: "openid", code_challenge: generators.codeChallenge(verifier), code_challenge_method: "S256", nonce: "n", state: "s" });
  const location = (await fetch(url, { redirect: "manual" })).headers.get("location") ?? "";
  const pkce = await rejects("PKCE: a wrong code_verifier", () => client.callback(CALLBACK, client.callbackParams(location), { code_verifier: generators.codeVerifier(), nonce: "n", state: "s" }), errors.OPError, "invalid_grant (code_verifier does not match the code_challenge)");
  equal("PKCE: RFC 6749 error", pkce?.error, "invalid_grant");
}

// ES256.
{
  const client = await clientOf(urls.es256, { alg: "ES256" });
  const { tokens } = await signIn(client);
  equal("ES256: the ID token validates", tokens.claims().sub, "alice");
}

// Each bent claim fails the library's own check for exactly that claim.
{
  const base = urls["bad-iss"];
  await rejects("wrong iss", async () => signIn(await clientOf(base)), errors.RPError, `unexpected iss value, expected ${base}, got: https://evil.idp.test`);
}
await rejects("wrong aud", async () => signIn(await clientOf(urls["bad-aud"])), errors.RPError, "aud mismatch, expected app, got: someone-else");
await rejects("expired exp (IdP clock 2 h behind)", async () => signIn(await clientOf(urls.expired)), errors.RPError, /^JWT expired, now \d+, exp \d+$/);
await rejects("nbf in the future", async () => signIn(await clientOf(urls["not-yet"])), errors.RPError, /^JWT not active yet, now \d+, nbf \d+$/);
{
  const client = await clientOf(urls["bad-nonce"]);
  let nonce = "";
  await rejects("wrong nonce", async () => {
    const verifier = generators.codeVerifier();
    nonce = generators.nonce();
    const url = client.authorizationUrl({ scope: "openid", code_challenge: generators.codeChallenge(verifier), code_challenge_method: "S256", nonce, state: "s" });
    const location = (await fetch(url, { redirect: "manual" })).headers.get("location") ?? "";
    return client.callback(CALLBACK, client.callbackParams(location), { code_verifier: verifier, nonce, state: "s" });
  }, errors.RPError, /^nonce mismatch, expected \S+, got: replayed-nonce$/);
}
await rejects("unknown kid", async () => signIn(await clientOf(urls["unknown-kid"])), errors.RPError, `no valid key found in issuer's jwks_uri for key parameters {"kid":"retired-2025","alg":"RS256"}`);
await rejects("wrong signature (an unpublished key)", async () => signIn(await clientOf(urls["bad-signature"])), errors.RPError, "failed to validate JWT signature");

// O-01: kid rotation at a virtual time. Announced ahead, the library's cached JWKS has the key;
// unannounced, a JWKS fetched within the last minute does not, and the library refuses.
{
  const client = await clientOf(urls.rotation);
  const before = (await signIn(client)).tokens;
  const kid = (set) => JSON.parse(Buffer.from(set.id_token.split(".")[0], "base64url")).kid;
  equal("rotation: signed by the current key before", kid(before), "reenact-rs256-1");
  await advance("rotation", 2 * 3600 * 1000);
  const after = (await signIn(client)).tokens;
  equal("rotation: signed by the next key after", kid(after), "reenact-rs256-2");
  equal("rotation: the next key (listed ahead) validates", after.claims().sub, "alice");
}
{
  const client = await clientOf(urls["rotation-unannounced"]);
  await signIn(client);
  await advance("rotation-unannounced", 2 * 3600 * 1000);
  await rejects("rotation unannounced: a JWKS cached before the rotation", () => signIn(client), errors.RPError, `no valid key found in issuer's jwks_uri for key parameters {"kid":"reenact-rs256-2","alg":"RS256"}`);
}

// Entra: multi-tenant discovery names `{tenantid}`; tokens carry the tenant in iss and tid.
{
  const tenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
  const issuer = await Issuer.discover(`${urls.entra}/common/v2.0`);
  equal("entra: discovery issuer is the template", issuer.issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
  await rejects("entra: strict iss against the template", async () => signIn(await clientOf(null, { issuer })), errors.RPError, `unexpected iss value, expected https://login.microsoftonline.com/{tenantid}/v2.0, got: https://login.microsoftonline.com/${tenant}/v2.0`);
  const tenantIssuer = new Issuer({ ...issuer.metadata, issuer: issuer.issuer.replace("{tenantid}", tenant) });
  const { tokens } = await signIn(await clientOf(null, { issuer: tenantIssuer }));
  equal("entra: iss validated against tid", [tokens.claims().iss, tokens.claims().tid], [`https://login.microsoftonline.com/${tenant}/v2.0`, tenant]);
}

// Okta and Google issuer formats, consistent between discovery and tokens.
for (const [name, path, want] of [
  ["okta", "/oauth2/default", "https://acme.okta.com/oauth2/default"],
  ["google", "", "https://accounts.google.com"],
]) {
  const issuer = await Issuer.discover(`${urls[name]}${path}`);
  equal(`${name}: discovery issuer`, issuer.issuer, want);
  const { tokens } = await signIn(await clientOf(null, { issuer }));
  equal(`${name}: the ID token validates with that iss`, tokens.claims().iss, want);
}

finish();
