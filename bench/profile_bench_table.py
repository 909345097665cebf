#!/usr/bin/env python3
"""The table of bench/profile_gpu_bench.sh: seconds per needle prompt, per prompt length,
of `attnscope-cli profile` (read from its store: the time between consecutive completed
prompts of a run, and each prompt's own split into the model's part and the metrics')
beside Retrieval_Head's algorithm on transformers eager (the JSON lines
bench/retrieval_head_eager.py printed), and the speed-up where both ran.

  python3 bench/profile_bench_table.py --db OUT/profile.db --theirs-log OUT/theirs.log \
      [--theirs-eager-log OUT/theirs_eager.log] [--json table.json]

Only the standard library: sqlite3 and json.
"""
import argparse
import json
import sqlite3
import sys

TARGET = 20.0  # the target: at least 20x faster per prompt where both run


def ours(db_path):
    """{length: [unit dict]} over every profile run's needle prompts, and the runs."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    runs = db.execute("SELECT id, started_ms, status, parameters FROM runs WHERE kind = 'profile' ORDER BY id").fetchall()
    by_length, run_rows = {}, []
    for run_id, started, status, parameters in runs:
        previous = started
        units = db.execute("SELECT task, parameters, outcome, completed_ms FROM units WHERE run_id = ? ORDER BY ordinal",
                           (run_id,)).fetchall()
        lengths = json.loads(parameters).get("lengths", [])
        done = 0
        for task, unit_parameters, outcome, completed in units:
            elapsed, previous = (completed - previous) / 1000.0, completed
            if task != "needle":
                continue
            done += 1
            p, o = json.loads(unit_parameters), json.loads(outcome)
            split = o.get("seconds", {})
            by_length.setdefault(p["length"], []).append(
                {"seconds": elapsed, "model": split.get("model"), "prefill": split.get("prefill"),
                 "answer": split.get("answer"), "metrics": split.get("metrics"), "run": run_id,
                 "tokens": p.get("length")})
        run_rows.append({"run": run_id, "status": status, "lengths": lengths, "needle_prompts": done,
                         "units": len(units)})
    return by_length, run_rows


def theirs(log_path):
    """{length: [seconds]} from the JSON lines of retrieval_head_eager.py; errors apart."""
    by_length, errors = {}, []
    try:
        lines = open(log_path).read().splitlines()
    except OSError:
        return by_length, ["no log: " + log_path]
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "length" not in r:
            continue
        if "seconds" in r:
            by_length.setdefault(r["length"], []).append(r["seconds"])
        else:
            errors.append(f"{r['length']} tokens, depth {r.get('depth')}: {r.get('error')}")
    return by_length, errors


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--theirs-log", required=True)
    ap.add_argument("--theirs-eager-log", help="the same with --prefill eager (the issue's wording of the baseline)")
    ap.add_argument("--json")
    args = ap.parse_args()
    try:
        our, runs = ours(args.db)
    except sqlite3.Error as e:
        print(f"profile_bench_table: cannot read {args.db}: {e}", file=sys.stderr)
        our, runs = {}, []
    their, errors = theirs(args.theirs_log)
    eager, eager_errors = theirs(args.theirs_eager_log) if args.theirs_eager_log else ({}, [])

    rows = []
    for length in sorted(set(our) | set(their) | set(eager)):
        o, t, te = our.get(length, []), their.get(length, []), eager.get(length, [])
        ours_s, theirs_s, eager_s = mean([u["seconds"] for u in o]), mean(t), mean(te)
        rows.append({"length": length, "ours_prompts": len(o), "ours_s": ours_s,
                     "ours_model_s": mean([u["model"] for u in o]), "ours_prefill_s": mean([u["prefill"] for u in o]),
                     "ours_answer_s": mean([u["answer"] for u in o]), "ours_metrics_s": mean([u["metrics"] for u in o]),
                     "theirs_prompts": len(t), "theirs_s": theirs_s,
                     "speedup": theirs_s / ours_s if ours_s and theirs_s else None,
                     "theirs_eager_prompts": len(te), "theirs_eager_s": eager_s,
                     "speedup_eager": eager_s / ours_s if ours_s and eager_s else None})

    print("== profile vs Retrieval_Head (transformers eager), seconds per needle prompt")
    print("ours: attnscope-cli profile --device cuda, every per-prompt metric (capture of every head, 50-token")
    print("answer, retrieval scores, sinks, pattern, density); time between completed prompts, split into the")
    print("model's part (prefill + answer + capture; prefill to the last prompt row's logits, answer: the")
    print("decode steps and the capture's finish, from stores that record them) and the metrics'.")
    print("theirs: retrieval_head_eager.py (sdpa prefill, eager decode with output_attentions, per-head top-1")
    print("loop), seconds per test; eager: the same with an eager prefill (--prefill eager).")
    print(f"{'length':>7} {'ours n':>6} {'ours s':>8} {'model s':>8} {'prefill s':>9} {'answer s':>8} "
          f"{'metrics s':>9} {'theirs n':>8} {'theirs s':>8} {'speed-up':>8} {'eager n':>7} {'eager s':>8} "
          f"{'speed-up':>8}")
    times = lambda v: fmt(v, 1) + ("x" if v else "")  # noqa: E731
    for r in rows:
        print(f"{r['length']:>7} {r['ours_prompts']:>6} {fmt(r['ours_s']):>8} {fmt(r['ours_model_s']):>8} "
              f"{fmt(r['ours_prefill_s']):>9} {fmt(r['ours_answer_s']):>8} "
              f"{fmt(r['ours_metrics_s']):>9} {r['theirs_prompts']:>8} {fmt(r['theirs_s']):>8} "
              f"{times(r['speedup']):>8} {r['theirs_eager_prompts']:>7} {fmt(r['theirs_eager_s']):>8} "
              f"{times(r['speedup_eager']):>8}")
    for key, name in (("speedup", "sdpa prefill"), ("speedup_eager", "eager prefill")):
        both = [r for r in rows if r[key]]
        if both:
            worst = min(r[key] for r in both)
            verdict = "met" if worst >= TARGET else "NOT met"
            print(f"target >= {TARGET:.0f}x per prompt where both run, theirs with {name}: {verdict} "
                  f"(lowest {worst:.1f}x, at {', '.join(str(r['length']) for r in both)} tokens)")
        else:
            print(f"target, theirs with {name}: no length ran on both sides")
    for r in runs:
        print(f"run {r['run']}: {r['status']}, {r['needle_prompts']} needle prompts of lengths {r['lengths']}, "
              f"{r['units']} units")
    for e in errors:
        print("theirs:", e)
    for e in eager_errors:
        print("theirs eager:", e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "runs": runs, "theirs_errors": errors, "theirs_eager_errors": eager_errors,
                       "target": TARGET}, f, indent=1)
        print()


if __name__ == "__main__":
    main()
