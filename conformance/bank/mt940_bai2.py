"""mt-940 (wolph/mt940) and bai2 (ministryofjustice/bai2), two independent parsers, judge the
MT940 and BAI2 files of reenact's bank fake: each file scenario.yaml declares in one of those
formats is listed by `GET /statements` (or not, before its `available_at`), downloaded with
`GET /statements/{name}`, parsed, and every balance and transaction is compared with the ledger
scenario.yaml declares (read with PyYAML; money as `decimal.Decimal`).

Usage: mt940_bai2.py --url URL [--scenario PATH] [--now RFC3339]. Prints `ok   ...` or
`FAIL ...` per check and a count; exits 1 on any failure.

The expected values are computed here from the ledger and the rules docs/providers/bank.md
(sections MT940 and BAI2) states (balances, marks, types, references, text transliteration), not taken
from the files: what the parsers read must equal them.
"""

import argparse
import datetime as dt
import json
import sys
import unicodedata
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import bai2.bai2
import mt940
import yaml

# ISO 4217 minor units of the currencies scenario.yaml uses.
MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "BHD": 3}
SWIFT_X = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def equal(name, got, want):
    check(name, got == want, f"got {got!r}, want {want!r}")


# --- the ledger, as scenario.yaml declares it ------------------------------------------------


def load_ledger(path):
    scenario = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    settings = scenario["mocks"]["bank"]["with"]
    accounts = {}
    for raw in settings["accounts"]:
        iban = raw.get("iban")
        ident = iban.replace(" ", "").upper() if iban else str(raw["number"])
        transactions = []
        for tx in raw.get("transactions", []):
            booked = tx["booked"]
            transactions.append(
                {
                    "booked": booked,
                    "value": tx.get("value", booked),
                    "amount": Decimal(str(tx["amount"])),
                    "reversal": bool(tx.get("reversal", False)),
                    "code": None if tx.get("code") is None else str(tx["code"]),
                    "counterparty": tx.get("counterparty"),
                    "end_to_end_id": tx.get("end_to_end_id"),
                    "bank_ref": None if tx.get("bank_ref") is None else str(tx["bank_ref"]),
                    "customer_ref": None
                    if tx.get("customer_ref") is None
                    else str(tx["customer_ref"]),
                    "purpose": tx.get("purpose"),
                }
            )
        transactions.sort(key=lambda tx: tx["booked"])  # stable, as the loader sorts
        accounts[raw["id"]] = {
            "ident": ident,
            "currency": raw["currency"],
            "owner": raw.get("owner"),
            "opening": Decimal(str(raw["opening"]["balance"])),
            "transactions": transactions,
        }
    return settings, accounts


def balance_before(account, day):
    return account["opening"] + sum(
        (tx["amount"] for tx in account["transactions"] if tx["booked"] < day), Decimal(0)
    )


def booked_between(account, first, last):
    return [tx for tx in account["transactions"] if first <= tx["booked"] <= last]


def instant(text):
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def statement_plan(raw):
    """A statement item of scenario.yaml with its defaults (the common brief's YAML)."""
    first = raw["from"]
    last = raw.get("to", first)
    available = instant(raw["available_at"]) if raw.get("available_at") else None
    if raw.get("created_at"):
        created = instant(raw["created_at"])
    elif available:
        created = available
    else:
        created = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(6, 0), dt.timezone.utc)
    return {
        **raw,
        "from": first,
        "to": last,
        "sequence": int(raw.get("sequence", 1)),
        "available": available,
        "created": created,
    }


def minor(amount, currency):
    return int(amount.scaleb(MINOR_UNITS[currency]).to_integral_value())


def transliterate(text, allowed):
    """The documented transliteration: a letter loses its diacritics, ß → ss, white space →
    space, anything else `allowed` refuses → `.`."""
    out = []
    for char in text:
        if allowed(char):
            out.append(char)
        elif char.isspace():
            out.append(" ")
        elif char == "ß":
            out.append("ss")
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(base if base and all(allowed(c) for c in base) else ".")
    return "".join(out)


def swift_x(text):
    return transliterate(text, lambda c: c in SWIFT_X)


def ascii_text(text):
    return transliterate(text, lambda c: c.isascii() and c.isprintable())


# --- HTTP ------------------------------------------------------------------------------------


