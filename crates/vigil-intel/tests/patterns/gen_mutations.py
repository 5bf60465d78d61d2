"""Generates the mutated half of corpus.txt from hand-written base patterns.

Deterministic (seeded). Usage: python3 gen_mutations.py > mutated.txt
The verdict column is filled by the validator harness (see tests/patterns.rs);
this script only prints candidate patterns, one per line.
"""
import random

BASE = [
    "[ipv4-addr:value = '198.51.100.1']",
    "[ipv4-addr:value = '203.0.113.0/24']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[domain-name:value = 'example.com']",
    "[domain-name:value = 'evil.example' OR ipv4-addr:value = '192.0.2.7']",
    "[url:value = 'http://example.com/a?b=c']",
    "[email-addr:value = 'bad@example.org']",
    "[email-message:from_ref.value = 'x@example.net']",
    "[email-message:to_refs[*].value = 'y@example.net']",
    "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']",
    "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
    "[file:hashes.'SHA-1' = '" + "cd" * 20 + "']",
    "[file:hashes.SHA512 = '" + "ef" * 64 + "']",
    "[file:name = 'setup.exe' AND file:size > 1024]",
    "[file:size >= 10 AND file:size <= 20.5]",
    "[process:pid < -1 OR process:name != 'cmd.exe']",
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']",
    "[network-traffic:dst_port IN (80, 443, 8080)]",
    "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0']",
    "[file:name LIKE '%.exe']",
    "[file:name MATCHES '^[a-z]+\\\\.dll$']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
    "[file:name NOT = 'a.txt']",
    "[EXISTS file:hashes.MD5]",
    "[NOT EXISTS process:parent_ref]",
    "[artifact:payload_bin = b'SGVsbG8=']",
    "[file:magic_number_hex = h'4d5a']",
    "[file:created = t'2020-01-01T00:00:00Z']",
    "[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'x']",
    "[x-custom-object:some_property = true]",
    "[user-account:is_disabled = false]",
    "[a:b = 1] AND [c:d = 2]",
    "[a:b = 1] OR [c:d = 2] AND [e:f = 3]",
    "[a:b = 1] FOLLOWEDBY [c:d = 2]",
    "([a:b = 1] AND [c:d = 2]) FOLLOWEDBY [e:f = 'g']",
    "[a:b = 1] WITHIN 300 SECONDS",
    "[a:b = 1] WITHIN 2.5 SECONDS",
    "[a:b = 1] REPEATS 5 TIMES",
    "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.123Z'",
    "([a:b = 1] OR [c:d = 2]) REPEATS 2 TIMES WITHIN 60 SECONDS",
    "[a:b = 1 AND (c:d = 2 OR c:e = 'x\\'y')]",
    "[a:'quoted key'.next = -0.5]",
    "[a:list[*].x = +7]",
]

MUTATION_CHARS = list("[]()'\":.,=<>!*-+/ \\tAb0") + ["AND", "OR", "NOT", "IN", "WITHIN", "FOLLOWEDBY", "t'", "h'", "b'"]
KEYWORD_SWAPS = [
    ("AND", "and"), ("OR", "or"), ("=", "=="), ("=", "<>"), ("=", "!="), ("=", "=>"),
    ("=", ":="), ("SECONDS", "SECOND"), ("TIMES", "TIME"), ("REPEATS 5", "REPEATS -5"),
    ("REPEATS 5", "REPEATS 5.0"), ("WITHIN 300", "WITHIN -300"), ("t'2016-06-01", "t'2016-13-01"),
    ("t'2020-01-01T00:00:00Z'", "'2020-01-01T00:00:00Z'"), ("t'2020-01-01T00:00:00Z'", "t'2020-01-01 00:00:00Z'"),
    ("h'4d5a'", "h'4d5'"), ("h'4d5a'", "h'4g5a'"), ("b'SGVsbG8='", "b'SGVsbG8'"), ("b'SGVsbG8='", "b'SGVsbG8=='"),
    ("'", '"'), ("[", "{"), ("]", "}"), (".MD5", ".md5"), ("'SHA-256'", "SHA-256"), ("'SHA-256'", "'SHA256'"),
    ("[*]", "[]"), ("[*]", "[1]"), ("[0]", "[x]"), ("ipv4-addr", "ipv4_addr"), ("ipv4-addr", "4ipv-addr"),
    ("file:", "file::"), ("file:", "file "), ("true", "True"), ("false", "FALSE"), ("IN (", "IN ["),
    ("IN (80, 443, 8080)", "IN ()"), ("IN (80, 443, 8080)", "IN (80,)"), ("IN (80, 443, 8080)", "IN 80"),
    ("LIKE '%.exe'", "LIKE 5"), ("MATCHES", "MATCH"), ("NOT =", "= NOT"), ("EXISTS", "EXIST"),
    (" AND ", " AND AND "), (" OR ", " "), ("FOLLOWEDBY", "FOLLOWED BY"), ("1024", "01024"), ("-1", "- 1"),
    ("20.5", "20."), ("20.5", ".5"), ("-0.5", "-.5"),
]


def mutate(rng, p):
    op = rng.randrange(6)
    if op == 0 and len(p) > 1:  # delete one character
        i = rng.randrange(len(p))
        return p[:i] + p[i + 1:]
    if op == 1:  # insert a token or character
        i = rng.randrange(len(p) + 1)
        return p[:i] + rng.choice(MUTATION_CHARS) + p[i:]
    if op == 2:  # keyword / literal swap
        cands = [(a, b) for a, b in KEYWORD_SWAPS if a in p]
        if cands:
            a, b = rng.choice(cands)
            return p.replace(a, b, 1)
    if op == 3:  # duplicate a qualifier or wrap
        return rng.choice([p + " WITHIN 5 SECONDS", p + " REPEATS 2 TIMES", "(" + p + ")", "((" + p + "))",
                           p + " AND", "NOT " + p, p + " " + p, p + " /* c */", p + " // c"])
    if op == 4 and len(p) > 2:  # truncate
        return p[: rng.randrange(1, len(p))]
    # swap two adjacent whitespace-separated words
    w = p.split(" ")
    if len(w) > 2:
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
    return " ".join(w)


def main():
    rng = random.Random(20261127)
    seen = set(BASE)
    out = list(BASE)
    while len(out) < 420:
        p = mutate(rng, rng.choice(BASE))
        if rng.random() < 0.3:
            p = mutate(rng, p)
        if p and "\n" not in p and "\t" not in p and p not in seen:
            seen.add(p)
            out.append(p)
    for p in out:
        print(p)


if __name__ == "__main__":
    main()
