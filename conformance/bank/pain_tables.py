"""Writes the table the bank fake validates pain.001 files with, from the official XSD.

    pain_tables.py XSD > src/mock/providers/bank/schemas/pain.001.001.0N.txt

The fake's schema layer (`src/mock/providers/bank/xsd.rs`) interprets this table; `pain.py`
regenerates it from the SHA-256-pinned XSD and fails when the committed table differs, so the
table is the XSD's, element for element. One line per item, fields separated by a tab:

    R  ROOT-ELEMENT  TYPE                               the document element
    C  TYPE  seq|choice|any                             a complex type; its particles follow
    E  NAME  TYPE  MIN  MAX                             one element particle (MAX `u`: unbounded)
    A  TYPE  SIMPLE-BASE  ATTRIBUTE  ATTRIBUTE-TYPE     simple content with one required attribute
    S  TYPE  BASE  FACET=VALUE...                       a simple type (BASE: string, decimal,
                                                        date, dateTime, boolean); facets
                                                        minLength, maxLength, pattern,
                                                        enumeration, fractionDigits,
                                                        totalDigits, minInclusive
Only the constructs the ISO 20022 pain.001 XSDs use are read; any other is an error here.
"""

import sys
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"


def particles(group):
    for child in group:
        tag = child.tag.replace(XS, "")
        if tag != "element":
            raise SystemExit(f"unsupported particle {tag}")
        yield child


def main(path):
    root = ET.parse(path).getroot()
    out = []
    for element in root.findall(XS + "element"):
        out.append(f"R\t{element.attrib['name']}\t{element.attrib['type']}")
    for ct in root.findall(XS + "complexType"):
        name = ct.attrib["name"]
        (body,) = list(ct)
        tag = body.tag.replace(XS, "")
        if tag == "simpleContent":
            (ext,) = list(body)
            (attr,) = list(ext)
            if attr.attrib.get("use") != "required":
                raise SystemExit(f"optional attribute in {name}")
            out.append(f"A\t{name}\t{ext.attrib['base']}\t{attr.attrib['name']}\t{attr.attrib['type']}")
            continue
        group = body
        if tag == "sequence" and len(body) == 1 and body[0].tag == XS + "choice":
            group, tag = body[0], "choice"
            if group.attrib:
                raise SystemExit(f"choice with occurrences in {name}")
        if tag == "sequence" and len(body) == 1 and body[0].tag == XS + "any":
            out.append(f"C\t{name}\tany")
            continue
        if tag not in ("sequence", "choice"):
            raise SystemExit(f"unsupported content {tag} in {name}")
        out.append(f"C\t{name}\t{'seq' if tag == 'sequence' else 'choice'}")
        for element in particles(group):
            low = element.attrib.get("minOccurs", "1")
            high = element.attrib.get("maxOccurs", "1")
            high = "u" if high == "unbounded" else high
            out.append(f"E\t{element.attrib['name']}\t{element.attrib['type']}\t{low}\t{high}")
    for st in root.findall(XS + "simpleType"):
        (restriction,) = list(st)
        base = restriction.attrib["base"].replace("xs:", "")
        facets = []
        for facet in restriction:
            key = facet.tag.replace(XS, "")
            value = facet.attrib["value"]
            if "\t" in value or "\n" in value:
                raise SystemExit("a facet value with a tab or a line break")
            facets.append(f"{key}={value}")
        out.append("\t".join(["S", st.attrib["name"], base, *facets]))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(main(sys.argv[1]))
