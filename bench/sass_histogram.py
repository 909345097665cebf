#!/usr/bin/env python3
"""Static SASS instruction counts of the kernels whose (mangled) name matches a pattern,
from `cuobjdump -sass` listings, one column per listing: what a kernel change did to the
instructions of its loops before any timing (bench/ab_gpu_bench.sh --sass passes the
new and the base build's listings). Opcodes are counted with their modifiers cut at the
first dot (FADD, HGMMA, MUFU, ...); predicated instructions count too. The counts are of
the code, not of what runs: a loop body counts once.

  python3 bench/sass_histogram.py PATTERN new.sass [base.sass ...] [--top 30]
"""
import argparse
import collections
import re
import sys

INSTRUCTION = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)(?:\.[A-Z0-9_.]*)?[^;]*;")


def kernels(listing):
    """(name, body) per function of a cuobjdump -sass listing."""
    parts = re.split(r"\n\s*Function : ", "\n" + listing)
    for part in parts[1:]:
        name, _, body = part.partition("\n")
        yield name.strip(), body.split("code for sm_")[0]


def histogram(path, pattern):
    counts, names = collections.Counter(), []
    with open(path, encoding="utf-8", errors="replace") as f:
        for name, body in kernels(f.read()):
            if pattern.search(name):
                names.append(name)
                counts.update(INSTRUCTION.findall(body))
    return counts, names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", help="regular expression on the mangled kernel names")
    parser.add_argument("listings", nargs="+", help="cuobjdump -sass outputs, one column each")
    parser.add_argument("--top", type=int, default=30, help="opcodes shown, most frequent in the first listing")
    args = parser.parse_args()
    pattern = re.compile(args.pattern)
    columns = []
    for path in args.listings:
        counts, names = histogram(path, pattern)
        if not names:
            print(f"sass_histogram.py: no kernel in {path} matches {args.pattern}", file=sys.stderr)
            return 2
        print(f"{path}: {len(names)} kernel(s), e.g. {names[0][:90]}")
        columns.append(counts)
    opcodes = sorted(set().union(*columns), key=lambda op: (-columns[0][op], op))
    print(f"{'opcode':<14}" + "".join(f"{i:>10}" for i in range(len(columns))))
    for op in opcodes[: args.top]:
        print(f"{op:<14}" + "".join(f"{c[op]:>10}" for c in columns))
    print(f"{'all':<14}" + "".join(f"{sum(c.values()):>10}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