def get(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- MT940 -----------------------------------------------------------------------------------


def mt940_type(code):
    code = (code or "").upper()
    if len(code) == 4 and code.isalnum() and code[0] in "SNF":
        return code
    if len(code) == 3 and code.isalnum():
        return "N" + code
    return "NTRF"


def mt940_reference(text):
    text = swift_x(text).strip()[:16]
    if "//" in text or text.startswith("/") or text.endswith("/"):
        text = text.replace("/", "-")
    return text


def judge_mt940(plan, accounts, data):
    name = plan["name"]
    text = data.decode("ascii")
    crlf = plan.get("line_ending", "crlf") == "crlf"
    lines = text.split("\r\n" if crlf else "\n")
    check(
        f"{name}: every line ends {'CRLF' if crlf else 'LF'}",
        text.endswith("\r\n" if crlf else "\n") and all("\r" not in line and "\n" not in line for line in lines),
    )
    check(
        f"{name}: only SWIFT X characters",
        all(c in SWIFT_X for line in lines for c in line),
    )
    details_lines = [line for line in lines if not line.startswith(":") or line.startswith(":86:")]
    check(
        f"{name}: no :86: line is longer than 65 characters",
        all(len(line) <= 65 for line in details_lines),
    )
    blocks = mt940.parse_statements(text, options=mt940.Options.all())
    page_size = plan.get("page_size")
    structured = plan.get("details", "free") == "structured"
    want_blocks = []
    for account_id in plan["accounts"]:
        account = accounts[account_id]
        txs = booked_between(account, plan["from"], plan["to"])
        size = page_size or max(len(txs), 1)
        pages = [txs[i : i + size] for i in range(0, len(txs), size)] or [[]]
        want_blocks += [(account_id, account, index, len(pages), page) for index, page in enumerate(pages)]
    equal(f"{name}: mt-940 reads one statement block per account page", len(blocks), len(want_blocks))
    balances = {}
    for block, (account_id, account, index, count, page) in zip(blocks, want_blocks):
        where = f"{name}: {account_id} page {index + 1}/{count}"
        data = block.data
        currency = account["currency"]
        equal(f"{where}: :25: account", data.get("account_identification"), account["ident"])
        equal(f"{where}: :28C: statement number", data.get("statement_number"), str(plan["sequence"]))
        equal(f"{where}: :28C: page", data.get("sequence_number"), str(index + 1))
        if index == 0:
            balance = balance_before(account, plan["from"])
            opening = data.get("final_opening_balance")
            opening_tag = ":60F:"
            equal(f"{where}: :60F: dated the day before `from`", opening and opening.date, plan["from"] - dt.timedelta(days=1))
        else:
            balance = balances[account_id]
            opening = data.get("intermediate_opening_balance")
            opening_tag = ":60M:"
        equal(f"{where}: {opening_tag} amount (D when overdrawn)", opening and opening.amount.amount, balance)
        equal(f"{where}: {opening_tag} currency", opening and opening.amount.currency, currency)
        equal(f"{where}: transactions on the page", len(block), len(page))
        for number, (got, want) in enumerate(zip(block, page), start=1):
            what = f"{where}: :61: #{number}"
            tx = got.data
            mark = ("RC" if want["amount"] < 0 else "RD") if want["reversal"] else ("D" if want["amount"] < 0 else "C")
            equal(f"{what} mark", tx.get("status"), mark)
            equal(f"{what} signed amount", tx["amount"].amount, want["amount"])
            equal(f"{what} value date", tx.get("date"), want["value"])
            equal(f"{what} entry date", tx.get("entry_date"), want["booked"])
            equal(f"{what} type", tx.get("id"), mt940_type(want["code"]))
            equal(
                f"{what} customer reference",
                tx.get("customer_reference"),
                mt940_reference(want["customer_ref"]) if want["customer_ref"] else "NONREF",
            )
            equal(
                f"{what} bank reference",
                tx.get("bank_reference"),
                mt940_reference(want["bank_ref"]) if want["bank_ref"] else None,
            )
            party = want["counterparty"] or {}
            if structured:
                equal(f"{what} ?00 GVC", tx.get("transaction_code"), "116" if want["amount"] < 0 else "166")
                equal(f"{what} EREF+", tx.get("end_to_end_reference"), swift_x(want["end_to_end_id"]) if want["end_to_end_id"] else None)
                equal(f"{what} SVWZ+", tx.get("purpose"), swift_x(want["purpose"]) if want["purpose"] else None)
                equal(f"{what} ?30 BIC", tx.get("applicant_bin"), party.get("bic"))
                equal(f"{what} ?31 IBAN", tx.get("applicant_iban"), party.get("iban"))
                equal(f"{what} ?32 name", tx.get("applicant_name"), swift_x(party["name"]) if party else None)
            else:
                parts = [want["purpose"], party.get("name"), party.get("iban"), party.get("bic")]
                free = swift_x(" ".join(p.strip() for p in parts if p and p.strip()))
                details = tx.get("transaction_details")
                equal(f"{what} :86: free text", details and details.replace("\n", ""), free[: 6 * 65 - 4] or None)
            balance += want["amount"]
        balances[account_id] = balance
        if index + 1 == count:
            closing = data.get("final_closing_balance")
            available = data.get("available_balance")
            equal(f"{where}: :62F: amount", closing and closing.amount.amount, balance)
            equal(f"{where}: :62F: dated `to`", closing and closing.date, plan["to"])
            equal(f"{where}: :64: amount", available and available.amount.amount, balance)
        else:
            closing = data.get("intermediate_closing_balance")
            equal(f"{where}: :62M: amount", closing and closing.amount.amount, balance)
            equal(f"{where}: :62M: dated its last booking day", closing and closing.date, page[-1]["booked"])


# --- BAI2 ------------------------------------------------------------------------------------


def bai2_field(text):
    return ascii_text(text.strip()).replace(",", ".").replace("/", ".")


def bai2_text(tx):
    party = tx["counterparty"] or {}
    joined = " ".join(p for p in [tx["purpose"], party.get("name")] if p)
    return " ".join(ascii_text(joined).split()).lstrip(",/ ")


def bai2_type(tx):
    code = tx["code"]
    if code and len(code) == 3 and code.isdigit():
        return code
    return "495" if tx["amount"] < 0 else "195"


def judge_bai2(plan, settings, accounts, data):
    name = plan["name"]
    text = data.decode("ascii")
    lines = text.rstrip("\n").split("\n")
    record_length = plan.get("record_length")
    if record_length:
        check(f"{name}: every record fits {record_length} characters", all(len(line) <= record_length for line in lines))
        check(f"{name}: long records continue in 88 records", any(line.startswith("88,") for line in lines))
    try:
        parsed = bai2.bai2.parse_from_string(text, check_integrity=True)
    except Exception as error:  # noqa: BLE001 -- any parser error fails the check
        check(f"{name}: bai2 parses it and accepts its control totals and record counts", False, repr(error))
        return
    check(f"{name}: bai2 parses it and accepts its control totals and record counts", True)
    header = parsed.header
    equal(f"{name}: 01 sender", header.sender_id, settings["bank"]["routing"])
    equal(f"{name}: 01 creation date", header.creation_date, plan["created"].date())
    equal(f"{name}: 01 creation time", header.creation_time, plan["created"].time().replace(second=0, microsecond=0, tzinfo=None))
    equal(f"{name}: 01 file id", header.file_id, str(plan["sequence"]))
    equal(f"{name}: 01 record length", header.physical_record_length, record_length)
    equal(f"{name}: 01 version", header.version_number, 2)
    days = []
    day = plan["from"]
    while day <= plan["to"]:
        days.append(day)
        day += dt.timedelta(days=1)
    equal(f"{name}: one group per as-of date", len(parsed.children), len(days))
    end_of_day = plan.get("as_of_time", "created") == "end_of_day"
    if end_of_day:
        group_headers = [line for line in lines if line.startswith("02,")]
        check(f"{name}: 02 as-of time is 9999", all(line.split(",")[5] == "9999" for line in group_headers) and group_headers)
    for group, day in zip(parsed.children, days):
        where = f"{name}: {day}"
        equal(f"{where}: 02 as-of date", group.header.as_of_date, day)
        want_time = dt.time.max if end_of_day else plan["created"].time().replace(second=0, microsecond=0, tzinfo=None)
        equal(f"{where}: 02 as-of time", group.header.as_of_time, want_time)
        equal(f"{where}: 02 originator", group.header.originator_id, settings["bank"]["routing"])
        equal(f"{where}: accounts in the group", len(group.children), len(plan["accounts"]))
        for got, account_id in zip(group.children, plan["accounts"]):
            account = accounts[account_id]
            currency = account["currency"]
            what = f"{where}: {account_id}"
            equal(f"{what}: 03 account", got.header.customer_account_number, account["ident"])
            equal(f"{what}: 03 currency", got.header.currency, currency)
            txs = booked_between(account, day, day)
            opening = balance_before(account, day)
            closing = opening + sum((tx["amount"] for tx in txs), Decimal(0))
            credits = [tx for tx in txs if tx["amount"] >= 0]
            debits = [tx for tx in txs if tx["amount"] < 0]
            summary = {item.type_code.code: item for item in got.header.summary_items}
            equal(f"{what}: 010 opening ledger", summary.get("010") and summary["010"].amount, minor(opening, currency))
            equal(f"{what}: 015 closing ledger", summary.get("015") and summary["015"].amount, minor(closing, currency))
            equal(f"{what}: 100 total credits", summary.get("100") and summary["100"].amount, sum(minor(tx["amount"], currency) for tx in credits))
            equal(f"{what}: 100 credit count", summary.get("100") and summary["100"].item_count, len(credits))
            equal(f"{what}: 400 total debits", summary.get("400") and summary["400"].amount, sum(-minor(tx["amount"], currency) for tx in debits))
            equal(f"{what}: 400 debit count", summary.get("400") and summary["400"].item_count, len(debits))
            equal(f"{what}: 16 records", len(got.children), len(txs))
            for number, (detail, tx) in enumerate(zip(got.children, txs), start=1):
                item = f"{what}: 16 #{number}"
                equal(f"{item} type code", detail.type_code.code, bai2_type(tx))
                equal(f"{item} amount in minor units", detail.amount, abs(minor(tx["amount"], currency)))
                equal(f"{item} funds type", detail.funds_type and detail.funds_type.value, "Z")
                equal(f"{item} bank reference", detail.bank_reference, bai2_field(tx["bank_ref"]) if tx["bank_ref"] else None)
                equal(f"{item} customer reference", detail.customer_reference, bai2_field(tx["customer_ref"]) if tx["customer_ref"] else None)
                equal(f"{item} text", detail.text, bai2_text(tx) or None)


# --- the run ---------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--scenario", default=str(Path(__file__).with_name("scenario.yaml")))
    args = parser.parse_args()
    scenario = yaml.safe_load(Path(args.scenario).read_text(encoding="utf-8"))
    now = instant(scenario["clock"]["start"])
    settings, accounts = load_ledger(args.scenario)
    status, _, body = get(args.url + "/statements")
    equal("GET /statements answers 200", status, 200)
    listed = {item["name"]: item for item in json.loads(body)["statements"]}
    for raw in settings["statements"]:
        if "file" in raw or raw.get("format") not in ("mt940", "bai2"):
            continue
        plan = statement_plan(raw)
        name = plan["name"]
        if plan["available"] and plan["available"] > now:
            check(f"{name}: not listed before its available_at", name not in listed)
            status, _, _ = get(f"{args.url}/statements/{name}")
            equal(f"{name}: 404 before its available_at", status, 404)
            continue
        check(f"{name}: listed", name in listed, f"listed: {sorted(listed)}")
        status, headers, data = get(f"{args.url}/statements/{name}")
        equal(f"{name}: GET answers 200", status, 200)
        if status != 200:
            continue
        content_type = headers.get("Content-Type", headers.get("content-type", ""))
        check(f"{name}: served as text/plain", content_type.startswith("text/plain"), content_type)
        if name in listed:
            equal(f"{name}: listed format", listed[name].get("format"), plan["format"])
            equal(f"{name}: listed size is the download's", listed[name].get("size"), len(data))
        if plan["format"] == "mt940":
            judge_mt940(plan, accounts, data)
        else:
            judge_bai2(plan, settings, accounts, data)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 -- a crash is a failure, with its cause
        import traceback

        traceback.print_exc()
        check("the judge ran to the end", False, repr(error))
    print(f"\n{passed}/{passed + failed} checks passed")
    sys.exit(1 if failed else 0)
