// @node-saml/node-saml 5.1.0 (the SAML SP library under passport-saml) and xmlsec1 judge
// reenact's `provider: saml` fake.
// Usage: node judge.mjs NAME=URL...   (run.sh passes every mock of scenario.yaml)
//
// Prints `ok  …` or `FAIL …` per check and a count; exits 1 on any failure. Valid responses must
// verify with xmlsec1 (every <ds:Signature>, by its own ID reference) and be accepted by
// node-saml; each bent rule must be rejected by node-saml with the error of exactly that rule.
// node-saml checks neither `Destination` nor `Recipient` (lib/saml.js 5.1.0 reads neither); the
// judge reports those two as `gap` lines (what the fake sent is checked here) and judge_saml.py
// has python3-saml reject them with its own errors.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SAML } from "@node-saml/node-saml";
import { check, finish, scratchDir } from "../lib.mjs";

const urls = Object.fromEntries(process.argv.slice(2).map((a) => a.split(/=(.*)/s).slice(0, 2)));
const SP = "https://app.acme.test/saml/metadata";
const ACS = "https://app.acme.test/saml/acs";
const IDP = "https://idp.acme.test/saml";
const dir = scratchDir("reenact-saml-");

async function metadataCerts(mock) {
  const xml = await (await fetch(`${urls[mock]}/metadata`)).text();
  return [...xml.matchAll(/<md:KeyDescriptor use="signing">.*?<ds:X509Certificate>([^<]+)</g)].map((m) => m[1]);
}

function pem(cert) {
  return `-----BEGIN CERTIFICATE-----\n${cert.match(/.{1,64}/g).join("\n")}\n-----END CERTIFICATE-----\n`;
}

// The SAMLResponse and RelayState of the IdP's auto-submitting form.
function formOf(html) {
  const value = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  const action = html.match(/<form method="POST" action="([^"]*)"/)?.[1];
  return { SAMLResponse: value("SAMLResponse"), RelayState: value("RelayState"), action };
}

// xmlsec1 --verify of every signature of `xml` with `cert` (or of those at `xpaths`): the number
// verified, or -1 (with xmlsec1's words) when one does not verify.
function xmlsecVerify(name, xml, cert, xpaths = null) {
  const file = join(dir, `${name}.xml`);
  const certFile = join(dir, `${name}.crt`);
  writeFileSync(file, xml);
  writeFileSync(certFile, pem(cert));
  const paths = xpaths ?? [];
  if (!xpaths && /^<samlp:Response[^>]*>(<saml:Issuer[^>]*>[^<]*<\/saml:Issuer>)<ds:Signature/.test(xml)) {
    paths.push("/*/*[local-name()='Signature']");
  }
  if (!xpaths && /<saml:Assertion [^>]*><saml:Issuer>[^<]*<\/saml:Issuer><ds:Signature/.test(xml)) {
    paths.push("//*[local-name()='Assertion']/*[local-name()='Signature']");
  }
  for (const xpath of paths) {
    try {
      execFileSync("xmlsec1", [
      "--verify", "--enabled-key-data", "rsa", "--pubkey-cert-pem", certFile,
      "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
      "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
      "--node-xpath", xpath, file,
    ], { stdio: "pipe" });
    } catch (err) {
      console.log(`      xmlsec1 (${xpath}): ${String(err.stderr ?? err).trim()}`);
      return -1;
    }
  }
  return paths.length;
}

function sp(certs, options = {}) {
  return new SAML({
    callbackUrl: ACS,
    entryPoint: "http://unused.invalid/sso",
    issuer: SP,
    audience: SP,
    idpIssuer: IDP,
    idpCert: certs.map(pem),
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: "never",
    ...options,
  });
}

// An SP-initiated login at `mock`: node-saml writes the AuthnRequest (HTTP-Redirect), the IdP
// answers its form; the SAMLResponse is returned with the SP that asked.
async function spInitiated(mock, saml) {
  saml.options.entryPoint = `${urls[mock]}/sso`;
  const url = await saml.getAuthorizeUrlAsync("relay-42", undefined, {});
  const html = await (await fetch(url)).text();
  return formOf(html);
}

