#!/usr/bin/env python3
"""Label every capture of corpus/lab from its scenario (not from pullscan).

Writes corpus/lab/<client>/<scenario>.labels.jsonl next to each .log, one JSON
object per log line. Run alone to relabel without rerunning the lab:
    python3 lab/label.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenarios import SCENARIOS  # noqa: E402

BY_NAME = {s.name: s for s in SCENARIOS}


def label_all(out):
    for client in sorted(os.listdir(out)):
        d = os.path.join(out, client)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".log"):
                continue
            sc = BY_NAME.get(name[:-4])
            if sc is None:
                continue
            with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            with open(os.path.join(d, name[:-4] + ".labels.jsonl"), "w") as f:
                for line in lines:
                    cause, note = sc.label(line, client)
                    f.write(json.dumps({"cause": cause, "note": note}) + "\n")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    label_all(os.path.join(os.path.dirname(here), "corpus", "lab"))
