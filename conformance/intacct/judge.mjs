// Sage's official Intacct SDK (@intacct/intacct-sdk 2.2.1) judges reenact's intacct fake.
// Usage: node judge.mjs INTACCT_URL LIMITED_URL   (run.sh starts both mocks of scenario.yaml;
// `limited` allows one request a minute)
//
// Prints `ok  …` or `FAIL …` per check and a count; exits 1 on any failure. Every check compares
// what the SDK parsed (its Result, Authentication, ClientConfig, ResponseException/
// ResultException) with the values scenario.yaml and the public sources fix.
import { createRequire } from "node:module";
import { check, equal, finish } from "../lib.mjs";

const require = createRequire(import.meta.url);
const IA = require("@intacct/intacct-sdk");

const { ClientConfig, OnlineClient, RequestConfig, SessionProvider } = IA;
const { ResponseException, ResultException } = IA.Exceptions;
const { ApiSessionCreate } = IA.Functions;
const { VendorCreate } = IA.Functions.AccountsPayable;
const { Read, ReadByQuery, ReadMore } = IA.Functions.Common;
const Endpoint = IA.Credentials.Endpoint;

const [base, limitedBase] = process.argv.slice(2);
if (!base || !limitedBase) {
  console.error("usage: node judge.mjs INTACCT_URL LIMITED_URL");
  process.exit(2);
}
const gateway = `${base.replace(/\/$/, "")}/ia/xml/xmlgw.phtml`;
const limitedGateway = `${limitedBase.replace(/\/$/, "")}/ia/xml/xmlgw.phtml`;

// The one override (see run.sh): the SDK accepts only hosts ending in `.intacct.com`. Accept the
// fake's loopback host as well; every other host is still judged by the SDK's own rule.
const domainValid = Endpoint.isDomainValid;
Endpoint.isDomainValid = (hostname) =>
  hostname === new URL(gateway).hostname || hostname === new URL(limitedGateway).hostname
  || domainValid(hostname);

/** Run `fn`, which must throw; check the class (exactly) and the message. */
async function throws(name, fn, klass, message, errors) {
  try {
    await fn();
    check(name, false, "no exception");
  } catch (e) {
    check(`${name}: ${klass.name}`, e.constructor === klass, `got ${e.constructor.name}: ${e.message}`);
    if (message instanceof RegExp) {
      check(`${name}: message`, message.test(e.message), `got ${JSON.stringify(e.message)}`);
    } else {
      equal(`${name}: message`, e.message, message);
    }
    if (errors !== undefined) {
      if (errors instanceof RegExp) {
        check(`${name}: errors`, (e.errors ?? []).length >= 1 && errors.test(e.errors[0]),
          `got ${JSON.stringify(e.errors)}`);
      } else {
        equal(`${name}: errors`, e.errors, errors);
      }
    }
    return e;
  }
  return undefined;
}

function config({ company = "acme-ltd", user = "ws-export", password = "user-pass", sender = "sender-pass", entity } = {}) {
  const c = new ClientConfig();
  c.endpointUrl = gateway;
  c.senderId = "acme-sender";
  c.senderPassword = sender;
  c.companyId = company;
  c.userId = user;
  c.userPassword = password;
  if (entity !== undefined) {
    c.entityId = entity;
  }
  return c;
}
const request = (controlId, extra = {}) => Object.assign(new RequestConfig(), { controlId, ...extra });

