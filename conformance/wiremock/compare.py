"""Send each case of cases.json to the real WireMock and to reenact's import of the same mappings,
in order, and compare what a client sees: the error class (answer, empty reply, reset, a body that breaks off), the
status, the body (when a stub answered) and the headers a case names. One line per case; exit 1
on any difference. Usage: compare.py CASES WIREMOCK_URL REENACT_URL"""

import http.client
import json
import re
import sys
import urllib.parse

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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
        return ("answer", response.status, body, headers)
    except http.client.RemoteDisconnected:
        return ("empty reply", None, None, {})
    except ConnectionResetError:
        return ("connection reset", None, None, {})
    finally:
        connection.close()


def main():
    cases = json.load(open(sys.argv[1]))
    wiremock, reenact = sys.argv[2], sys.argv[3]
    failures = 0
    for case in cases:
        a = send(wiremock, case)
        b = send(reenact, case)
        # An unmatched request is 404 on both; their explanations differ by design.
        if a[0] == b[0] == "answer" and a[1] == b[1] == 404:
            a, b = a[:2] + (None,) + a[3:], b[:2] + (None,) + b[3:]
        if a == b:
            print(f"ok   {case['name']}: {a[0]} {a[1] or ''}".rstrip())
        else:
            failures += 1
            print(f"FAIL {case['name']}: WireMock {a!r}, reenact {b!r}", file=sys.stderr)
    print(f"{len(cases) - failures}/{len(cases)} cases alike")
    sys.exit(1 if failures else 0)


main()
