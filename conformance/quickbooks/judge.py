"""python-quickbooks 0.9.12 and intuit-oauth 1.2.6 judge reenact's QuickBooks Online fake.

Usage: judge.py FAKE_URL ADMIN_URL (conformance/quickbooks/run.sh starts the fake and passes both).
Prints one line per check, `ok  ...` or `FAIL ...`, then a count; exits 1 when any check fails.
Every value asserted is what Intuit's public sources say the API answers (see
docs/providers/quickbooks.md, "Fidelity"); the SDK does the parsing, the judge only compares.
"""

import json
import sys
import traceback
import urllib.request
import warnings

from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.exceptions import (
    AuthorizationException,
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects.base import Ref
from quickbooks.objects.base import LinkedTxn
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
)
from quickbooks.objects.vendor import Vendor

warnings.simplefilter("ignore", DeprecationWarning)

URL, ADMIN = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
REALM = "9130347596783456"  # scenario.yaml's only realm
OTHER_REALM = "1234567890"  # a company the app is not authorised for

results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))


def raises(name, call, cls, code, message):
    """`call` must raise exactly `cls` with `error_code` `code` and a message that is or
    contains `message` (python-quickbooks keeps `Fault.Error[].Message` as `message`)."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 (the class is the check)
        got = (type(error).__name__, getattr(error, "error_code", None), getattr(error, "message", str(error)))
        ok = type(error) is cls and got[1] == code and message in str(got[2])
        check(name, ok, f"expected {cls.__name__}({code}, {message!r}), got {got}")
        return error
    check(name, False, f"expected {cls.__name__}({code}), nothing raised")
    return None


def advance(seconds):
    request = urllib.request.Request(
        f"{ADMIN}/__reenact/clock/advance",
        data=json.dumps({"millis": seconds * 1000}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request).read()


def known_fields(model):
    """Every field name the SDK's model declares (its `__init__` attributes and nested types)."""
    fresh = model()
    return set(vars(fresh)) | set(model.class_dict) | set(model.list_dict) | {"MetaData", "domain", "sparse"}


