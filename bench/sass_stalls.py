#!/usr/bin/env python3
"""Sums an Nsight Compute source page (--page source --print-source sass --csv) by
instruction kind: executed instructions and warp stall samples per opcode, the stall
reasons where the page has them, and the instructions holding the most samples.

    python3 bench/sass_stalls.py PROFILE.sass.csv[.gz] [--top 25]
"""
import argparse
import collections
import csv
import gzip
import signal
import sys


def read_rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        lines = f.read().splitlines()
    start = next((i for i, line in enumerate(lines) if "Source" in line and "Address" in line), None)
    if start is None:
        sys.exit(f"{path}: no header line with 'Address' and 'Source' (not a source page CSV?)")
    reader = csv.reader(lines[start:])
    header = next(reader)
    return header, [row for row in reader if len(row) == len(header)]


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def opcode(source):
    words = source.strip().split()
    if words and words[0].startswith("@"):
        words = words[1:]
    return words[0].rstrip(";") if words else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    header, rows = read_rows(args.csv)
    column = {name: i for i, name in enumerate(header)}
    source = column.get("Source")
    samples = next((column[c] for c in header if c.startswith("Warp Stall Sampling (All")), None)
    executed = column.get("Warp Instructions Executed", column.get("Instructions Executed"))
    if source is None or samples is None:
        sys.exit(f"{args.csv}: columns Source / Warp Stall Sampling not found; header: {header}")
    # Per-reason sample columns, where this ncu version writes them.
    reasons = [c for c in header if c.startswith("stall_") and "Not Issued" not in c]

    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    by_reason = collections.Counter()
    total_samples = total_executed = 0.0
    for row in rows:
        op = opcode(row[source])
        s = number(row[samples])
        e = number(row[executed]) if executed is not None else 0.0
        by_op[op][0] += e
        by_op[op][1] += s
        total_samples += s
        total_executed += e
        for r in reasons:
            by_reason[r] += number(row[column[r]])

    print(f"{len(rows)} instructions, {total_executed:.0f} warp instructions executed, {total_samples:.0f} samples")
    print(f"{'opcode':<14}{'executed':>14}{'%exec':>7}{'samples':>10}{'%samp':>7}")
    for op, (e, s) in sorted(by_op.items(), key=lambda kv: -kv[1][1])[:30]:
        print(f"{op:<14}{e:>14.0f}{100 * e / max(total_executed, 1):>7.1f}{s:>10.0f}{100 * s / max(total_samples, 1):>7.1f}")
    if by_reason:
        print("stall reasons (samples):")
        for r, s in by_reason.most_common(20):
            print(f"  {r:<60}{s:>10.0f}{100 * s / max(total_samples, 1):>7.1f}%")
    print(f"top {args.top} instructions by samples:")
    address = column.get("Address", column.get("# Address"))
    ranked = sorted(rows, key=lambda row: -number(row[samples]))[: args.top]
    for row in ranked:
        where = row[address] if address is not None else "?"
        print(f"  {where:>8} {number(row[samples]):>8.0f}  {row[source].strip()[:90]}")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # piped into head: stop quietly
    main()
