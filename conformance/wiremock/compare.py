"""Send each case of cases.json to the real WireMock and to reenact's import of the same mappings,
in order, and compare what a client sees: the error class (answer, empty reply, reset, a body that breaks off), the
status, the body (when a stub answered) and the headers a case names; a case with
`elapsed_ms: [LOW, HIGH]` also requires each side to take that long, request sent to body read
(delays and dribbles). One line per case; exit 1 on any difference. Usage: compare.py CASES WIREMOCK_URL REENACT_URL"""

import http.client
import json
import re
import sys
import time
import urllib.parse

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def send(base, case):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        body = case.get("body")
        connection.request(
            case["method"],
            case["path"],
            body=body.encode() if body is not None else None,
            headers=case.get("headers", {}),
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
        return ("answer", response.status, body, headers)
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
