"""Send each case of cases.json to the real WireMock and to reenact's import of the same mappings,
in order, and compare what a client sees: the error class (answer, empty reply, reset, a body that breaks off), the
status, the body (when a stub answered) and the headers a case names; a case with
`elapsed_ms: [LOW, HIGH]` also requires each side to take that long, request sent to body read
(delays and dribbles). One line per case; exit 1 on any difference. Usage: compare.py CASES
WIREMOCK_URL REENACT_URL

Random values and dates differ by design, so a case may compare them by shape: `"shape": true`
masks UUIDs (and sorts a JSON body's keys); `"shapes"` is a list of `{"regex", "as"}` whose
matches in the body (or in the header `"header"` names) are replaced by the text `as` on both
sides, so that the alphabet, length or date format must match and everything around it must be
equal byte for byte. With `"within_a_day"` (`iso`, `day`, `epoch` in milliseconds or `unix` in
seconds) the matched dates of the two sides, taken in order, must also be at most a day apart:
WireMock's `now` is the wall clock, reenact's the mock's virtual clock, which starts at the
wall clock."""

import http.client
import json
import re
import sys
import time
import urllib.parse
from datetime import datetime, timezone

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DAY = 86400


def seconds(kind, text):
    """A matched date as seconds since 1970, for the within-a-day check."""
    if kind == "epoch":
        return int(text) / 1000
    if kind == "unix":
        return int(text)
    if kind == "day":
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def masked(case, body, headers):
    """The body and headers with each shape of the case masked, and the dates it matched."""
    dates = []
    for shape in case.get("shapes", []):
        pattern = re.compile(shape["regex"])
        name = shape.get("header")
        text = headers.get(name) if name else body
        if text is None:
            continue
        if "within_a_day" in shape:
            dates += [(shape["within_a_day"], m.group(0)) for m in pattern.finditer(text)]
        text = pattern.sub(shape["as"], text)
        if name:
            headers[name] = text
        else:
            body = text
    return body, headers, dates


def send(base, case):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        body = case.get("body")
        headers = case.get("headers", {})
        if isinstance(headers, list):
            # [name, value] pairs: a name may repeat (two `Cookie` headers), which a mapping
            # cannot say.
            connection.putrequest(case["method"], case["path"])
            for name, value in headers:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body.encode())))
            connection.endheaders(body.encode() if body is not None else None)
        else:
            connection.request(
                case["method"],
                case["path"],
                body=body.encode() if body is not None else None,
                headers=headers,
            )
        response = connection.getresponse()
        headers = {name: response.getheader(name) for name in case.get("compare_headers", [])}
        try:
            body = response.read().decode(errors="replace")
        except (http.client.IncompleteRead, ValueError, ConnectionError):
            return ("broken body", response.status, None, headers)
        if case.get("shape"):
            # Random values differ by design: compare where they are and what they look like.
            body = UUID.sub("<uuid>", body)
            body = json.dumps(json.loads(body), sort_keys=True) if body.lstrip().startswith("{") else body
        body, headers, dates = masked(case, body, headers)
        return ("answer", response.status, body, headers, dates)
    except http.client.RemoteDisconnected:
        return ("empty reply", None, None, {})
    except ConnectionResetError:
        return ("connection reset", None, None, {})
    finally:
        connection.close()


def timed(base, case):
    """`send`, and how many milliseconds it took."""
    started = time.monotonic()
    result = send(base, case)
    return result, (time.monotonic() - started) * 1000


def main():
    cases = json.load(open(sys.argv[1]))
    wiremock, reenact = sys.argv[2], sys.argv[3]
    failures = 0
    for case in cases:
        (a, a_ms), (b, b_ms) = timed(wiremock, case), timed(reenact, case)
        # Dates compare by shape, and must be within a day of each other.
        if len(a) == len(b) == 5:
            apart = [
                (x, y) for (kind, x), (_, y) in zip(a[4], b[4])
                if abs(seconds(kind, x) - seconds(kind, y)) > DAY
            ]
            a, b = a[:4] + (apart,), b[:4] + ([],)
        # An unmatched request is 404 on both; their explanations differ by design.
        if a[0] == b[0] == "answer" and a[1] == b[1] == 404:
            a, b = a[:2] + (None,) + a[3:], b[:2] + (None,) + b[3:]
        low, high = case.get("elapsed_ms", (0, float("inf")))
        slow = [f"{who} took {ms:.0f} ms" for who, ms in (("WireMock", a_ms), ("reenact", b_ms))
                if not low <= ms <= high]
        if slow:
            failures += 1
            print(f"FAIL {case['name']}: {', '.join(slow)}, outside {low}..{high} ms", file=sys.stderr)
        elif a == b:
            timing = f" ({a_ms:.0f} ms, {b_ms:.0f} ms)" if "elapsed_ms" in case else ""
            print(f"ok   {case['name']}: {a[0]} {a[1] or ''}".rstrip() + timing)
        else:
            failures += 1
            print(f"FAIL {case['name']}: WireMock {a!r}, reenact {b!r}", file=sys.stderr)
    print(f"{len(cases) - failures}/{len(cases)} cases alike")
    sys.exit(1 if failures else 0)


main()