async function idpInitiated(mock, user = "alice@acme.test") {
  const html = await (await fetch(`${urls[mock]}/idp-initiated?user=${encodeURIComponent(user)}&RelayState=r1`)).text();
  return formOf(html);
}

async function accepted(name, saml, form) {
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    return profile;
  } catch (err) {
    check(name, false, `node-saml refused: ${err.message}`);
    return null;
  }
}

async function rejected(name, saml, form, expected) {
  try {
    await saml.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    check(name, false, "node-saml accepted it");
  } catch (err) {
    const ok = expected instanceof RegExp ? expected.test(err.message) : err.message === expected;
    check(name, ok, `node-saml said: ${err.message}`);
  }
}

const xmlOf = (form) => Buffer.from(form.SAMLResponse, "base64").toString("utf8");

// --- metadata
const certs = await metadataCerts("idp");
check("metadata lists one signing certificate", certs.length === 1, `${certs.length}`);
const rollover = await metadataCerts("idp_rollover");
check("rollover metadata lists two signing certificates, the old one first", rollover.length === 2 && rollover[0] === certs[0], JSON.stringify(rollover.map((c) => c.slice(-12))));
const rotated = await metadataCerts("idp_rotated");
check("rotated metadata lists the new certificate first, the old one still", rotated.length === 2 && rotated[0] === rollover[1] && rotated[1] === certs[0]);

// --- valid responses, SP-initiated with InResponseTo validated
for (const [mock, signatures, options] of [
  ["idp", 2, {}],
  ["idp_assertion", 1, { wantAuthnResponseSigned: false }],
  ["idp_response", 1, { wantAssertionsSigned: false }],
]) {
  const saml = sp(certs, { validateInResponseTo: "always", ...options });
  const form = await spInitiated(mock, saml);
  check(`${mock}: the form posts to the ACS with the RelayState`, form.action === ACS && form.RelayState === "relay-42", JSON.stringify([form.action, form.RelayState]));
  const n = xmlsecVerify(mock, xmlOf(form), certs[0]);
  check(`${mock}: xmlsec1 verifies all ${signatures} signature(s)`, n === signatures, `${n} verified`);
  const profile = await accepted(`${mock}: node-saml accepts the SP-initiated response`, saml, form);
  if (profile) {
    check(`${mock}: node-saml accepts the SP-initiated response`, true);
    check(`${mock}: NameID, format and attributes reach the profile`,
      profile.nameID === "alice@acme.test" &&
      profile.nameIDFormat === "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" &&
      profile.email === "alice@acme.test" && JSON.stringify(profile.groups) === '["admins","staff"]' &&
      typeof profile.sessionIndex === "string" && profile.issuer === IDP,
      JSON.stringify(profile));
  }
}

// --- IdP-initiated (unsolicited: no InResponseTo)
{
  const form = await idpInitiated("idp", "bob@acme.test");
  check("unsolicited response has no InResponseTo", !/InResponseTo=/.test(xmlOf(form)));
  const profile = await accepted("idp: node-saml accepts the IdP-initiated response", sp(certs, { validateInResponseTo: "ifPresent" }), form);
  if (profile) check("idp: node-saml accepts the IdP-initiated response for bob", profile.nameID === "bob@acme.test");
}

// --- rollover and rotation
{
  const form = await idpInitiated("idp_rollover");
  check("idp_rollover: xmlsec1 verifies with the old certificate", xmlsecVerify("idp_rollover", xmlOf(form), rollover[0]) === 2);
  const profile = await accepted("idp_rollover: an SP trusting both metadata certificates accepts", sp(rollover), form);
  if (profile) check("idp_rollover: an SP trusting both metadata certificates accepts", true);
  const after = await idpInitiated("idp_rotated");
  check("idp_rotated: xmlsec1 verifies with the new certificate", xmlsecVerify("idp_rotated", xmlOf(after), rotated[0]) === 2);
  const p2 = await accepted("idp_rotated: an SP that took both certificates from the rollover metadata accepts", sp(rollover), after);
  if (p2) check("idp_rotated: an SP that took both certificates from the rollover metadata accepts", true);
  await rejected("idp_rotated: an SP pinned to the old certificate rejects (rotation)", sp([certs[0]]), after, "Invalid document signature");
}

