"""xero-python (Xero's official SDK) judges reenact's fake of Xero.

Run by conformance/xero/run.sh with the URLs of the fakes of scenario.yaml. Prints one line per
check (`ok  ...` / `FAIL ...`), then a count, and exits 1 when a check failed.

Pointing the SDK at the fake: `AccountingApi(base_url=...)` and `IdentityApi(base_url=...)`
(constructor arguments) and the `TokenApi` URL class attributes. xero-python has no
authorization-code exchange (its README uses flask-oauthlib), so this judge POSTs the code to
`/connect/token` itself, as a web app would, and hands the answer to `set_oauth2_token` unchanged.
"""

import argparse
import base64
import datetime as dt
import json
import sys
import traceback
import urllib.parse
import urllib.request
import uuid

import urllib3

from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    CurrencyCode,
    Invoice,
    Invoices,
    LineItem,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import (
    AccountingBadRequestException,
    HTTPStatusException,
    NotFoundException,
    RateLimitException,
)
from xero_python.identity import IdentityApi

CLIENT_ID = "conformance-client"
CLIENT_SECRET = "conformance-secret"
SCOPE = "offline_access accounting.transactions accounting.contacts accounting.settings"
UTC = dt.timezone.utc

results = []


def check(name, condition, detail=""):
    """Record one check: `condition` must be true."""
    results.append(bool(condition))
    if condition:
        print(f"ok   {name}")
    else:
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def equal(name, actual, expected):
    check(name, actual == expected, f"got {actual!r}, expected {expected!r}")


def step(name, action):
    """Run `action()`; a raised exception is a failed check named `name`."""
    try:
        return action()
    except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
        traceback.print_exc(file=sys.stdout)
        check(name, False, f"{type(error).__name__}: {error}")
        return None


def raises(name, expected_class, action):
    """Run `action()`, which must raise `expected_class` (exactly); return the exception."""
    try:
        action()
    except Exception as error:  # noqa: BLE001
        check(
            f"{name}: raises {expected_class.__name__}",
            type(error) is expected_class,
            f"raised {type(error).__name__}: {error}",
        )
        return error if type(error) is expected_class else None
    check(f"{name}: raises {expected_class.__name__}", False, "nothing was raised")
    return None


def exchange_code(url, code):
    """The authorization-code exchange a web app makes (xero-python has none)."""
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/callback",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/connect/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def client_for(url):
    """An ApiClient whose token lives in a dict, and the two APIs pointed at the fake `url`."""
    store = {}
    api_client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)),
        oauth2_token_getter=lambda: store.get("token"),
        oauth2_token_saver=lambda token: store.__setitem__("token", token),
    )
    accounting = AccountingApi(api_client, base_url=f"{url}/api.xro/2.0")
    identity = IdentityApi(api_client, base_url=url)
    return api_client, accounting, identity, store


