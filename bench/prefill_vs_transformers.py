#!/usr/bin/env python3
"""GPU prefill: AttnScope's CUDA backend beside transformers, on a Llama-3-8B-shaped model.

On one random-weight checkpoint (bench/make_random_checkpoint.py --shape llama3-8b; made
when missing) and the same random prompt, at each length:
  ours      bench/prefill_bench --device cuda (bf16, chunked prefill), capture off, and
            capture on: every head of every layer (sink and local mass, column and
            diagonal sums, entropy, top-1, pooled map; no exact probabilities);
  sdpa      transformers bf16, attn_implementation="sdpa", model(input_ids,
            logits_to_keep=1) (the vocabulary projection of the last row only);
  eager     transformers bf16, eager attention with output_attentions=True: how people
            capture attention today; it keeps every layer's [heads, n, n] map, so it
            runs out of memory early, which is reported with the memory it reached.
Each timed run is synchronised (our logits download; torch.cuda.synchronize); warm-up
first; the median of up to --repeats runs (fewer once a length's runs took
--max-seconds). Peak memory: ours, the most our live tensors held (weights, KV cache,
activations, capture buffers); transformers, torch.cuda.max_memory_allocated. Each
transformers length runs in its own try: an out-of-memory error is a result.
Everything fits --deadline-s seconds (the checkpoint included): what would not is
skipped and marked. Prints one table; --json writes every number.

  python3 bench/prefill_vs_transformers.py --build build-gpu
      [--ckpt /tmp/attnscope-bench/llama3-8b] [--lengths 4096,8192,32768,131072]
      [--repeats 3] [--max-seconds 6] [--chunk 4096] [--deadline-s 400] [--json FILE]
Needs a CUDA GPU with 80 GB, PyTorch, transformers >= 5, and prefill_bench built with CUDA.
"""
import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_random_checkpoint  # noqa: E402
from transformers_support import forward_last, load_model, set_attention  # noqa: E402

GIB = float(1 << 30)


def partial_stdout(e):
    out = e.stdout or b""
    return out.decode(errors="replace") if isinstance(out, bytes) else out


def json_lines(text):
    rows = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line cut by a timeout
    return rows


def run_ours(a, ids_file, timeout):
    """prefill_bench's rows by (length, capture), and a note on how it ended."""
    cmd = [os.path.join(a.build, "bench", "prefill_bench"), "--model", a.ckpt, "--device", a.ours_device,
           "--lengths", a.lengths, "--capture-modes", "off,on", "--repeats", str(a.repeats),
           "--max-seconds", str(a.max_seconds), "--chunk", str(a.chunk), "--ids-file", ids_file]
    print("ours:", " ".join(cmd), f"(time limit {timeout:.0f} s)", flush=True)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        text, note = done.stdout, ("" if done.returncode == 0 else
                                   f"prefill_bench failed (rc {done.returncode}): {done.stderr.strip()[-600:]}")
        sys.stderr.write(done.stderr)
    except subprocess.TimeoutExpired as e:
        text, note = partial_stdout(e), f"prefill_bench stopped at its time limit ({timeout:.0f} s)"
    return {(r["length"], r["capture"]): r for r in json_lines(text)}, note


