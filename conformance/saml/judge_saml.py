"""python3-saml 1.16.0, a second SP library, judges the fake beside node-saml: above all what
node-saml 5.1.0 does not check, a Response's `Destination` (SAML Core 3.2.2) and the bearer
`SubjectConfirmationData Recipient` (Profiles 4.1.4.2); then every other bent rule again, each with
python3-saml's own error code and text (the texts the catalog's §4.3 quotes for time).

Usage: judge_saml.py NAME=URL...  (run.sh passes every mock of scenario.yaml). Prints `ok  ...` or
`FAIL ...` per check and a count; exits 1 on any failure. The SP is strict (`strict: True`), wants
both the Response and the Assertion signed, and receives the POST at its ACS URL, as a deployed SP
would.
"""

import base64
import re
import sys
import urllib.request

from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

URLS = dict(arg.split("=", 1) for arg in sys.argv[1:])
SP = "https://app.acme.test/saml/metadata"
ACS = "https://app.acme.test/saml/acs"
IDP = "https://idp.acme.test/saml"
# The POST as it reaches the SP's ACS (python3-saml compares Destination and Recipient with it).
REQUEST = {"https": "on", "http_host": "app.acme.test", "script_name": "/saml/acs", "server_port": "443"}
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}{': ' + detail if detail else ''}")


def get(url):
    with urllib.request.urlopen(url) as response:
        return response.read().decode("utf-8")


def settings(cert, messages=True, assertions=True):
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": SP,
                "assertionConsumerService": {"url": ACS},
                "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            },
            "idp": {
                "entityId": IDP,
                "singleSignOnService": {"url": URLS["idp"] + "/sso"},
                "x509cert": cert,
            },
            "security": {"wantAssertionsSigned": assertions, "wantMessagesSigned": messages},
        },
        sp_validation_only=True,
    )


def login(mock):
    html = get(URLS[mock] + "/idp-initiated?user=alice%40acme.test")
    return re.search(r'name="SAMLResponse" value="([^"]+)"', html).group(1)


cert = re.search(r"<ds:X509Certificate>([^<]+)<", get(URLS["idp"] + "/metadata")).group(1)

for mock, messages, assertions in [("idp_assertion", False, True), ("idp_response", True, False)]:
    response = OneLogin_Saml2_Response(settings(cert, messages, assertions), login(mock))
    check(
        f"{mock}: python3-saml accepts it when it wants only that signature",
        response.is_valid(REQUEST, raise_exceptions=False),
        str(response.get_error()),
    )

valid = OneLogin_Saml2_Response(settings(cert), login("idp"))
ok = valid.is_valid(REQUEST, raise_exceptions=False)
check("idp: python3-saml accepts the valid response", ok, str(valid.get_error()))
if ok:
    check(
        "idp: python3-saml reads the NameID and attributes",
        valid.get_nameid() == "alice@acme.test"
        and valid.get_attributes() == {"email": ["alice@acme.test"], "groups": ["admins", "staff"]},
        f"{valid.get_nameid()} {valid.get_attributes()}",
    )

for mock, code, words in [
    (
        "idp_destination",
        OneLogin_Saml2_ValidationError.WRONG_DESTINATION,
        "The response was received at https://app.acme.test/saml/acs instead of https://other.example/saml/acs",
    ),
    (
        "idp_recipient",
        OneLogin_Saml2_ValidationError.WRONG_SUBJECTCONFIRMATION,
        "A valid SubjectConfirmation was not found on this Response",
    ),
    (
        "idp_audience",
        OneLogin_Saml2_ValidationError.WRONG_AUDIENCE,
        "https://app.acme.test/saml/metadata is not a valid audience for this Response",
    ),
    (
        "idp_expired",
        OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED,
        "Could not validate timestamp: expired. Check system clock.",
    ),
    (
        "idp_future",
        OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY,
        "Could not validate timestamp: not yet valid. Check system clock.",
    ),
    (
        "idp_unsigned",
        OneLogin_Saml2_ValidationError.NO_SIGNED_ASSERTION,
        "The Assertion of the Response is not signed and the SP require it",
    ),
    (
        "idp_rotated",
        OneLogin_Saml2_ValidationError.INVALID_SIGNATURE,
        "Signature validation failed. SAML Response rejected",
    ),
    (
        "idp_wrapping",
        OneLogin_Saml2_ValidationError.WRONG_NUMBER_OF_ASSERTIONS,
        "SAML Response must contain 1 assertion",
    ),
]:
    response = OneLogin_Saml2_Response(settings(cert), login(mock))
    try:
        response.is_valid(REQUEST, raise_exceptions=True)
        check(f"{mock}: python3-saml rejects it", False, "accepted")
    except OneLogin_Saml2_ValidationError as err:
        check(
            f"{mock}: python3-saml rejects it with its own rule ({words})",
            err.code == code and str(err) == words,
            f"code {err.code}: {err}",
        )

print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
