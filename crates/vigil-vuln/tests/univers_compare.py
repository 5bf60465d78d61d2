"""Evaluate Vigil's version cases with univers and print the disagreements.

Input (argv[1]): JSON written by the `univers` integration test:
  {"cases": [{"eco": "pypi", "kind": "cmp", "a": "1.0", "b": "1.1", "ours": "<"},
             {"eco": "pypi", "kind": "valid", "v": "1.0-", "ours": false},
             {"eco": "pypi", "kind": "range", "vers": "vers:pypi/>=1.0|<2.0", "v": "1.5", "ours": true}]}
Output (stdout): JSON {"univers": "<version>", "results": [{"index": i, "univers": verdict}, ...]}
with one entry per case whose univers verdict differs from "ours".
"""

import json
import sys
from importlib.metadata import version as pkg_version

from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange
from univers.versions import SemverVersion

# Vigil scheme -> univers vers scheme
SCHEMES = {
    "semver": None,
    "npm": "npm",
    "cargo": "cargo",
    "pep440": "pypi",
    "maven": "maven",
    "go": "golang",
    "nuget": "nuget",
    "gem": "gem",
    "composer": "composer",
    "dpkg": "deb",
    "apk": "apk",
    "rpm": "rpm",
}


def version_class(eco):
    scheme = SCHEMES[eco]
    if scheme is None:
        return SemverVersion
    return RANGE_CLASS_BY_SCHEMES[scheme].version_class


def parse(cls, v):
    try:
        if hasattr(cls, "is_valid") and not cls.is_valid(v):
            return None
        return cls(v)
    except Exception:
        return None


def verdict_cmp(cls, a, b):
    va, vb = parse(cls, a), parse(cls, b)
    if va is None:
        return "invalid-a"
    if vb is None:
        return "invalid-b"
    try:
        if va == vb:
            return "=="
        return "<" if va < vb else ">"
    except Exception as e:
        return f"error: {e}"


def verdict_range(case):
    try:
        r = VersionRange.from_string(case["vers"])
        cls = r.version_class
        v = parse(cls, case["v"])
        if v is None:
            return "invalid"
        return v in r
    except Exception as e:
        return f"error: {type(e).__name__}"


def main():
    data = json.load(open(sys.argv[1]))
    out = []
    for i, case in enumerate(data["cases"]):
        cls = version_class(case["eco"])
        if case["kind"] == "cmp":
            got = verdict_cmp(cls, case["a"], case["b"])
        elif case["kind"] == "valid":
            got = parse(cls, case["v"]) is not None
        else:
            got = verdict_range(case)
        if got != case["ours"]:
            out.append({"index": i, "univers": got})
    json.dump({"univers": pkg_version("univers"), "results": out}, sys.stdout)


if __name__ == "__main__":
    main()
