"""What the bank's XSD judges (camt.py, pain.py) share: recorded checks and the pinned XSDs.

`results` holds one boolean per check, in order; each judge prints its own summary from it.
"""

import hashlib
from pathlib import Path

import xmlschema

results = []


def check(name, condition, detail=""):
    """Record one check: `condition` must be true."""
    results.append(bool(condition))
    print(f"ok   {name}" if condition else f"FAIL {name}" + (f": {detail}" if detail else ""))


def equal(name, actual, expected):
    check(name, actual == expected, f"got {actual!r}, expected {expected!r}")


def load_schemas(xsd_dir, xsds):
    """The schemas of `xsds` ({namespace: (file, SHA-256)}) in `xsd_dir`, each checked against
    its pinned digest (a mismatch is a failed check)."""
    schemas = {}
    for namespace, (file, digest) in xsds.items():
        path = Path(xsd_dir) / file
        equal(f"{file}: the pinned XSD (SHA-256)", hashlib.sha256(path.read_bytes()).hexdigest(), digest)
        schemas[namespace] = xmlschema.XMLSchema(str(path))
    return schemas
