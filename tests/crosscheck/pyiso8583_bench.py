#!/usr/bin/env python3
"""The peer in the ISO 8583 benchmark: pyiso8583 decode and encode time per message, on the same
message and dialect (spec built from the jPOS packager file) as our criterion benchmark.

Usage: pyiso8583_bench.py PACKAGER.xml HEXFILE
Prints: `pyiso8583 decode: N ns/message` and `pyiso8583 encode: N ns/message`.
"""
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iso8583  # noqa: E402
from pyiso8583_decode import build_spec  # noqa: E402


def main():
    spec, _ = build_spec(sys.argv[1])
    with open(sys.argv[2]) as f:
        wire = bytes.fromhex("".join(f.read().split()))
    doc, _ = iso8583.decode(wire, spec)
    clean = {k: v for k, v in doc.items() if k not in ("p", "1", "h") or k == "h"}
    for what, fn in (("decode", lambda: iso8583.decode(wire, spec)),
                     ("encode", lambda: iso8583.encode(dict(clean), spec))):
        timer = timeit.Timer(fn)
        n, _ = timer.autorange()
        best = min(timer.repeat(repeat=5, number=n)) / n
        print(f"pyiso8583 {what}: {best * 1e9:.0f} ns/message")


if __name__ == "__main__":
    main()