const INTACCT_DATETIME = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d)$/;
const OFFSET_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
function intacctTime(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${p(date.getUTCMonth() + 1)}/${p(date.getUTCDate())}/${date.getUTCFullYear()} `
    + `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}`;
}
function vendor(id, name, email) {
  const v = new VendorCreate();
  v.controlId = `create-${id}`;
  v.vendorId = id;
  v.vendorName = name;
  v.printAs = `${name} (print)`;
  v.primaryEmailAddress = email;
  return v;
}
function query(object, where, pageSize) {
  const q = new ReadByQuery();
  q.controlId = `query-${object}`;
  q.objectName = object;
  q.query = where;
  q.fields = ["VENDORID", "NAME", "WHENCREATED"];
  q.pageSize = pageSize;
  return q;
}

async function main() {
  // 1. Session: getAPISession through SessionProvider, then follow the endpoint it answers.
  const session = await SessionProvider.factory(config());
  check("getAPISession: a session id", typeof session.sessionId === "string" && session.sessionId.length > 10,
    JSON.stringify(session.sessionId));
  equal("getAPISession: the endpoint (default: the mock's own URL)", session.endpointUrl, gateway);
  equal("getAPISession: locationid empty for a top-level session", session.entityId, "");
  equal("authentication: companyid", session.companyId, "acme-ltd");
  equal("authentication: userid", session.userId, "ws-export");
  check("authentication: sessiontimestamp with an offset", OFFSET_DATETIME.test(session.sessionTimestamp ?? ""),
    JSON.stringify(session.sessionTimestamp));
  check("authentication: sessiontimeout with an offset", OFFSET_DATETIME.test(session.sessionTimeout ?? ""),
    JSON.stringify(session.sessionTimeout));
  equal("authentication: sessiontimeout = sessiontimestamp + session_lifetime (30m)",
    Date.parse(session.sessionTimeout) - Date.parse(session.sessionTimestamp), 30 * 60 * 1000);
  const now = new Date(Date.parse(session.sessionTimestamp));
  const client = new OnlineClient(session);

  // A new session from the session (the SDK's way to renew one: getAPISession with the session
  // credentials and the session's own, empty, locationid).
  const renewed = await SessionProvider.factory(Object.assign(new ClientConfig(), {
    senderId: "acme-sender", senderPassword: "sender-pass", endpointUrl: session.endpointUrl,
    sessionId: session.sessionId, entityId: session.entityId,
  }));
  check("getAPISession on a session: a new session id", renewed.sessionId !== session.sessionId
    && typeof renewed.sessionId === "string" && renewed.sessionId.length > 10, JSON.stringify(renewed.sessionId));
  equal("getAPISession on a session: same company, user, top level",
    [renewed.companyId, renewed.userId, renewed.entityId], ["acme-ltd", "ws-export", ""]);

  // initech's sessions live on its own endpoint (scenario setting): the SDK must adopt it. It is
  // a real Intacct host name, so the judge only reads it and never calls it.
  const initech = await SessionProvider.factory(config({ company: "initech", password: "initech-pass" }));
  equal("getAPISession: a company's own endpoint setting is answered and adopted", initech.endpointUrl,
    "https://initech.intacct.com/ia/xml/xmlgw.phtml");

  // 2. Create a vendor with the SDK's VendorCreate, on the session.
  const created = await client.execute(vendor("V-100", "Acme Paper", "ap@acme.example"));
  const createResult = created.getResult();
  equal("create: status", createResult.status, "success");
  equal("create: function", createResult.functionName, "create");
  equal("create: controlid", createResult.controlId, "create-V-100");
  equal("create: listtype", createResult.listType, "objects");
  equal("create: the new record's RECORDNO and VENDORID", createResult.data,
    [{ RECORDNO: "1", VENDORID: "V-100" }]);
  equal("authentication on a session: sessiontimeout moves with use",
    Date.parse(created.authentication.sessionTimeout) - Date.parse(created.authentication.sessionTimestamp),
    30 * 60 * 1000);

  // 3. Read it back.
  const read = new Read();
  read.controlId = "read-vendor";
  read.objectName = "VENDOR";
  read.keys = [1];
  const readResult = (await client.execute(read)).getResult();
  equal("read: listtype", readResult.listType, "vendor");
  equal("read: count", readResult.count, 1);
  const record = readResult.data[0];
  equal("read: RECORDNO", record.RECORDNO, "1");
  equal("read: VENDORID", record.VENDORID, "V-100");
  equal("read: NAME", record.NAME, "Acme Paper");
  equal("read: DISPLAYCONTACT as sent", record.DISPLAYCONTACT,
    { PRINTAS: "Acme Paper (print)", EMAIL1: "ap@acme.example" });
  equal("read: WHENCREATED as MM/DD/YYYY HH:MM:SS", record.WHENCREATED, intacctTime(now));
  equal("read: WHENMODIFIED as MM/DD/YYYY HH:MM:SS", record.WHENMODIFIED, intacctTime(now));

  // 4. More vendors in one batch (no transaction: each function on its own).
  const batch = await client.executeBatch([
    vendor("V-101", "Bolt Supply", "b@bolt.example"),
    vendor("V-102", "Crate Co", "c@crate.example"),
    vendor("V-103", "Dyes Ltd", "d@dyes.example"),
    vendor("V-104", "Eaves Inc", "e@eaves.example"),
  ]);
  equal("batch create: every result a success",
    batch.results.map((r) => [r.controlId, r.status]),
    [["create-V-101", "success"], ["create-V-102", "success"], ["create-V-103", "success"],
      ["create-V-104", "success"]]);

  // 5. readByQuery + readMore by resultId.
  const first = (await client.execute(query("VENDOR", "", 2))).getResult();
  equal("readByQuery: count / totalcount / numremaining", [first.count, first.totalCount, first.numRemaining],
    [2, 5, 3]);
  check("readByQuery: a resultId to read more", typeof first.resultId === "string" && first.resultId.length > 0,
    JSON.stringify(first.resultId));
  const seen = first.data.map((v) => v.VENDORID);
  const pages = [[first.count, first.numRemaining]];
  let resultId = first.resultId;
  let remaining = first.numRemaining;
  while (remaining > 0 && pages.length < 10) {
    const more = new ReadMore();
    more.controlId = "read-more";
    more.resultId = resultId;
    const page = (await client.execute(more)).getResult();
    equal(`readMore page ${pages.length + 1}: function`, page.functionName, "readMore");
    seen.push(...page.data.map((v) => v.VENDORID));
    pages.push([page.count, page.numRemaining]);
    remaining = page.numRemaining;
    resultId = page.resultId ?? resultId;
  }
  equal("readMore: pages of 2, 2, 1 with numremaining 3, 1, 0", pages, [[2, 3], [2, 1], [1, 0]]);
  equal("readMore: every vendor once, in order", seen, ["V-100", "V-101", "V-102", "V-103", "V-104"]);
  const pastEnd = new ReadMore();
  pastEnd.controlId = "read-more-again";
  pastEnd.resultId = first.resultId;
  await throws("readMore after the last page", () => client.execute(pastEnd), ResultException,
    /^Result status: failure for Control ID: read-more-again - /);

  // Incremental sync: dates compared with >=, <, > in MM/DD/YYYY HH:MM:SS.
  const stamp = intacctTime(now);
  const since = (await client.execute(query("VENDOR", `WHENMODIFIED >= '${stamp}'`, 100))).getResult();
  equal(`readByQuery WHENMODIFIED >= '${stamp}': all five`, since.totalCount, 5);
  const after = (await client.execute(query("VENDOR", `WHENMODIFIED > '${stamp}'`, 100))).getResult();
  equal(`readByQuery WHENMODIFIED > '${stamp}': none`, after.totalCount, 0);
  const before = (await client.execute(query("VENDOR", "WHENCREATED < '01/01/2000 00:00:00'", 100))).getResult();
  equal("readByQuery WHENCREATED < '01/01/2000 00:00:00': none", before.totalCount, 0);
  const one = (await client.execute(query("VENDOR", "VENDORID = 'V-102'", 100))).getResult();
  equal("readByQuery VENDORID = 'V-102': that vendor", one.data.map((v) => v.NAME), ["Crate Co"]);

  // 6. Errors the SDK turns into its own exceptions.
  await throws("wrong user password",
    () => new OnlineClient(config({ password: "wrong" })).execute(new ApiSessionCreate()),
    ResponseException, "Response authentication status failure - XL03000006 Sign-in information is incorrect",
    ["XL03000006 Sign-in information is incorrect"]);
  await throws("wrong sender password",
    () => new OnlineClient(config({ sender: "wrong" })).execute(new ApiSessionCreate()),
    ResponseException, /^Response control status failure - XL03000006 Incorrect Intacct XML Partner ID or password\. \[Support ID: [^\]]+\]$/);
  await throws("sender not authorised by the company",
    () => new OnlineClient(config({ company: "globex", password: "globex-pass" })).execute(new ApiSessionCreate()),
    ResponseException,
    "Response authentication status failure - XL03000006 Invalid Web Services Authorization The sender ID 'acme-sender' is not authorized to make Web Services requests to company ID 'globex'. Contact the company administrator to grant Web Services authorization to this sender ID.");
  await throws("duplicate VENDORID (BL-series, with a Support ID)",
    () => client.execute(vendor("V-100", "Acme again", "x@acme.example")),
    ResultException,
    /^Result status: failure for Control ID: create-V-100 - BL34000061 Another Vendor with the given value\(s\) V-100 already exists \[Support ID: [A-Za-z0-9%~._-]+\] Use a unique value instead\. - BL01001973 Could not create vendor record!$/);

  // Over the gateway's limit: HTTP 429 with an XML body the SDK reads (RequestHandler returns an
  // XML 4xx body) and turns into a control-level ResponseException with GW-0010.
  const limitedConfig = Object.assign(config(), { endpointUrl: limitedGateway });
  const limited = new OnlineClient(limitedConfig);
  equal("rate limit: the first request a minute passes",
    (await limited.execute(new ApiSessionCreate())).getResult().status, "success");
  await throws("rate limit: the second is refused", () => limited.execute(new ApiSessionCreate()),
    ResponseException, /^Response control status failure - GW-0010 /, /^GW-0010 /);

  // transaction="true": the failing function says `failure` (its errors + XL03000009), the others
  // `aborted` (XL03000009); executeBatch throws only on `failure`, and nothing is saved.
  const rolledBack = "XL03000009 The entire transaction in this operation has been rolled back due to an error.";
  const transaction = [vendor("V-200", "Fresh Goods", "f@fresh.example"), vendor("V-101", "Bolt twice", "b2@bolt.example"),
    vendor("V-201", "Grain Co", "g@grain.example")];
  await throws("transaction: executeBatch throws for the failing function",
    () => client.executeBatch(transaction, request("tx-1", { transaction: true })),
    ResultException,
    new RegExp(`^Result status: failure for Control ID: create-V-101 - BL34000061 .* - BL01001973 .* - ${rolledBack.replace(/[.()]/g, "\\$&")}$`));
  const raw = await client.executeOnlineRequest(transaction, request("tx-2", { transaction: true }));
  equal("transaction: statuses aborted, failure, aborted", raw.results.map((r) => r.status),
    ["aborted", "failure", "aborted"]);
  equal("transaction: an aborted function carries XL03000009 only", raw.results[0].errors, [rolledBack]);
  let threw = null;
  try {
    raw.results[0].ensureStatusNotFailure();
  } catch (e) {
    threw = e;
  }
  equal("transaction: ensureStatusNotFailure accepts `aborted`", threw && threw.message, null);
  const saved = (await client.execute(query("VENDOR", "VENDORID = 'V-200'", 100))).getResult();
  equal("transaction: nothing of it was saved", saved.totalCount, 0);

  // 7. Entity-level sessions: records created in an entity are private to it; top-level ones
  // are shared.
  const east = await SessionProvider.factory(config({ entity: "US-EAST" }));
  equal("entity session: locationid", east.entityId, "US-EAST");
  // From an entity-level session, an empty location ID gives a top-level session.
  const backToTop = await SessionProvider.factory(Object.assign(new ClientConfig(), {
    senderId: "acme-sender", senderPassword: "sender-pass", endpointUrl: east.endpointUrl,
    sessionId: east.sessionId, entityId: "",
  }));
  equal("getAPISession with an empty locationid from an entity session: top level", backToTop.entityId, "");
  const fromEntity = await SessionProvider.factory(Object.assign(new ClientConfig(), {
    senderId: "acme-sender", senderPassword: "sender-pass", endpointUrl: east.endpointUrl,
    sessionId: east.sessionId, entityId: "US-WEST",
  }));
  equal("getAPISession with locationid US-WEST from an entity session", fromEntity.entityId, "US-WEST");
  const eastClient = new OnlineClient(east);
  equal("entity session: the authentication block's locationid",
    (await eastClient.execute(vendor("V-300", "East Only", "e@east.example"))).authentication.entityId, "US-EAST");
  const west = new OnlineClient(await SessionProvider.factory(config({ entity: "US-WEST" })));
  const ids = async (c) => (await c.execute(query("VENDOR", "", 100))).getResult().data.map((v) => v.VENDORID);
  equal("entity session US-EAST sees shared and its own", await ids(eastClient),
    ["V-100", "V-101", "V-102", "V-103", "V-104", "V-300"]);
  equal("entity session US-WEST does not see US-EAST's", await ids(west),
    ["V-100", "V-101", "V-102", "V-103", "V-104"]);
  equal("top-level session sees every entity's", await ids(client),
    ["V-100", "V-101", "V-102", "V-103", "V-104", "V-300"]);
}

try {
  await main();
} catch (e) {
  check(`unexpected ${e.constructor.name}`, false, e.message);
}
finish();
