"""The ISO 20022 XSDs judge reenact's payment intake and the pain.002 reports it writes.

Run by conformance/bank/run.sh. Prints one line per check (`ok  ...` / `FAIL ...`), then a count,
and exits 1 when a check failed.

    pain.py --xsd-dir DIR --tables DIR --url URL --admin ADMIN [--files FILE...]

1. Tables: the fake's schema layer reads `src/mock/providers/bank/schemas/pain.001.001.0{3,9}.txt`;
   each must equal what `pain_tables.py` writes from the SHA-256-pinned XSD, so the fake's
   validator is the XSD's element and type tables, not a hand copy.
2. Agreement: a corpus of pain.001 files (valid .03 and .09, and one mistake each: comma decimal,
   six fraction digits, missing optional CtrlSum, bad IBAN, wrong element order, unknown element,
   impossible date, 36-character EndToEndId, empty required element, wrong namespace, negative
   amount, missing Ccy, text in an element-only element) goes to the fake over HTTP
   (`POST /payments`) and through xmlschema with the official XSD; the fake must refuse at receipt
   (`RJCT` with a schema reason) exactly the files the XSD refuses.
3. Reports: after moving the fake's clock past every report's time, every pain.002 the fake
   issued (`GET /payments/{id}/reports/{name}`) validates against its XSD (pain.002.001.03 for a
   .03 file, .12 for a .09 one), names the file's MsgId, and its statuses are the ones
   `GET /payments/{id}` gives; a .03 report never carries a transaction status its enumeration
   lacks.
4. `--files`: pain.001 files another part wrote (the demo's) validate against their XSD.
"""

import argparse
import base64
import json
import re
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

sys.path.insert(0, str(Path(__file__).parent))
from judging import check, equal, load_schemas, results  # noqa: E402
import pain_tables  # noqa: E402

XSDS = {
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03": (
        "pain.001.001.03.xsd",
        "ae2bbba02a6be0119a26f4afcb65ced067453cb1b81d38b26bcc569f19eca93e",
    ),
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09": (
        "pain.001.001.09.xsd",
        "05440a7e84f695e7dbc6677082f43623cd7393881b76a5e8d648ae21d7d728e3",
    ),
    "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03": (
        "pain.002.001.03.xsd",
        "c0c2b98f51638147598678bbec3d5aedfa270a819c2fda8014ba3c34a5972195",
    ),
    "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12": (
        "pain.002.001.12.xsd",
        "13762890a02c44b05ea2fa4285b7c2e159a3bf4d518c8c11116cb4a2faa9f899",
    ),
}
NS03 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
NS09 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"



def xsd_valid(schemas, text):
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return False, "not well-formed"
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    schema = schemas.get(namespace)
    if schema is None or not namespace.startswith("urn:iso:std:iso:20022:tech:xsd:pain.001"):
        return False, f"no pain.001 schema for namespace {namespace!r}"
    errors = list(schema.iter_errors(text))
    return not errors, "; ".join(str(e.reason) for e in errors[:1])


def pain001(version, msg_id="MSG-1", amount="100.00", ctrl_sum="<CtrlSum>100.00</CtrlSum>", e2e="E2E-1",
            iban="DE02120300000000202051", date="2026-11-05"):
    """A small credit transfer initiation of `version` ("03" / "09")."""
    ns = NS03 if version == "03" else NS09
    reqd = f"<ReqdExctnDt>{date}</ReqdExctnDt>" if version == "03" else f"<ReqdExctnDt><Dt>{date}</Dt></ReqdExctnDt>"
    bic = "BIC" if version == "03" else "BICFI"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}"><CstmrCdtTrfInitn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-02T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs>{ctrl_sum}"
        f"<InitgPty><Nm>Acme Robotics GmbH</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>PMT-1</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>1</NbOfTxs>{reqd}"
        f"<Dbtr><Nm>Acme Robotics GmbH</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><{bic}>DEUTDEFFXXX</{bic}></FinInstnId></DbtrAgt>"
        f"<CdtTrfTxInf><PmtId><InstrId>I-1</InstrId><EndToEndId>{e2e}</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt>'
        f"<Cdtr><Nm>Lumen Lab</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>\n"
    )


