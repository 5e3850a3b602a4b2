#!/usr/bin/env python3
"""Sage Business Cloud Accounting's documentation judges reenact's `provider: sage` fake.

Sage publishes no official SDK for Business Cloud Accounting, so this judge drives the fake as
Sage's guides describe the API and compares each answer with the documented example: every
expected value below is quoted from its source, whose URL stands next to it. Standard library
only (urllib.request, json): nothing to install.

The fake's one URL stands in for both Sage hosts: the token endpoint
(https://oauth.accounting.sage.com/token) and the API base
(https://api.accounting.sage.com/v3.1).

Usage: judge.py --sage URL --lapsed URL --busy URL
Prints one line per check (`ok  ...` / `FAIL ...`) and a count; exits 1 on any failure.
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# --------------------------------------------------------------------------------------------
# The documented examples (expected values), each with its source.
# --------------------------------------------------------------------------------------------

# Token answer. Sage staff (cpetschnig, 2019-01-28) in
# https://github.com/Sage/sageone_api_php_sample/issues/39 :
#   "in API versions v1, v2 and v3, refresh tokens never time out. If you use the new version
#    3.1 ... then refresh tokens expire after 31 days."  Reporter: "there is now a
#   `refresh_token_expires_in` field."
# Sage's own sample reads it: https://github.com/Sage/sageone_api_php_sample/blob/
#   a5751bed7021b4ced86a2e2646cf0052f0592a68/lib/api_client.php
#   `$response->getValues()["refresh_token_expires_in"]`
# The full answer as public sample code quotes it ("Sample access token response", a public
# Node sample in the GitHub code index, id 37914414323; the same fields and values in ids
# 12251550680 and 21834868540):
TOKEN_ANSWER_EXAMPLE = {
    "access_token": "eyJhbGciUxxxxxx",
    "scope": "full_access",
    "token_type": "bearer",
    "expires_in": 300,
    "refresh_token": "eyJhbGcixxxxxx",
    "refresh_token_expires_in": 2678400,
    "requested_by_id": "xxxx-xxxx-xxxx-xxxx-xxxxxxx",
}
# Fields whose value is fixed (the others are per token / per user).
TOKEN_FIXED = ("scope", "token_type", "expires_in", "refresh_token_expires_in")

# Token errors. https://developer.sage.com/accounting/guides/concepts/frequently_raised_errors/
#   token errors answer `{"error": "invalid_grant"}`
INVALID_GRANT_EXAMPLE = {"error": "invalid_grant"}

# GET /businesses. https://developer.sage.com/accounting/guides/concepts/best_practices/
#   "Below is a businesses endpoint response for a user with access to multiple businesses:"
#   (conformance/sage/scenario.yaml gives the mock these three businesses)
BUSINESSES_EXAMPLE = {
    "$total": 3,
    "$page": 1,
    "$next": None,
    "$back": None,
    "$items_per_page": 2147483647,
    "$items": [
        {
            "displayed_as": "Business One",
            "id": "0d40342d0287cd6b13555c54afca6c90",
            "$path": "/businesses/0d40342d0287cd6b13555c54afca6c90",
        },
        {
            "displayed_as": "Business Two",
            "id": "49c196153fb1524b7d888cece84e8b12",
            "$path": "/businesses/49c196153fb1524b7d888cece84e8b12",
        },
        {
            "displayed_as": "Business Three",
            "id": "b88ee3a4ebb47c0c515d7ae56dc0bccf",
            "$path": "/businesses/b88ee3a4ebb47c0c515d7ae56dc0bccf",
        },
    ],
}

# Lists. https://developer.sage.com/accounting/guides/efficiencies/pagination/
#   {"$total": 97, "$page": 2, "$next": "/sales_quotes?page=3&items_per_page=25",
#    "$back": "/sales_quotes?page=1&items_per_page=25", "$itemsPerPage": 25,
#    "$items": [{"id": "401aa0e1...", "displayed_as": "SQ-2", "$path": "/sales_quotes/401aa0e1..."}, ...]}
#   "$next ... If the value of this is null, there are no more pages available."
#   "The maximum value for items_per_page is 200. If the value for page is greater than the
#    actual number of pages, the last page will be returned automatically."
LIST_ENVELOPE_KEYS = {"$total", "$page", "$next", "$back", "$itemsPerPage", "$items"}
LIST_ITEM_KEYS = {"id", "displayed_as", "$path"}
NEXT_LINK_FORM = re.compile(r"^/contacts\?page=(\d+)&items_per_page=(\d+)$")

# Attributes. https://developer.sage.com/accounting/guides/efficiencies/attributes
#   GET /sales_invoices?attributes=date,due_date -> "$itemsPerPage": 20, "$items": [{"id": ...,
#   "displayed_as": "SI-1", "$path": "/sales_invoices/44a60404...", "date": "2019-03-18",
#   "due_date": "2019-04-01"}, ...]
#   "To get the full set of attributes, specify attributes=all."
#   "attributes=all is the default when requesting singular resources."
#   "Note: id, displayed_as and $path are always returned and cannot be controlled by the client."
DEFAULT_ITEMS_PER_PAGE = 20

# Errors. https://developer.sage.com/accounting/guides/concepts/frequently_raised_errors/
#   "Status Code 401 - Authorization Failure: No active subscription. (MSE)" -- "the trial period
#   of the business has expired or the business has canceled their subscription"
NO_SUBSCRIPTION_EXAMPLE = [
    {
        "$severity": "error",
        "$dataCode": "AuthorizationFailure",
        "$message": "No active subscription. (MSE)",
        "$source": "",
    }
]
#   "Status Code 403 - Forbidden" -- "A 403 message can be thrown if the user does not have the
#   required permission to make a request (e.g. Read only access to contacts would result in an
#   error if a POST request was sent)."
ACCESS_DENIED_EXAMPLE = [
    {
        "$severity": "error",
        "$dataCode": "MultiUserAccessDenied",
        "$message": "The current user is not allowed to access that resource with that method.",
        "$source": "",
    }
]
# Throttling. https://developer.sage.com/accounting/guides/concepts/response_codes/
#   "429 Too Many Requests Too many requests have been made against the API. This prompts a
#    throttling error."
# Only the status is documented. The body below is NOT a documented example: it is reenact's
# choice (Sage's error list shape of the examples above, `$dataCode` reenact's, `$message` the
# page's text), checked so that a change to it is seen, and labelled as a choice in the output.
THROTTLED_STATUS = 429
THROTTLED_CHOICE = [
    {
        "$severity": "error",
        "$dataCode": "TooManyRequests",
        "$message": "Too many requests have been made against the API. This prompts a throttling error.",
        "$source": "",
    }
]

# The businesses of conformance/sage/scenario.yaml (the judge's own setup, not Sage's).
LEAD = "0d40342d0287cd6b13555c54afca6c90"
SECOND = "49c196153fb1524b7d888cece84e8b12"
BUSY = "9e4c2a7b1d3f4a5c8e6b0d2f4a6c8e1b"

# --------------------------------------------------------------------------------------------

results = []


def check(name, passed, detail=""):
    results.append(bool(passed))
    if passed:
        print(f"ok    {name}")
    else:
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))
    return bool(passed)


def equal(name, got, expected):
    return check(name, got == expected, f"got {json.dumps(got)}, expected {json.dumps(expected)}")


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


def send(method, url, token=None, business=None, form=None, body=None):
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if business is not None:
        headers["X-Business"] = business
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def is_json(answer):
    return (answer.headers.get("Content-Type") or "").split(";")[0].strip() == "application/json"


def tokens(base, name, first=None):
    """The authorization-code exchange (or a refresh, with `first`) checked against the example."""
    if first is None:
        form = {
            "client_id": "conformance",
            "client_secret": "conformance-secret",
            "code": "conformance-code",
            "grant_type": "authorization_code",
            "redirect_uri": "https://app.example.com/callback",
        }
    else:
        form = {
            "client_id": "conformance",
            "client_secret": "conformance-secret",
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        }
    answer = send("POST", f"{base}/token", form=form)
    if not check(f"{name}: 200 JSON", answer.status == 200 and is_json(answer) and isinstance(answer.json, dict),
                 f"{answer.status} {answer.raw[:200]!r}"):
        return None
    got = answer.json
    equal(f"{name}: the fields of Sage's token answer", sorted(got), sorted(TOKEN_ANSWER_EXAMPLE))
    equal(f"{name}: scope, token_type, expires_in, refresh_token_expires_in as documented",
          {k: got.get(k) for k in TOKEN_FIXED}, {k: TOKEN_ANSWER_EXAMPLE[k] for k in TOKEN_FIXED})
    check(f"{name}: access_token, refresh_token, requested_by_id are non-empty strings",
          all(isinstance(got.get(k), str) and got.get(k) for k in ("access_token", "refresh_token", "requested_by_id")),
          json.dumps(got))
    return got


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sage", required=True)
    parser.add_argument("--lapsed", required=True)
    parser.add_argument("--busy", required=True)
    args = parser.parse_args()
    base = args.sage.rstrip("/")

    # Authorize and refresh.
    first = tokens(base, "token exchange")
    if first is None:
        return finish()
    renewed = tokens(base, "refresh", first)
    if renewed is None:
        return finish()
    check("refresh: both tokens rotate",
          renewed["access_token"] != first["access_token"] and renewed["refresh_token"] != first["refresh_token"])
    equal("refresh: requested_by_id is the same user", renewed["requested_by_id"], first["requested_by_id"])
    reused = send("POST", f"{base}/token",
                  form={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    equal("error: a used refresh token gets 400 invalid_grant", (reused.status, reused.json),
          (400, INVALID_GRANT_EXAMPLE))
    token = renewed["access_token"]

    # GET /businesses (Best Practices example).
    listed = send("GET", f"{base}/businesses", token=token)
    check("businesses: 200 JSON", listed.status == 200 and is_json(listed), f"{listed.status}")
    equal("businesses: the Best Practices example, field by field ($items_per_page, summaries)",
          listed.json, BUSINESSES_EXAMPLE)

    # Create and read back (a contact in the second business).
    created = []
    for n in range(1, 6):
        name = f"Conformance Vendor {n}"
        answer = send("POST", f"{base}/contacts", token=token, business=SECOND,
                      body={"contact": {"name": name, "contact_type_ids": ["VENDOR"]}})
        if n == 1:
            check("create: POST /contacts answers 201 JSON", answer.status == 201 and is_json(answer),
                  f"{answer.status} {answer.raw[:200]!r}")
            record = answer.json or {}
            check("create: id is 32 hex digits like the examples' ids",
                  re.fullmatch(r"[0-9a-f]{32}", str(record.get("id"))), json.dumps(record))
            equal("create: displayed_as and $path",
                  (record.get("displayed_as"), record.get("$path")), (name, f"/contacts/{record.get('id')}"))
            first_record = record
        created.append((answer.json or {}).get("id"))
    one = send("GET", f"{base}/contacts/{first_record.get('id')}", token=token, business=SECOND)
    equal("read back: GET /contacts/{id} is the created record (singular = attributes=all)",
          (one.status, one.json), (200, first_record))
    equal("read back: the client's fields", ((one.json or {}).get("name"), (one.json or {}).get("contact_type_ids")),
          ("Conformance Vendor 1", ["VENDOR"]))
    other = send("GET", f"{base}/contacts/{first_record.get('id')}", token=token, business=LEAD)
    equal("read back: not found from the other business", other.status, 404)

    # Page through the list following $next until null (Pagination example).
    path = "/contacts?items_per_page=2"
    seen, pages, last_page = [], 0, None
    while path is not None and pages < 10:
        pages += 1
        page = send("GET", f"{base}{path}", token=token, business=SECOND)
        body = page.json or {}
        if pages == 1:
            equal("list: the envelope keys of the example", sorted(body), sorted(LIST_ENVELOPE_KEYS))
            equal("list: $next is the example's link form", body.get("$next"), "/contacts?page=2&items_per_page=2")
        ok = (page.status == 200 and body.get("$total") == 5 and body.get("$page") == pages
              and body.get("$itemsPerPage") == 2
              and all(set(item) == LIST_ITEM_KEYS for item in body.get("$items", [])))
        check(f"list: page {pages} has $total 5, $page {pages}, $itemsPerPage 2 and summary items", ok,
              json.dumps(body)[:300])
        nxt = body.get("$next")
        if nxt is not None and not NEXT_LINK_FORM.match(nxt):
            check(f"list: $next of page {pages} in the example's form", False, nxt)
        seen += [item.get("id") for item in body.get("$items", [])]
        last_page = body
        path = nxt
    equal("list: following $next until null gives every record once, in order, in 3 pages",
          (seen, pages), (created, 3))
    past = send("GET", f"{base}/contacts?page=9&items_per_page=2", token=token, business=SECOND)
    pbody = past.json or {}
    equal("list: a page past the end is the last page (page=9 -> $page 3, same items, $next null)",
          (past.status, pbody.get("$page"), pbody.get("$items"), pbody.get("$next")),
          (200, 3, last_page.get("$items"), None))

    # Attributes (Attributes guide).
    default = send("GET", f"{base}/contacts", token=token, business=SECOND).json or {}
    equal("attributes: a default list has $itemsPerPage 20", default.get("$itemsPerPage"), DEFAULT_ITEMS_PER_PAGE)
    some = send("GET", f"{base}/contacts?attributes=name,contact_type_ids", token=token, business=SECOND).json or {}
    equal("attributes: attributes=name,contact_type_ids adds just those to the summary",
          sorted((some.get("$items") or [{}])[0]), sorted(LIST_ITEM_KEYS | {"name", "contact_type_ids"}))
    full = send("GET", f"{base}/contacts?attributes=all", token=token, business=SECOND).json or {}
    equal("attributes: attributes=all gives the full record", (full.get("$items") or [None])[0], first_record)

    # Documented error answers.
    denied = send("POST", f"{base}/ledger_accounts", token=token,
                  body={"ledger_account": {"name": "Tools", "nominal_code": 5000}})
    equal("error: a POST by a user with read-only access gets 403 MultiUserAccessDenied",
          (denied.status, denied.json), (403, ACCESS_DENIED_EXAMPLE))
    check("error: 403 is JSON", is_json(denied))

    lapsed = args.lapsed.rstrip("/")
    lapsed_token = tokens(lapsed, "lapsed business: token exchange")
    if lapsed_token is not None:
        answer = send("GET", f"{lapsed}/contacts", token=lapsed_token["access_token"])
        equal("error: no active subscription gets 401 AuthorizationFailure",
              (answer.status, answer.json), (401, NO_SUBSCRIPTION_EXAMPLE))

    busy = args.busy.rstrip("/")
    busy_token = tokens(busy, "throttled business: token exchange")
    if busy_token is not None:
        statuses = [send("GET", f"{busy}/contacts", token=busy_token["access_token"],
                         business=BUSY).status for _ in range(3)]
        equal("throttle: 3 requests a minute pass", statuses, [200, 200, 200])
        answer = send("GET", f"{busy}/contacts", token=busy_token["access_token"],
                      business=BUSY)
        equal("error: the 4th request gets 429 (documented status)", answer.status, THROTTLED_STATUS)
        equal("error: 429 body (reenact's choice in Sage's error shape, not a documented body)",
              answer.json, THROTTLED_CHOICE)
    return finish()


def finish():
    failed = results.count(False)
    print(f"\nsage: {len(results) - failed} of {len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