def run_transformers(a, ids_file, deadline):
    """The worker's rows by (implementation, length), and a note on how it ended."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--ckpt", a.ckpt, "--lengths", a.lengths,
           "--repeats", str(a.repeats), "--max-seconds", str(a.max_seconds), "--ids-file", ids_file,
           "--deadline-at", str(deadline), "--device", a.device]
    timeout = max(1.0, deadline - time.time() + 10)  # the worker keeps its deadline; this is the backstop
    print("transformers:", " ".join(cmd[1:3]), "...", flush=True)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        text, note = done.stdout, ("" if done.returncode == 0 else
                                   f"transformers worker failed (rc {done.returncode}): {done.stderr.strip()[-600:]}")
    except subprocess.TimeoutExpired as e:
        text, note = partial_stdout(e), "transformers worker stopped at its time limit"
    rows = json_lines(text)
    meta = next((r for r in rows if r.get("event") == "loaded"), {})
    return {(r["impl"], r["length"]): r for r in rows if "impl" in r}, meta, note


# ---- the transformers worker (a subprocess, so that a hard time limit keeps its results)

def emit(row):
    print(json.dumps(row), flush=True)


def measure(model, ids, n, output_attentions, repeats, max_seconds, device, deadline):
    """One length: median seconds of up to `repeats` runs (fewer once they took
    max_seconds or another would pass the deadline), or the out-of-memory it hit."""
    cuda = device.startswith("cuda")  # (a CPU run only checks this script)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    peak = (lambda: torch.cuda.max_memory_allocated() / GIB) if cuda else (lambda: 0.0)
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    extra = {"output_attentions": True} if output_attentions else {}
    times = []
    try:
        with torch.inference_mode():
            while len(times) < repeats and (not times or (sum(times) < max_seconds and
                                                           time.time() + times[-1] < deadline)):
                sync()
                start = time.perf_counter()
                out, _ = forward_last(model, 1, input_ids=ids[:, :n], **extra)
                sync()
                times.append(time.perf_counter() - start)
                del out
    except (torch.cuda.OutOfMemoryError, RuntimeError) as e:
        # cuBLAS and some kernels report running out as a RuntimeError.
        if not isinstance(e, torch.cuda.OutOfMemoryError) and "out of memory" not in str(e):
            return {"status": "error", "message": str(e)[:300], "runs": len(times)}
        tried = re.search(r"Tried to allocate ([0-9.]+ [KMG]iB)", str(e))
        return {"status": "oom", "peak_gib": peak(), "tried": tried.group(1) if tried else None, "runs": len(times)}
    times.sort()
    k = len(times)
    median = times[k // 2] if k % 2 else 0.5 * (times[k // 2 - 1] + times[k // 2])
    return {"status": "ok", "runs": k, "seconds": times[0], "seconds_median": median,
            "tokens_per_s_median": n / median, "peak_gib": peak(),
            "reserved_gib": torch.cuda.max_memory_reserved() / GIB if cuda else 0.0}


def worker(a):
    import transformers
    lengths = [int(x) for x in a.lengths.split(",")]
    start = time.time()
    model = load_model(a.ckpt, torch.bfloat16, a.device)
    ids = torch.from_numpy(np.fromfile(a.ids_file, dtype=np.int32).astype(np.int64))[None].to(a.device)
    with torch.inference_mode():  # warm-up: kernels, cuBLAS handles, the caching allocator
        out, _ = forward_last(model, 1, input_ids=ids[:, :min(lengths[0], 2048)])
    cuda = a.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
    emit({"event": "loaded", "seconds": time.time() - start, "transformers": transformers.__version__,
          "torch": torch.__version__, "device": torch.cuda.get_device_name() if cuda else a.device,
          "logits_rows": int(out.logits.shape[1])})  # 1 when logits_to_keep took effect
    del out
    for impl in ("sdpa", "eager"):
        set_attention(model, impl)
        last = None  # (n, seconds of one run) for the estimate of the next length
        for n in lengths:
            # Attention grows with n^2: a conservative guess from the previous length. A
            # length past one that ran out of memory fails fast: it is tried all the same.
            estimate = 5.0 if last is None else last[1] * (n / last[0]) ** 2
            if time.time() + estimate > a.deadline_at:
                emit({"impl": impl, "length": n, "status": "skipped", "estimate_s": estimate})
                continue
            r = measure(model, ids, n, impl == "eager", a.repeats, a.max_seconds, a.device, a.deadline_at)
            emit(dict(r, impl=impl, length=n))
            last = (n, r["seconds_median"]) if r["status"] == "ok" else None
    return 0


# ---- the table

def cell(value, fmt="{:.0f}", width=9):
    return f"{'--' if value is None else fmt.format(value):>{width}}"


def print_table(shape, lengths, ours, hf, meta, notes):
    print(f"\n== prefill table: {shape} random checkpoint, bf16, batch 1; {meta.get('device', '?')}; "
          f"transformers {meta.get('transformers', '?')}, torch {meta.get('torch', '?')}; tokens/s of the median run")
    print(f"{'length':>7} {'ours off':>9} {'ours on':>9} {'on/off':>6} {'HF sdpa':>9} {'ours/HF':>7} "
          f"{'on/HF':>6} {'HF eager+attentions':>22} | peak GiB: {'ours off':>8} {'ours on':>8} {'sdpa':>6} {'eager':>6}")
    rows = []
    for n in lengths:
        off, on = ours.get((n, False)), ours.get((n, True))
        sdpa, eager = hf.get(("sdpa", n)), hf.get(("eager", n))
        t_off = off and off["tokens_per_s_median"]
        t_on = on and on["tokens_per_s_median"]
        t_hf = sdpa["tokens_per_s_median"] if sdpa and sdpa["status"] == "ok" else None
        if eager is None:
            eager_text = "--"
        elif eager["status"] == "ok":
            eager_text = f"{eager['tokens_per_s_median']:.0f}"
        elif eager["status"] == "oom":
            eager_text = f"OOM at {eager['peak_gib']:.1f} GiB" + (f" +{eager['tried']}" if eager["tried"] else "")
        else:
            eager_text = eager["status"]
        sdpa_text = cell(t_hf) if sdpa is None or sdpa["status"] == "ok" else f"{sdpa['status'].upper():>9}"
        ratio = lambda x, y: x / y if x and y else None  # noqa: E731
        print(f"{n:>7} {cell(t_off)} {cell(t_on)} {cell(ratio(t_on, t_off), '{:.2f}', 6)} {sdpa_text} "
              f"{cell(ratio(t_off, t_hf), '{:.2f}', 7)} {cell(ratio(t_on, t_hf), '{:.2f}', 6)} {eager_text:>22} | "
              f"{'':>9} {cell(off and off.get('device_peak_gib'), '{:.1f}', 8)} {cell(on and on.get('device_peak_gib'), '{:.1f}', 8)} "
              f"{cell(sdpa and sdpa.get('peak_gib'), '{:.1f}', 6)} {cell(eager and eager.get('peak_gib'), '{:.1f}', 6)}")
        rows.append({"length": n, "ours_off": off, "ours_on": on, "transformers_sdpa": sdpa,
                     "transformers_eager_output_attentions": eager,
                     "ours_on_over_off": ratio(t_on, t_off), "ours_over_transformers": ratio(t_off, t_hf),
                     "ours_capture_over_transformers": ratio(t_on, t_hf)})
    for note in notes:
        print("note:", note)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-gpu")
    ap.add_argument("--ckpt", default="/tmp/attnscope-bench/llama3-8b")
    ap.add_argument("--lengths", default="4096,8192,32768,131072")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=6.0)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--deadline-s", type=float, default=540.0)
    ap.add_argument("--device", default="cuda", help="where transformers runs (cpu: checks this script only)")
    ap.add_argument("--ours-device", default="cuda", help="prefill_bench --device")
    ap.add_argument("--shape", default="llama3-8b", help="make_random_checkpoint shape (others: quick checks)")
    ap.add_argument("--layers", type=int, help="override the checkpoint's depth (quick checks)")
    ap.add_argument("--json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ids-file", help=argparse.SUPPRESS)
    ap.add_argument("--deadline-at", type=float, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a)

    start = time.time()
    deadline = start + a.deadline_s
    lengths = [int(x) for x in a.lengths.split(",")]
    config = make_random_checkpoint.write_checkpoint(a.ckpt, a.shape, layers=a.layers)
    print(f"checkpoint ready after {time.time() - start:.0f} s", flush=True)
    ids_file = os.path.join(tempfile.gettempdir(), "attnscope_prefill_ids.i32")
    np.random.default_rng(7).integers(0, config["vocab_size"], max(lengths)).astype("<i4").tofile(ids_file)

    notes = []
    # Ours first, with half of what is left; transformers gets the rest (its worker skips
    # the lengths it cannot finish in time).
    ours_limit = 0.5 * (deadline - time.time())
    ours, note = run_ours(a, ids_file, ours_limit) if ours_limit > 20 else ({}, "ours: not run (deadline)")
    if note:
        notes.append(note)
    if deadline - time.time() > 20:
        hf, meta, note = run_transformers(a, ids_file, deadline)
    else:
        hf, meta, note = {}, {}, "transformers: not run (deadline)"
    if note:
        notes.append(note)
    for n in lengths:
        for capture in (False, True):
            if (n, capture) not in ours:
                notes.append(f"ours at {n} tokens, capture {'on' if capture else 'off'}: not measured (time limit)")
        for impl in ("sdpa", "eager"):
            r = hf.get((impl, n))
            if r is None or r["status"] == "skipped":
                notes.append(f"transformers {impl} at {n} tokens: not measured (deadline)")
    if meta and meta.get("logits_rows", 1) != 1:
        notes.append("transformers computed the logits of every position (no logits_to_keep): its times include them")
    if meta:
        notes.append(f"transformers loaded the checkpoint in {meta['seconds']:.0f} s; ours in "
                     f"{next(iter(ours.values()))['load_seconds'] if ours else float('nan'):.0f} s")
    rows = print_table(a.shape + (f' ({a.layers} layers)' if a.layers else ''), lengths, ours, hf, meta, notes)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"checkpoint": a.ckpt, "config": config, "lengths": lengths, "chunk": a.chunk,
                       "repeats": a.repeats, "max_seconds": a.max_seconds, "transformers": meta, "rows": rows,
                       "notes": notes, "seconds": time.time() - start}, f, indent=1)
    return 0 if ours and hf else 1


if __name__ == "__main__":
    sys.exit(main())