def admin_advance(admin, millis):
    request = urllib.request.Request(
        f"{admin}/__reenact/clock/advance",
        data=json.dumps({"millis": millis}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def raw(call):
    """The raw JSON answer of an SDK call made with `_preload_content=False`."""
    return json.loads(call(_preload_content=False).data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--admin", required=True)
    parser.add_argument("--limited-url", required=True)
    args = parser.parse_args()
    TokenApi.refresh_token_url = f"{args.url}/connect/token"
    TokenApi.revoke_token_url = f"{args.url}/connect/revocation"

    api_client, accounting, identity, store = client_for(args.url)

    # --- authorize: the code exchange, then the SDK reads the token answer as it is ---------
    token = step("authorization-code exchange", lambda: exchange_code(args.url, "judge-consent"))
    if token is None:
        return
    equal(
        "token answer has exactly Xero's fields",
        sorted(token),
        sorted(["access_token", "expires_in", "token_type", "refresh_token", "scope"]),
    )
    equal("token answer: scope", token.get("scope"), SCOPE)
    # What a web app stores (as xero-python's own refresh does): scope as a list, expires_at.
    token["scope"] = str(token.get("scope", "")).split()
    token["expires_at"] = dt.datetime.now(UTC).timestamp() + token.get("expires_in", 0)
    equal("token answer: expires_in is 1800", token.get("expires_in"), 1800)
    equal("token answer: token_type is Bearer", token.get("token_type"), "Bearer")
    step("SDK accepts the token answer (set_oauth2_token)", lambda: api_client.set_oauth2_token(token))

    connections = step("IdentityApi.get_connections", lambda: identity.get_connections())
    tenant = None
    if connections is not None:
        equal("one connection", len(connections), 1)
        connection = connections[0]
        tenant = str(connection.tenant_id)
        equal("connection tenant id", tenant, "0b9c6a52-6f0e-4c2e-9a51-3f2f1d7e8a10")
        equal("connection tenant name", connection.tenant_name, "Acme Corp")
        equal("connection tenant type", connection.tenant_type, "ORGANISATION")
        check(
            "connection createdDateUtc is a datetime on the virtual clock's day",
            isinstance(connection.created_date_utc, dt.datetime)
            and connection.created_date_utc.date() == dt.date(2026, 10, 31),
            repr(connection.created_date_utc),
        )
    if tenant is None:
        return

    # --- refresh: the SDK's own refresh (form body, scope echoed) ----------------------------
    before = store["token"]["access_token"]
    refreshed = step("ApiClient.refresh_oauth2_token", lambda: api_client.refresh_oauth2_token())
    if refreshed is not None:
        check("refresh gives a new access token", refreshed["access_token"] != before)
        equal("refresh keeps the scope", refreshed.get("scope"), SCOPE.split())

    # --- Organisation -------------------------------------------------------------------------
    orgs = step("AccountingApi.get_organisations", lambda: accounting.get_organisations(tenant))
    if orgs is not None:
        org = orgs.organisations[0]
        equal("organisation name", org.name, "Acme Corp")
        equal("organisation PeriodLockDate", org.period_lock_date, dt.date(2026, 9, 30))
        check("organisation has a BaseCurrency", org.base_currency is not None)
        check("organisation has a Timezone", org.timezone is not None)

    # --- create and read back a contact -------------------------------------------------------
    created = step(
        "create a contact",
        lambda: accounting.create_contacts(
            tenant, Contacts(contacts=[Contact(name="Judge Supplies", email_address="ap@judge.example")])
        ),
    )
    contact_id = None
    if created is not None:
        contact = created.contacts[0]
        contact_id = contact.contact_id
        check("created contact has a UUID ContactID", _is_uuid(contact_id), repr(contact_id))
        equal("created contact is ACTIVE", contact.contact_status, "ACTIVE")
        back = step("read the contact back", lambda: accounting.get_contact(tenant, contact_id))
        if back is not None:
            equal("read-back contact name", back.contacts[0].name, "Judge Supplies")
            equal("read-back contact email", back.contacts[0].email_address, "ap@judge.example")

    # --- create and read back an invoice (MS-JSON dates both ways) ----------------------------
    def new_invoice(number, currency=None):
        return Invoice(
            type="ACCREC",
            contact=Contact(contact_id=contact_id),
            invoice_number=number,
            date=dt.date(2026, 11, 2),
            due_date=dt.date(2026, 11, 30),
            currency_code=currency,
            line_items=[
                LineItem(description="Consulting", quantity=2.0, unit_amount=50.0, account_code="200")
            ],
        )

    invoice_id = None
    made = step(
        "create an ACCREC invoice",
        lambda: accounting.create_invoices(tenant, Invoices(invoices=[new_invoice("INV-J-001")])),
    )
    if made is not None:
        invoice_id = made.invoices[0].invoice_id
        back = step("read the invoice back", lambda: accounting.get_invoice(tenant, invoice_id))
        if back is not None:
            invoice = back.invoices[0]
            equal("invoice Date deserialised", invoice.date, dt.date(2026, 11, 2))
            equal("invoice DueDate deserialised", invoice.due_date, dt.date(2026, 11, 30))
            equal("invoice number", invoice.invoice_number, "INV-J-001")
            equal("invoice type", str(invoice.type), "ACCREC")
            equal("invoice contact", invoice.contact.contact_id, contact_id)
            equal("invoice SubTotal", invoice.sub_total, 100.0)
            equal("invoice TotalTax (account 200 at 20%)", invoice.total_tax, 20.0)
            equal("invoice Total", invoice.total, 120.0)
            equal("line amount", invoice.line_items[0].line_amount, 100.0)
            equal("invoice status", str(invoice.status), "DRAFT")
            check(
                "UpdatedDateUTC is a UTC datetime",
                isinstance(invoice.updated_date_utc, dt.datetime)
                and invoice.updated_date_utc.utcoffset() == dt.timedelta(0),
                repr(invoice.updated_date_utc),
            )
        envelope = step(
            "raw invoice answer", lambda: raw(lambda **kw: accounting.get_invoice(tenant, invoice_id, **kw))
        )
        if envelope is not None:
            equal("envelope Status", envelope.get("Status"), "OK")
            check("envelope Id is a UUID", _is_uuid(envelope.get("Id")), repr(envelope.get("Id")))
            check("envelope ProviderName", isinstance(envelope.get("ProviderName"), str))
            check(
                "envelope DateTimeUTC is /Date(ms)/ without offset",
                str(envelope.get("DateTimeUTC", "")).startswith("/Date(")
                and "+" not in str(envelope.get("DateTimeUTC")),
                repr(envelope.get("DateTimeUTC")),
            )
            record = envelope.get("Invoices", [{}])[0]
            equal("raw Date is /Date(ms+0000)/", record.get("Date"), "/Date(1793577600000+0000)/")
            equal("raw DateString", record.get("DateString"), "2026-11-02T00:00:00")
            equal("raw DueDateString", record.get("DueDateString"), "2026-11-30T00:00:00")

    # --- If-Modified-Since with an offset (the SDK sends isoformat()) -------------------------
    plus_two = dt.timezone(dt.timedelta(hours=2))
    # 00:30 at +02:00 is 22:30 UTC, before the invoice was made (23:00 UTC on the virtual clock).
    earlier = step(
        "If-Modified-Since 2026-11-01T00:30:00+02:00",
        lambda: accounting.get_invoices(tenant, if_modified_since=dt.datetime(2026, 11, 1, 0, 30, tzinfo=plus_two)),
    )
    if earlier is not None:
        equal("If-Modified-Since read with its offset lists the invoice", len(earlier.invoices), 1)
    later = step(
        "If-Modified-Since 2026-11-01T10:00:00+00:00",
        lambda: accounting.get_invoices(tenant, if_modified_since=dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC)),
    )
    if later is not None:
        equal("If-Modified-Since after the invoice lists nothing", len(later.invoices), 0)

    # --- page through a list ------------------------------------------------------------------
    batch = [Contact(name=f"Page Contact {n}") for n in range(1, 6)]
    step("create five contacts in one call", lambda: accounting.create_contacts(tenant, Contacts(contacts=batch)))
    names, pages, page = [], [], 1
    while page <= 10:
        answer = step(f"get_contacts page {page}", lambda: accounting.get_contacts(tenant, page=page, page_size=3))
        if answer is None:
            break
        pages.append(len(answer.contacts))
        names.extend(c.name for c in answer.contacts)
        if answer.pagination is not None and page == 1:
            equal("pagination itemCount", answer.pagination.item_count, 8)
            equal("pagination pageCount", answer.pagination.page_count, 3)
        if len(answer.contacts) < 3:
            break
        page += 1
    equal("pages of 3", pages, [3, 3, 2])
    equal(
        "every contact listed once, in creation order",
        names,
        ["Office Supplies Ltd", "Defunct Traders", "Judge Supplies"] + [f"Page Contact {n}" for n in range(1, 6)],
    )

    # --- typed errors -------------------------------------------------------------------------
    error = raises(
        "duplicate contact name",
        AccountingBadRequestException,
        lambda: accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Office Supplies Ltd")])),
    )
    if error is not None:
        equal("duplicate contact name: status", error.status, 400)
        equal(
            "duplicate contact name: message",
            error.reason,
            "The contact name Office Supplies Ltd is already assigned to another contact. "
            "The contact name must be unique across all active contacts.",
        )
        equal("duplicate contact name: Type", error.error_data.get("Type"), "ValidationException")
        equal("duplicate contact name: ErrorNumber", error.error_data.get("ErrorNumber"), 10)
    archived_name = step(
        "an archived contact's name may be reused",
        lambda: accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Defunct Traders")])),
    )
    if archived_name is not None:
        equal("reused archived name is created", archived_name.contacts[0].name, "Defunct Traders")

    error = raises(
        "duplicate sales invoice number",
        AccountingBadRequestException,
        lambda: accounting.create_invoices(tenant, Invoices(invoices=[new_invoice("INV-J-001")])),
    )
    if error is not None:
        equal("duplicate invoice number: status", error.status, 400)
        equal("duplicate invoice number: message", error.reason, "Invoice # must be unique.")

    error = raises(
        "currency not subscribed",
        AccountingBadRequestException,
        lambda: accounting.create_invoices(
            tenant, Invoices(invoices=[new_invoice("INV-J-002", CurrencyCode.EUR)])
        ),
    )
    if error is not None:
        equal("currency not subscribed: status", error.status, 400)
        equal("currency not subscribed: message", error.reason, "Organisation is not subscribed to currency EUR")

    missing = "00000000-0000-0000-0000-000000000000"
    error = raises("unknown invoice", NotFoundException, lambda: accounting.get_invoice(tenant, missing))
    if error is not None:
        equal("unknown invoice: status", error.status, 404)
        equal("unknown invoice: message", error.error_message, "The resource you're looking for cannot be found")

    # 401: the access token expires on the fake's clock (the SDK still believes it valid).
    step("advance the fake's clock 31 minutes", lambda: admin_advance(args.admin, 31 * 60 * 1000))
    expiry = dt.datetime.fromtimestamp(
        _jwt_claims(store["token"]["access_token"]).get("exp", 0), UTC
    ).strftime("%m/%d/%Y %H:%M:%S")
    error = raises("expired access token", HTTPStatusException, lambda: accounting.get_contacts(tenant))
    if error is not None:
        body = json.loads(error.body)
        equal("expired access token: status", error.status, 401)
        equal("expired access token: Title", body.get("Title"), "Unauthorized")
        equal("expired access token: Detail", body.get("Detail"), f"TokenExpired: token expired at {expiry}")
    step("refresh after expiry", lambda: api_client.refresh_oauth2_token())
    again = step("call again with the refreshed token", lambda: accounting.get_contacts(tenant))
    if again is not None:
        equal("contacts after refresh", len(again.contacts), 9)

    # 429: a tenant with a minute limit of 2.
    limited_client, limited, limited_identity, limited_store = client_for(args.limited_url)
    # xero-python configures no retries, so urllib3's default `Retry` applies, which honours
    # `Retry-After` on a 429 and retries 3 times: against the fake's virtual clock (it does not
    # move unless advanced) that is 3 sleeps of about 60 s before the same 429 is raised. Only for
    # this client, urllib3 is told not to honour `Retry-After`, so the first 429 reaches the SDK.
    limited_client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.util.Retry(
        total=3, respect_retry_after_header=False
    )
    limited_token = step("limited: code exchange", lambda: exchange_code(args.limited_url, "judge-limited"))
    if limited_token is not None:
        limited_token["scope"] = limited_token["scope"].split()
        limited_client.set_oauth2_token(limited_token)
        globex = "7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
        first = step("limited: call 1", lambda: limited.get_contacts(globex, _preload_content=False))
        if first is not None:
            equal("X-MinLimit-Remaining after call 1", first.getheader("X-MinLimit-Remaining"), "1")
            equal("X-DayLimit-Remaining after call 1", first.getheader("X-DayLimit-Remaining"), "4999")
            equal("X-AppMinLimit-Remaining after call 1", first.getheader("X-AppMinLimit-Remaining"), "9999")
        step("limited: call 2", lambda: limited.get_contacts(globex))
        error = raises("minute limit", RateLimitException, lambda: limited.get_contacts(globex))
        if error is not None:
            equal("minute limit: status", error.status, 429)
            equal("minute limit: rate_limit", error.rate_limit, "minute")
            equal("minute limit: message", error.error_message, "You've exceeded the per minute rate limit")
            equal("minute limit: X-MinLimit-Remaining", error.headers.get("X-MinLimit-Remaining"), "0")
            # "Each API response you receive will include the X-DayLimit-Remaining, X-MinLimit-Remaining
            # and X-AppMinLimit-Remaining headers" (developer.xero.com/faq/limits): the 429 too.
            equal("minute limit: X-DayLimit-Remaining", error.headers.get("X-DayLimit-Remaining"), "4998")
            equal("minute limit: X-AppMinLimit-Remaining", error.headers.get("X-AppMinLimit-Remaining"), "9998")
            check("minute limit: Retry-After", (error.headers.get("Retry-After") or "").isdigit())


def _is_uuid(text):
    try:
        uuid.UUID(str(text))
        return True
    except ValueError:
        return False


def _jwt_claims(token):
    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - an unexpected crash is a failure, reported as one
        traceback.print_exc(file=sys.stdout)
        results.append(False)
        print("FAIL the judge crashed")
    passed = sum(results)
    print(f"\n{passed}/{len(results)} checks passed")
    sys.exit(0 if results and all(results) else 1)