def main():
    # --- intuit-oauth: discovery, code exchange, refresh --------------------------------------
    auth = AuthClient(
        "judge-client",
        "judge-secret",
        "http://localhost/callback",
        environment=f"{URL}/.well-known/openid_configuration/",
    )
    check("discovery document gives the token endpoint", auth.token_endpoint == f"{URL}/oauth2/v1/tokens/bearer", auth.token_endpoint)
    check("discovery document gives the revocation endpoint", auth.revoke_endpoint == f"{URL}/v2/oauth2/tokens/revoke", auth.revoke_endpoint)
    check("discovery document gives Intuit's issuer", auth.issuer_uri == "https://oauth.platform.intuit.com/op/v1", auth.issuer_uri)

    auth.get_bearer_token("judge-code-1", realm_id=REALM)
    first_access, first_refresh = auth.access_token, auth.refresh_token
    check("code exchange: access token", isinstance(first_access, str) and len(first_access) > 20, first_access)
    check("code exchange: expires_in 3600", auth.expires_in == 3600, auth.expires_in)
    # 100 days rolling (the fake's lifetime) = 8 640 000 s; Intuit's README example shows 8726400.
    check(
        "code exchange: x_refresh_token_expires_in is the refresh token's 100 days",
        getattr(auth, "x_refresh_token_expires_in", None) == 100 * 86400,
        getattr(auth, "x_refresh_token_expires_in", None),
    )
    check(
        "no x_refresh_token_hard_expires_in unless asked (opt-in header)",
        not hasattr(auth, "x_refresh_token_hard_expires_in"),
        getattr(auth, "x_refresh_token_hard_expires_in", None),
    )

    try:
        AuthClient("judge-client", "judge-secret", "http://localhost/callback",
                   environment=f"{URL}/.well-known/openid_configuration/").get_bearer_token("judge-code-1")
        check("a reused code is refused with AuthClientError 400 invalid_grant", False, "no error")
    except AuthClientError as error:
        check(
            "a reused code is refused with AuthClientError 400 invalid_grant",
            error.status_code == 400 and json.loads(error.content)["error"] == "invalid_grant" and error.intuit_tid,
            (error.status_code, error.content, error.intuit_tid),
        )

    auth.refresh()
    check("refresh: a new access token", auth.access_token != first_access, auth.access_token)
    check("refresh within 24 h: the same refresh token", auth.refresh_token == first_refresh, auth.refresh_token)
    advance(25 * 3600)
    auth.refresh()
    check("refresh after 24 h: a rotated refresh token", auth.refresh_token != first_refresh, auth.refresh_token)
    check("refresh after 24 h: x_refresh_token_expires_in 100 days again", auth.x_refresh_token_expires_in == 100 * 86400, auth.x_refresh_token_expires_in)

    # --- python-quickbooks against the fake ----------------------------------------------------
    qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=REALM, minorversion=75)
    qb.api_url_v3 = f"{URL}/v3"  # the one override: the API base URL, on the instance

    vendor = Vendor()
    vendor.DisplayName = "Office Supplies Ltd"
    vendor = vendor.save(qb=qb)
    check("create vendor: Id and SyncToken 0", vendor.Id == "1" and vendor.SyncToken == "0", (vendor.Id, vendor.SyncToken))

    bill = Bill()
    bill.VendorRef = vendor.to_ref()
    bill.DocNumber = "INV-1001"
    bill.TxnDate = "2026-11-02"
    bill.DueDate = "2026-12-02"
    line = AccountBasedExpenseLine()
    line.Amount = 125.5
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = Ref()
    line.AccountBasedExpenseLineDetail.AccountRef.value = "7"
    bill.Line.append(line)
    bill = bill.save(qb=qb)
    check("create bill: Id, SyncToken 0, MetaData", bill.Id == "1" and bill.SyncToken == "0" and "CreateTime" in bill.MetaData, vars(bill))

    raw = qb.get_single_object("Bill", bill.Id)["Bill"]
    unknown = set(raw) - known_fields(Bill)
    check("read bill: every field of the answer is one the SDK's Bill model knows", not unknown, unknown)
    check("read bill: no empty strings stored for fields the SDK sent empty", "" not in raw.values(), raw)
    again = Bill.get(bill.Id, qb=qb)
    check("read bill: VendorRef is the SDK's Ref", isinstance(again.VendorRef, Ref) and again.VendorRef.value == vendor.Id, again.VendorRef)
    check(
        "read bill: the line is the SDK's AccountBasedExpenseLine with its account",
        isinstance(again.Line[0], AccountBasedExpenseLine)
        and again.Line[0].Amount == 125.5
        and again.Line[0].AccountBasedExpenseLineDetail.AccountRef.value == "7",
        again.Line,
    )
    check("read bill: dates and number as sent", (again.TxnDate, again.DueDate, again.DocNumber) == ("2026-11-02", "2026-12-02", "INV-1001"), vars(again))

    again.DueDate = "2026-12-15"
    updated = again.save(qb=qb)
    check("update bill: SyncToken 1, due date moved", updated.SyncToken == "1" and updated.DueDate == "2026-12-15", vars(updated))

    payment = BillPayment()
    payment.VendorRef = vendor.to_ref()
    payment.PayType = "Check"
    payment.TotalAmt = 125.5
    payment.CheckPayment = CheckPayment()
    payment.CheckPayment.BankAccountRef = Ref()
    payment.CheckPayment.BankAccountRef.value = "35"
    paid_line = BillPaymentLine()
    paid_line.Amount = 125.5
    paid_line.LinkedTxn.append(bill.to_linked_txn())
    payment.Line.append(paid_line)
    payment = payment.save(qb=qb)
    check("create bill payment by check: Id 1, SyncToken 0", payment.Id == "1" and payment.SyncToken == "0", vars(payment))
    paid = BillPayment.get(payment.Id, qb=qb)
    check(
        "read bill payment: CheckPayment and the linked bill as the SDK's types",
        isinstance(paid.CheckPayment, CheckPayment)
        and paid.CheckPayment.BankAccountRef.value == "35"
        and isinstance(paid.Line[0], BillPaymentLine)
        and isinstance(paid.Line[0].LinkedTxn[0], LinkedTxn)
        and paid.Line[0].LinkedTxn[0].TxnId == bill.Id
        and paid.Line[0].LinkedTxn[0].TxnType == "Bill",
        vars(paid),
    )
    no_amount = BillPayment()
    no_amount.VendorRef = vendor.to_ref()
    no_amount.PayType = "Check"
    no_amount.TotalAmt = ""
    no_amount.CheckPayment = payment.CheckPayment
    error = raises("a bill payment without an amount: QuickbooksException 6000", lambda: no_amount.save(qb=qb), QuickbooksException, 6000, "business validation")
    if error is not None:
        check("6000 Detail: You must set a transaction amount.", error.detail == "Business Validation Error: You must set a transaction amount.", error.detail)

    undated = Bill()
    undated.VendorRef = vendor.to_ref()
    undated.Line.append(line)
    undated = undated.save(qb=qb)
    check("a bill sent with DocNumber \"\" and TxnDate \"\" is created, dated today", undated.Id == "2" and undated.TxnDate == "2026-11-03", vars(undated))

    # --- list and paging -----------------------------------------------------------------------
    for name in ["Vendor B", "Vendor C", "Vendor D", "Vendor E"]:
        created = Vendor()
        created.DisplayName = name
        created.save(qb=qb)
    pages, start = [], 1
    while True:
        page = Vendor.all(start_position=start, max_results=2, qb=qb)
        pages.append([v.DisplayName for v in page])
        if len(page) < 2:
            break
        start += 2
    check(
        "page through vendors (ORDER BY-less all(), STARTPOSITION/MAXRESULTS)",
        pages == [["Office Supplies Ltd", "Vendor B"], ["Vendor C", "Vendor D"], ["Vendor E"]],
        pages,
    )
    ordered = Vendor.all(order_by="DisplayName DESC", max_results=3, qb=qb)
    check("ORDER BY DisplayName DESC", [v.DisplayName for v in ordered] == ["Vendor E", "Vendor D", "Vendor C"], [v.DisplayName for v in ordered])
    where = Vendor.where("DisplayName >= 'Vendor C'", order_by="DisplayName", qb=qb)
    check("WHERE >= with ORDERBY (one word, double space)", [v.DisplayName for v in where] == ["Vendor C", "Vendor D", "Vendor E"], [v.DisplayName for v in where])
    chosen = Vendor.choose(["Vendor B", "Vendor D"], field="DisplayName", qb=qb)
    check("WHERE ... IN (...)", sorted(v.DisplayName for v in chosen) == ["Vendor B", "Vendor D"], [v.DisplayName for v in chosen])
    check("SELECT COUNT(*) reads totalCount", Vendor.count(qb=qb) == 5, Vendor.count(qb=qb))
    filtered = Bill.filter(DocNumber="INV-1001", qb=qb)
    check("filter(DocNumber=...) finds the bill", [b.Id for b in filtered] == [bill.Id], [b.Id for b in filtered])

    # --- batch ---------------------------------------------------------------------------------
    many = []
    for n in range(30):
        item = Vendor()
        item.DisplayName = f"Batch vendor {n:02}"
        many.append(item)
    batch = batch_create(many, qb=qb)
    check("a batch of 30 items is accepted, 30 successes", len(batch.successes) == 30 and not batch.faults, (len(batch.successes), len(batch.faults)))

    # --- typed errors ----------------------------------------------------------------------------
    raises("read of an unknown bill: ObjectNotFoundException 610", lambda: Bill.get("999", qb=qb), ObjectNotFoundException, 610, "Object Not Found")
    duplicate = Bill()
    duplicate.VendorRef = vendor.to_ref()
    duplicate.DocNumber = "INV-1001"
    duplicate.Line.append(line)
    error = raises(
        "a duplicate DocNumber: QuickbooksException 6140 Duplicate Document Number Error",
        lambda: duplicate.save(qb=qb),
        QuickbooksException,
        6140,
        "Duplicate Document Number Error",
    )
    if error is not None:
        check(
            "6140 Detail names the number and the bill that has it",
            error.detail == "Duplicate Document Number Error : You must specify a different number. This number has "
            f"already been used. DocNumber=INV-1001 is assigned to TxnType=Bill with TxnId={bill.Id}",
            error.detail,
        )
    allowed = duplicate.save(qb=qb, params={"include": "allowduplicatedocnum"})
    check("include=allowduplicatedocnum lets the same DocNumber through", allowed.DocNumber == "INV-1001" and allowed.Id != bill.Id, vars(allowed))
    Bill.get(allowed.Id, qb=qb).delete(qb=qb)
    same_name = Vendor()
    same_name.DisplayName = "Vendor B"
    error = raises(
        "a duplicate vendor name: QuickbooksException 6240 Duplicate Name Exists Error",
        lambda: same_name.save(qb=qb),
        QuickbooksException,
        6240,
        "Duplicate Name Exists Error",
    )
    if error is not None:
        check("6240 Detail names the vendor that has the name", error.detail == "The name supplied already exists. : Id=2", error.detail)
    stale = Bill.get(bill.Id, qb=qb)
    stale.SyncToken = "0"
    raises("an update with an old SyncToken: QuickbooksException 5010", lambda: stale.save(qb=qb), QuickbooksException, 5010, "Stale Object Error")
    orphan = Bill()
    orphan.VendorRef = Ref()
    orphan.VendorRef.value = "999"
    orphan.Line.append(line)
    raises("a bill for an unknown vendor: ValidationException 2500", lambda: orphan.save(qb=qb), ValidationException, 2500, "Invalid Reference Id")
    inactive = Vendor.get("5", qb=qb)
    inactive.Active = False
    inactive = inactive.save(qb=qb)
    check("a vendor made inactive reads back Active false", inactive.Active is False and inactive.SyncToken == "1", vars(inactive))
    to_inactive = Bill()
    to_inactive.VendorRef = inactive.to_ref()
    to_inactive.Line.append(line)
    error = raises("a bill for an inactive vendor: ValidationException 2500", lambda: to_inactive.save(qb=qb), ValidationException, 2500, "Invalid Reference Id")
    if error is not None:
        check("2500 Detail says the vendor was made inactive", "has been made inactive" in error.detail, error.detail)
    deleted = Bill.get(undated.Id, qb=qb).delete(qb=qb)
    check("delete a bill: status Deleted", deleted["Bill"] == {"status": "Deleted", "domain": "QBO", "Id": undated.Id}, deleted)
    error = raises("read of a deleted bill: ObjectNotFoundException 610", lambda: Bill.get(undated.Id, qb=qb), ObjectNotFoundException, 610, "Object Not Found")
    if error is not None:
        check("610 Detail says the transaction was deleted", error.detail == "Object Not Found : Another user has deleted this transaction.", error.detail)
    raises("MAXRESULTS 1001: ValidationException 4000", lambda: Vendor.all(max_results=1001, qb=qb), ValidationException, 4000, "Error parsing query")

    other = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=OTHER_REALM, minorversion=75)
    other.api_url_v3 = f"{URL}/v3"
    error = raises(
        "another company: 403 in the lowercase shape, QuickbooksException 10000",
        lambda: Vendor.all(qb=other),
        QuickbooksException,
        10000,
        "Error returned with status code '403'",
    )
    if error is not None:
        body = json.loads(error.message.split(": ", 1)[1])
        fault = body["fault"]
        check(
            "403 body: fault.error[0] code 3100 ApplicationAuthorizationFailed, type SERVICE, time in epoch ms",
            fault["type"] == "SERVICE"
            and fault["error"][0]["code"] == "3100"
            and fault["error"][0]["message"] == "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
            and isinstance(body["time"], int)
            and body["time"] > 1_700_000_000_000,
            body,
        )

    advance(2 * 3600)
    error = raises("an expired access token: AuthorizationException 401", lambda: Vendor.all(qb=qb), AuthorizationException, 401, "Application authentication failed")
    if error is not None:
        fault = json.loads(error.detail)["fault"]
        check(
            "401 body: fault.error[0] code 3200 AuthenticationFailed, type AUTHENTICATION",
            fault["type"] == "AUTHENTICATION"
            and fault["error"][0]["code"] == "3200"
            and fault["error"][0]["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            fault,
        )

    auth.refresh()
    qb.session = None
    qb._start_session()
    check("after a refresh the client reads again", Vendor.count(qb=qb) == 35, "count failed")
    check("revoke answers 200 (AuthClient.revoke returns True)", auth.revoke() is True, "revoke")
    try:
        auth.refresh()
        check("refresh after revoke: AuthClientError 400 invalid_grant", False, "no error")
    except AuthClientError as error:
        check("refresh after revoke: AuthClientError 400 invalid_grant", error.status_code == 400 and b"invalid_grant" in error.content, (error.status_code, error.content))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 (an SDK crash is a failed check, with its trace)
        traceback.print_exc()
        check("the judge ran to its end", False, "an exception escaped (trace above)")
    failed = results.count(False)
    print(f"{len(results) - failed} of {len(results)} checks passed")
    sys.exit(1 if failed else 0)
