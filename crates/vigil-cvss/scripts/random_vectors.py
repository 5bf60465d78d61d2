#!/usr/bin/env python3
"""Random CVSS vectors scored by Red Hat's reference library, for a
differential run of vigil-cvss against it.

    python3 -m venv /tmp/cvss-venv && /tmp/cvss-venv/bin/pip install cvss==3.6
    /tmp/cvss-venv/bin/python scripts/random_vectors.py --seed 7 --n 40000 \
        --out /tmp/cvss-diff/cvss/random/vectors_random
    VIGIL_TESTDATA=/tmp/cvss-diff cargo test -p vigil-cvss --test reference -- --nocapture

Writes N v2, N v3.0, N v3.1 and 2N v4.0 vectors in Red Hat's test-vector
line format. Optional metrics are drawn with a per-vector probability
(so some vectors have none, some all), v2/v3.x metrics are shuffled (any
order is valid there), v4.0 keeps the specification's order.
"""

import argparse
import random

from cvss import CVSS2, CVSS3, CVSS4

V2 = [("AV", "LAN"), ("AC", "HML"), ("Au", "MSN"), ("C", "NPC"), ("I", "NPC"), ("A", "NPC")]
V2_OPT = [
    ("E", ["U", "POC", "F", "H", "ND"]),
    ("RL", ["OF", "TF", "W", "U", "ND"]),
    ("RC", ["UC", "UR", "C", "ND"]),
    ("CDP", ["N", "L", "LM", "MH", "H", "ND"]),
    ("TD", ["N", "L", "M", "H", "ND"]),
    ("CR", ["L", "M", "H", "ND"]),
    ("IR", ["L", "M", "H", "ND"]),
    ("AR", ["L", "M", "H", "ND"]),
]
V3 = [("AV", "NALP"), ("AC", "LH"), ("PR", "NLH"), ("UI", "NR"), ("S", "UC"),
      ("C", "HLN"), ("I", "HLN"), ("A", "HLN")]
V3_OPT = [("E", "XUPFH"), ("RL", "XOTWU"), ("RC", "XURC"), ("CR", "XLMH"), ("IR", "XLMH"),
          ("AR", "XLMH"), ("MAV", "XNALP"), ("MAC", "XLH"), ("MPR", "XNLH"), ("MUI", "XNR"),
          ("MS", "XUC"), ("MC", "XNLH"), ("MI", "XNLH"), ("MA", "XNLH")]
V4 = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"), ("VC", "HLN"),
      ("VI", "HLN"), ("VA", "HLN"), ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
V4_OPT = [("E", "XAPU"), ("CR", "XHML"), ("IR", "XHML"), ("AR", "XHML"), ("MAV", "XNALP"),
          ("MAC", "XLH"), ("MAT", "XNP"), ("MPR", "XNLH"), ("MUI", "XNPA"), ("MVC", "XHLN"),
          ("MVI", "XHLN"), ("MVA", "XHLN"), ("MSC", "XHLN"), ("MSI", "XSHLN"), ("MSA", "XSHLN"),
          ("S", "XNP"), ("AU", "XNY"), ("R", "XAUI"), ("V", "XDC"), ("RE", "XLMH"),
          ("U", ["X", "Clear", "Green", "Amber", "Red"])]


def draw(rng, mandatory, optional):
    parts = [f"{k}:{rng.choice(list(v))}" for k, v in mandatory]
    p = rng.random()
    parts += [f"{k}:{rng.choice(list(v))}" for k, v in optional if rng.random() < p]
    return parts


def num(x):
    return "None" if x is None else repr(float(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lines = []
    for _ in range(a.n):
        parts = draw(rng, V2, V2_OPT)
        rng.shuffle(parts)
        v = "/".join(parts)
        b, t, e = CVSS2(v).scores()
        lines.append(f"{v} - ({num(b)}, {num(t)}, {num(e)})")
    for minor in ("3.0", "3.1"):
        for _ in range(a.n):
            parts = draw(rng, V3, V3_OPT)
            rng.shuffle(parts)
            v = f"CVSS:{minor}/" + "/".join(parts)
            b, t, e = CVSS3(v).scores()
            lines.append(f"{v} - ({num(b)}, {num(t)}, {num(e)})")
    for _ in range(2 * a.n):
        v = "CVSS:4.0/" + "/".join(draw(rng, V4, V4_OPT))
        lines.append(f"{v} - {num(CVSS4(v).base_score)}")
    import os
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