// --- bent rules, each rejected with its own error
await rejected("idp_unsigned: rejected when signatures are wanted", sp(certs), await idpInitiated("idp_unsigned"), "Invalid document signature");
await rejected("idp_unsigned: rejected when only assertion signatures are wanted", sp(certs, { wantAuthnResponseSigned: false }), await idpInitiated("idp_unsigned"), "Invalid signature");
{
  const form = await idpInitiated("idp_expired");
  check("idp_expired: xmlsec1 verifies both signatures", xmlsecVerify("idp_expired", xmlOf(form), certs[0]) === 2);
  await rejected("idp_expired: NotOnOrAfter in the past (clock 15 minutes behind)", sp(certs), form, "SAML assertion expired: clocks skewed too much");
}
{
  const form = await idpInitiated("idp_future");
  check("idp_future: xmlsec1 verifies both signatures", xmlsecVerify("idp_future", xmlOf(form), certs[0]) === 2);
  await rejected("idp_future: NotBefore in the future", sp(certs), form, "SAML assertion not yet valid");
}
const audienceForm = await idpInitiated("idp_audience");
check("idp_audience: xmlsec1 verifies both signatures", xmlsecVerify("idp_audience", xmlOf(audienceForm), certs[0]) === 2);
await rejected("idp_audience: wrong Audience", sp(certs), audienceForm, /^SAML assertion audience mismatch\. Expected: https:\/\/app\.acme\.test\/saml\/metadata Received: https:\/\/other\.example\/saml\/metadata$/);
{
  const saml = sp(certs, { validateInResponseTo: "always" });
  const form = await spInitiated("idp_irt", saml);
  check("idp_irt: xmlsec1 verifies both signatures", xmlsecVerify("idp_irt", xmlOf(form), certs[0]) === 2);
  await rejected("idp_irt: wrong InResponseTo", saml, form, "InResponseTo is not valid");
}
{
  const form = await idpInitiated("idp_wrapping");
  const xml = xmlOf(form);
  check("idp_wrapping: the attacker's assertion comes first and the signed one is wrapped in XSW_ATTACK",
    /<samlp:Response [^>]*><saml:Issuer[^>]*>[^<]*<\/saml:Issuer><samlp:Status>.*<\/samlp:Status><saml:Assertion [^>]*ID="[^"]*-spoofed"/.test(xml) && /<XSW_ATTACK><saml:Assertion /.test(xml));
  check("idp_wrapping: the genuine signature still verifies with xmlsec1", xmlsecVerify("idp_wrapping", xml, certs[0], ["//*[local-name()='XSW_ATTACK']/*[local-name()='Assertion']/*[local-name()='Signature']"]) === 1);
  await rejected("idp_wrapping: signature wrapping rejected", sp(certs, { wantAuthnResponseSigned: false }), form, "Invalid signature: Referenced node does not refer to it's parent element");
}
for (const [mock, attr] of [["idp_recipient", "Recipient"], ["idp_destination", "Destination"]]) {
  const form = await idpInitiated(mock);
  const xml = xmlOf(form);
  check(`${mock}: ${attr} is the bent value`, xml.includes(`${attr}="https://other.example/saml/acs"`));
  check(`${mock}: xmlsec1 verifies both signatures`, xmlsecVerify(mock, xml, certs[0]) === 2);
  try {
    await sp(certs).validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    console.log(`gap   ${mock}: node-saml 5.1.0 does not check ${attr} and accepts it`);
  } catch (err) {
    check(`${mock}: node-saml rejects a wrong ${attr}`, true, err.message);
  }
}

finish();
