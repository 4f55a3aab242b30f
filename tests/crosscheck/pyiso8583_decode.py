#!/usr/bin/env python3
"""Cross-check: decode ISO 8583 messages with pyiso8583 (an independent implementation, from PyPI)
using a spec built from a jPOS GenericPackager file (an independent statement of the dialect), and
print what it found in the same form as `clearway iso8583 decode --json --show-pan`.

Usage: pyiso8583_decode.py PACKAGER.xml < hex lines      (one message per line)
Output: one JSON line per input line: {"mti": ..., "fields": {...}, "skipped": [...]}
or {"error": "..."}. Fields whose jPOS class pyiso8583 cannot express (x+n amounts in BCD) are
listed under "skipped" and not compared.
"""
import json
import sys
import xml.etree.ElementTree as ET

import iso8583

# class -> (data_enc, len_enc, len_type, length multiplier for max_len, left_pad)
def field_spec(cls, length):
    cls = cls.replace("org.jpos.iso.", "")
    ascii_fixed = {"IFA_NUMERIC", "IF_CHAR", "IFA_AMOUNT", "IFA_CHAR"}
    if cls in ascii_fixed:
        return {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": length}
    for prefix, lt in (("IFA_LLLL", 4), ("IFA_LLL", 3), ("IFA_LL", 2)):
        if cls.startswith(prefix):
            data = "b" if cls.endswith("BINARY") else "ascii"
            return {"data_enc": data, "len_enc": "ascii", "len_type": lt, "max_len": length}
    if cls == "IFA_BINARY":  # bytes carried as hex text
        return {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 2 * length}
    if cls == "IFB_NUMERIC":
        return {"data_enc": "bcd", "len_enc": "b", "len_type": 0, "max_len": (length + 1) // 2,
                "left_pad": "0" if length % 2 else ""}
    if cls == "IFB_BINARY":
        return {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": length}
    for prefix, lt in (("IFB_LLL", 2), ("IFB_LL", 1)):
        if cls.startswith(prefix):
            kind = cls[len(prefix):]
            if kind == "NUM":
                return {"data_enc": "bcd", "len_enc": "bcd", "len_type": lt, "max_len": (length + 1) // 2,
                        "right_pad": "F", "digits": True}
            data = "b" if kind == "BINARY" else "ascii"
            return {"data_enc": data, "len_enc": "bcd", "len_type": lt, "max_len": length}
    return None  # IFB_AMOUNT and anything else pyiso8583 cannot express


def build_spec(packager):
    root = ET.parse(packager).getroot()
    spec, skipped = {}, []
    spec["h"] = {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 0, "desc": "header"}
    for f in root.iter("isofield"):
        fid, cls, length = int(f.get("id")), f.get("class"), int(f.get("length"))
        if fid == 0:
            binary = "IFB" in cls
            spec["t"] = {"data_enc": "b" if binary else "ascii", "len_enc": "ascii", "len_type": 0,
                         "max_len": 2 if binary else 4, "desc": "MTI"}
            continue
        if fid == 1:
            binary = "IFB" in cls
            for key in ("p", "1"):
                spec[key] = {"data_enc": "b" if binary else "ascii", "len_enc": "ascii", "len_type": 0,
                             "max_len": 8 if binary else 16, "desc": "bitmap"}
            continue
        s = field_spec(cls, length)
        if s is None:
            # still needed to walk past the field: x+n as one ASCII sign plus BCD digits cannot be
            # expressed, so treat the bytes as binary of the same size and do not compare it
            s = {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 1 + (length - 1 + 1) // 2}
            skipped.append(str(fid))
        s["desc"] = f.get("name", "")
        spec[str(fid)] = s
    return spec, skipped


def value(spec_f, raw):
    if isinstance(raw, bytes):
        return raw.hex().upper()
    return raw


def main():
    spec, skipped = build_spec(sys.argv[1])
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            doc, _ = iso8583.decode(bytes.fromhex(line), spec)
        except Exception as e:  # noqa: BLE001 - report, the Rust test decides
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
            continue
        fields = {}
        for k, v in doc.items():
            if not k.isdigit() or k in ("1",) or k in skipped:
                continue
            s = spec[k]
            v = value(s, v)
            if s.get("digits"):
                v = v.rstrip("F") if len(v) % 2 == 0 else v
            if k == "35":
                v = v.replace("D", "=")
            fields[k] = v
        mti = doc.get("t")
        if isinstance(mti, bytes):
            mti = mti.hex()
        print(json.dumps({"mti": mti, "fields": fields, "skipped": skipped}))


if __name__ == "__main__":
    main()