def corpus():
    """(name, text) cases; each MsgId unique so no duplicate check interferes."""
    cases = []
    n = iter(range(1, 1000))

    def add(name, version="03", **kw):
        cases.append((name, pain001(version, msg_id=f"AGREE-{next(n)}", **kw)))

    add("valid .03")
    add("valid .09", "09")
    add("valid .09 without CtrlSum", "09", ctrl_sum="")
    add("missing CtrlSum (optional)", ctrl_sum="")
    add("comma decimal (B-14)", amount="4847,37", ctrl_sum="<CtrlSum>4847,37</CtrlSum>")
    add("six fraction digits", amount="100.123456", ctrl_sum="")
    add("five fraction digits", amount="100.12345", ctrl_sum="")
    add("trailing zeros past five", amount="100.1000000", ctrl_sum="")
    add("bad IBAN pattern (lower case)", iban="de02120300000000202051")
    add("impossible date", date="2026-02-30")
    add("36-character EndToEndId", e2e="E" * 36)
    add("35-character EndToEndId", e2e="E" * 35)
    add("empty EndToEndId", e2e="")
    add("negative amount", amount="-1.00", ctrl_sum="")
    add("amount with spaces around", amount=" 100.00 ")
    base = pain001("03", msg_id="AGREE-ORDER")
    cases.append(("CreDtTm before MsgId", re.sub(r"(<MsgId>[^<]*</MsgId>)(<CreDtTm>[^<]*</CreDtTm>)", r"\2\1", base)))
    cases.append(("unknown element", pain001("03", msg_id="AGREE-UNKNOWN").replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd><Foo>x</Foo>")))
    cases.append(("wrong namespace", pain001("03", msg_id="AGREE-NS").replace("pain.001.001.03", "pain.001.001.02")))
    cases.append(("missing Ccy", pain001("03", msg_id="AGREE-CCY").replace(' Ccy="EUR"', "")))
    cases.append(("missing PmtMtd", pain001("09", msg_id="AGREE-PMTMTD").replace("<PmtMtd>TRF</PmtMtd>", "")))
    cases.append(("text in an element-only element", pain001("03", msg_id="AGREE-TEXT").replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd>stray")))
    cases.append(("a .09 date where .03 wants one", pain001("03", msg_id="AGREE-DT").replace("<ReqdExctnDt>2026-11-05</ReqdExctnDt>", "<ReqdExctnDt><Dt>2026-11-05</Dt></ReqdExctnDt>")))
    cases.append(("bad currency code", pain001("09", msg_id="AGREE-CUR").replace('Ccy="EUR"', 'Ccy="eur"')))
    cases.append(("bad BIC", pain001("09", msg_id="AGREE-BIC").replace("DEUTDEFFXXX", "DEUTDEFF1")))
    cases.append(("dateTime without seconds", pain001("03", msg_id="AGREE-DTM").replace("2026-11-02T09:00:00", "2026-11-02T09:00")))
    cases.append(("unknown attribute", pain001("03", msg_id="AGREE-ATTR").replace("<PmtMtd>", '<PmtMtd foo="1">')))
    return cases


def request(method, url, body=None, auth=None):
    req = urllib.request.Request(url, data=body, method=method)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(req) as response:
        return response.status, response.headers, response.read()


def status(base, pid):
    return json.loads(request("GET", f"{base}/payments/{pid}")[2])


def judge(base, admin, schemas):
    sent = []
    for name, text in corpus():
        expected, why = xsd_valid(schemas, text)
        code, headers, body = request("POST", f"{base}/payments?name=agree.xml", text.encode())
        receipt = json.loads(body)
        equal(f"{name}: 202 Accepted with a Location", (code, headers.get("Location")), (202, f"/payments/{receipt['id']}"))
        st = status(base, receipt["id"])
        refused = st["group_status"] == "RJCT" and st["reason"] == "FF01"
        check(
            f"{name}: the fake {'refuses' if refused else 'takes'} it, the XSD {'takes' if expected else 'refuses'} it",
            refused == (not expected),
            f"xmlschema: {why or 'valid'}; fake: {st.get('reason_text')}",
        )
        sent.append(receipt["id"])
    # Files whose reports run the whole timeline: all settled, one PART with AC01, a B-15
    # mismatch, a duplicate, one past the cut-off moved over the holiday, one for a past date.
    extra = [
        ("settled", pain001("03", msg_id="LIFE-1")),
        ("settled .09", pain001("09", msg_id="LIFE-2")),
        ("part", pain001("03", msg_id="LIFE-3").replace("</CdtTrfTxInf></PmtInf>",
            "</CdtTrfTxInf><CdtTrfTxInf><PmtId><EndToEndId>E2E-REJECT</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">5.00</InstdAmt></Amt><Cdtr><Nm>X</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct></CdtTrfTxInf></PmtInf>")
            .replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>").replace("<CtrlSum>100.00</CtrlSum>", "<CtrlSum>105.00</CtrlSum>")),
        ("part .09", pain001("09", msg_id="LIFE-4", e2e="E2E-REJECT")),
        ("control sum mismatch", pain001("03", msg_id="LIFE-5", ctrl_sum="<CtrlSum>99.00</CtrlSum>")),
        ("duplicate", pain001("03", msg_id="LIFE-1")),
        ("past date", pain001("09", msg_id="LIFE-6", date="2026-10-30")),
    ]
    for name, text in extra:
        check(f"{name}: valid against its XSD", xsd_valid(schemas, text)[0])
        receipt = json.loads(request("POST", f"{base}/payments", text.encode())[2])
        sent.append(receipt["id"])
    # Past every report: ten days.
    request("POST", f"{admin}/__reenact/clock/advance", json.dumps({"millis": 10 * 86400 * 1000}).encode())
    seen = set()
    for pid in sent:
        st = status(base, pid)
        listing = json.loads(request("GET", f"{base}/payments/{pid}/reports")[2])["reports"]
        equal(f"{pid}: as many reports listed as counted", len(listing), st["reports"])
        for entry in listing:
            _, headers, data = request("GET", f"{base}/payments/{pid}/reports/{entry['name']}")
            root = ET.fromstring(data)
            namespace = root.tag[1:].split("}")[0]
            schema = schemas.get(namespace)
            errors = list(schema.iter_errors(data.decode())) if schema else ["unknown namespace"]
            check(f"{entry['name']}: valid against {XSDS.get(namespace, ('?',))[0]}", not errors, "; ".join(str(e) for e in errors[:2]))
            ns = {"p": namespace}
            equal(f"{entry['name']}: Content-Type", headers.get("Content-Type"), "application/xml")
            equal(f"{entry['name']}: GrpSts as listed", root.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=ns), entry["group_status"])
            for info in root.findall("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:StsRsnInf/p:AddtlInf", ns):
                check(f"{entry['name']}: AddtlInf at most 105 characters", len(info.text or "") <= 105)
            seen.add(entry["group_status"])
        last = listing[-1]["group_status"] if listing else None
        equal(f"{pid}: the last report's status is the file's", last, st["group_status"])
    for code in ("RCVD", "ACTC", "ACSP", "ACSC", "PART", "RJCT"):
        check(f"reports cover group status {code}", code in seen)
    by_msg = {}
    for pid in sent:
        st = status(base, pid)
        by_msg.setdefault(st["msg_id"], []).append(st)
    life = {m: s for m, s in by_msg.items() if m and m.startswith("LIFE-")}
    equal("LIFE-1 first: settled", life["LIFE-1"][0]["group_status"], "ACSC")
    equal("LIFE-1 again: a duplicate (DU01)", (life["LIFE-1"][1]["group_status"], life["LIFE-1"][1]["reason"]), ("RJCT", "DU01"))
    equal("LIFE-3: PART with AC01 on E2E-REJECT",
          (life["LIFE-3"][0]["group_status"], [(t["end_to_end_id"], t["status"], t["reason"]) for t in life["LIFE-3"][0]["transactions"]]),
          ("PART", [("E2E-1", "ACSC", None), ("E2E-REJECT", "RJCT", "AC01")]))
    equal("LIFE-4 (one transaction, rejected): RJCT", life["LIFE-4"][0]["group_status"], "RJCT")
    equal("LIFE-5: control sum mismatch AM10 (B-15)", (life["LIFE-5"][0]["group_status"], life["LIFE-5"][0]["reason"]), ("RJCT", "AM10"))
    equal("LIFE-6: past date DT01", [t["reason"] for t in life["LIFE-6"][0]["transactions"]], ["DT01"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--xsd-dir", required=True)
    parser.add_argument("--tables", required=True)
    parser.add_argument("--url")
    parser.add_argument("--admin")
    parser.add_argument("--files", nargs="*", default=[])
    args = parser.parse_args()
    schemas = load_schemas(args.xsd_dir, XSDS)
    for version in ("03", "09"):
        name = f"pain.001.001.{version}"
        expected = pain_tables.main(str(Path(args.xsd_dir) / f"{name}.xsd"))
        actual = (Path(args.tables) / f"{name}.txt").read_text()
        check(f"{name}.txt: the table the XSD gives", actual == expected)
    # The corpus is a judge only if the XSD itself refuses what it must.
    check("xmlschema refuses the comma decimal", not xsd_valid(schemas, pain001("03", amount="4847,37"))[0])
    if args.url:
        judge(args.url, args.admin, schemas)
    for file in args.files:
        text = Path(file).read_text()
        valid, why = xsd_valid(schemas, text)
        check(f"{Path(file).name}: valid against its XSD", valid, why)
    failed = results.count(False)
    print(f"\n{len(results)} checks, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
