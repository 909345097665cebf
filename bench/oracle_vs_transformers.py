#!/usr/bin/env python3
"""Greedy decoding on AttnScope's CUDA backend (bf16) against transformers, per architecture.

For each shape (random checkpoints of bench/make_random_checkpoint.py: small Llama,
Mistral, Qwen2, Qwen3 and GPT-2 models, and the Llama-3-8B-shaped one) and a few random
prompts (64 to 512 tokens):
  1. transformers in bf16 with attn_implementation="sdpa" decodes greedily (KV cache, no
     stop at EOS) and keeps the logits of every step;
  2. the same model upcast to float32 computes those steps' logits on the same tokens
     (one forward over prompt + generated tokens): the reference;
  3. bench/oracle_run decodes greedily on our backend (free run), then again feeding
     transformers' tokens (forced run), so that every step's logits see the same context.
Compared: the greedy tokens of the free run; where a token differs, transformers' top-2
margin there and whether it is a tie within bf16 noise (the gap between the two tokens in
transformers' bf16 logits is at most twice transformers' own bf16 error at that step, or
float32 chooses our token) or a real mismatch; and per step the logits error
max|diff| / max|reference logit| of ours and of transformers' bf16, both against float32.
Bound per shape: ours <= 2 x transformers' bf16 error + 2^-8. Exit code 1 on a real token
mismatch or a logits error over the bound, 2 when a shape could not be run.

  python3 bench/oracle_vs_transformers.py --oracle build-gpu/bench/oracle_run
      [--shapes llama,mistral,qwen2,qwen3,gpt2,llama3-8b] [--work /tmp/attnscope-oracle]
      [--ckpt-8b DIR] [--prompts 3] [--steps 16] [--json FILE] [--deadline-s S]
Needs a CUDA GPU, PyTorch and transformers >= 5 (the GPU machine has them).
"""
import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_random_checkpoint  # noqa: E402
from transformers_support import forward_last, load_model  # noqa: E402

BF16_U = 2.0 ** -8  # unit roundoff of bf16
SMALL_SHAPES = ["llama", "mistral", "qwen2", "qwen3", "gpt2"]
# Seconds a shape needs at least (load, decode, ours); a shape is skipped when less is left.
NEEDED_S = {"llama3-8b": 90}


@torch.inference_mode()
def hf_greedy(model, prompt, steps, device):
    """transformers' greedy decoding with its KV cache: (logits [steps, vocab], tokens)."""
    out, row = forward_last(model, 1, input_ids=torch.tensor([prompt], device=device), use_cache=True)
    rows, tokens = [], []
    for s in range(steps):
        rows.append(row[0].cpu())
        tokens.append(int(torch.argmax(row[0])))
        if s + 1 == steps:
            break
        out, row = forward_last(model, 1, input_ids=torch.tensor([[tokens[-1]]], device=device),
                               past_key_values=out.past_key_values, use_cache=True)
    return torch.stack(rows).numpy(), tokens


@torch.inference_mode()
def hf_forced(model, prompt, tokens, device):
    """Logits of the steps that chose `tokens`, in one forward: [len(tokens), vocab]."""
    ids = torch.tensor([list(prompt) + list(tokens[:-1])], device=device)
    _, rows = forward_last(model, len(tokens), input_ids=ids, use_cache=False)
    return rows.cpu().numpy()


def run_ours(oracle, device, ckpt, prompts, follow, steps, work, timeout):
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "requests.json"), "w") as f:
        json.dump({"prompts": prompts, "follow": follow}, f)
    cmd = [oracle, "--model", ckpt, "--requests", os.path.join(work, "requests.json"), "--out", work,
           "--device", device, "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"oracle_run failed (rc {done.returncode}): {done.stderr.strip()[-800:]}")
    with open(os.path.join(work, "result.json")) as f:
        result = json.load(f)
    vocab = result["vocab"]
    forced = [np.fromfile(os.path.join(work, f"forced.{i}.f32"), dtype=np.float32).reshape(steps, vocab)
              for i in range(len(prompts))]
    return result, forced


def row_error(a, ref):
    """max |a - ref| / max |ref| of one logits row."""
    return float(np.abs(a.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30))


def classify(step, theirs, ours_token, hf16, hf32):
    """A step where our token differs from transformers' (same context): tie or mismatch."""
    row = hf16[step].astype(np.float64)
    top2 = np.sort(row)[-2:]
    gap = float(row[theirs] - row[ours_token])
    if hf32 is not None:
        noise = 2 * float(np.abs(row - hf32[step]).max())
        fp32_token = int(np.argmax(hf32[step]))
    else:  # no float32 reference: four half-units of bf16 at the row's largest logit
        noise = 4 * BF16_U * float(np.abs(row).max())
        fp32_token = None
    if fp32_token == ours_token:
        verdict = "tie (float32 chooses ours)"
    elif gap <= noise:
        verdict = "tie (within bf16 noise)"
    else:
        verdict = "MISMATCH"
    return {"step": step, "transformers": theirs, "ours": ours_token, "top2_margin": float(top2[1] - top2[0]),
            "gap_to_ours": gap, "noise": noise, "float32_token": fp32_token, "verdict": verdict}


def compare_prompt(prompt, hf_tokens, hf16, hf32, ours_free, ours_forced_argmax, ours_forced):
    ref = hf32 if hf32 is not None else hf16
    steps = len(hf_tokens)
    errors = {"ours_vs_reference": [row_error(ours_forced[s], ref[s]) for s in range(steps)],
              "transformers_bf16_vs_float32": ([row_error(hf16[s], hf32[s]) for s in range(steps)]
                                               if hf32 is not None else None),
              "ours_vs_transformers_bf16": [row_error(ours_forced[s], hf16[s]) for s in range(steps)]}
    first = next((s for s in range(steps) if ours_free[s] != hf_tokens[s]), None)
    divergence = None if first is None else classify(first, hf_tokens[first], ours_free[first], hf16, hf32)
    forced = [classify(s, hf_tokens[s], ours_forced_argmax[s], hf16, hf32)
              for s in range(steps) if ours_forced_argmax[s] != hf_tokens[s]]
    return {"length": len(prompt), "transformers_tokens": hf_tokens, "ours_tokens": ours_free,
            "greedy_equal_steps": steps if first is None else first, "divergence": divergence,
            "forced_disagreements": forced, "errors": errors}


def run_shape(shape, args, deadline):
    """Runs one shape; returns its result dict (with "status")."""
    started = time.time()
    if shape == "llama3-8b":
        ckpt = args.ckpt_8b or os.path.join(args.work, shape)
    else:
        ckpt = os.path.join(args.work, shape)
    config = make_random_checkpoint.write_checkpoint(ckpt, shape)
    vocab = config["vocab_size"]
    rng = random.Random(1000 + make_random_checkpoint.SHAPES.index(shape))
    lengths = [args.min_len, rng.randint(args.min_len + 1, args.max_len - 1), args.max_len][:args.prompts]
    while len(lengths) < args.prompts:
        lengths.append(rng.randint(args.min_len, args.max_len))
    prompts = [[rng.randrange(3, vocab) for _ in range(n)] for n in lengths]

    model = load_model(ckpt, torch.bfloat16, args.device)
    params = sum(p.numel() for p in model.parameters())
    bf16 = [hf_greedy(model, p, args.steps, args.device) for p in prompts]
    hf16 = [b[0] for b in bf16]
    hf_tokens = [b[1] for b in bf16]
    hf32, fp32_note = None, "float32 reference"
    try:
        model.to(torch.float32)
        hf32 = [hf_forced(model, p, t, args.device) for p, t in zip(prompts, hf_tokens)]
    except torch.cuda.OutOfMemoryError:
        fp32_note = "float32 did not fit: reference is transformers bf16"
    del model
    gc.collect()
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()

    left = deadline - time.time()
    result, forced = run_ours(args.oracle, args.ours_device, ckpt, prompts, hf_tokens, args.steps,
                              os.path.join(args.work, "out-" + shape), max(10.0, left) if left < 1e6 else None)
    comparisons = [compare_prompt(p, hf_tokens[i], hf16[i], hf32[i] if hf32 else None,
                                  result["prompts"][i]["greedy"], result["prompts"][i]["forced_argmax"], forced[i])
                   for i, p in enumerate(prompts)]
    worst_ours = max(max(c["errors"]["ours_vs_reference"]) for c in comparisons)
    worst_hf = (max(max(c["errors"]["transformers_bf16_vs_float32"]) for c in comparisons) if hf32 else None)
    bound = 2 * worst_hf + BF16_U if worst_hf is not None else None
    # The free run's divergence is also a forced-run disagreement (same context): count it once.
    mismatches = sum(d["verdict"] == "MISMATCH" for c in comparisons for d in c["forced_disagreements"])
    mismatches += sum(1 for c in comparisons if c["divergence"] and c["divergence"]["verdict"] == "MISMATCH" and
                      all(d["step"] != c["divergence"]["step"] for d in c["forced_disagreements"]))
    return {"shape": shape, "status": "ok", "architecture": config["architectures"][0], "parameters": params,
            "checkpoint": ckpt, "ours_backend": result["backend"], "reference": fp32_note,
            "prompts": comparisons, "worst_ours_error": worst_ours, "worst_transformers_bf16_error": worst_hf,
            "bound": bound, "logits_within_bound": bound is None or worst_ours <= bound,
            "token_mismatches": mismatches, "seconds": time.time() - started}


def print_shape(r):
    print(f"\n== {r['shape']}: {r['architecture']}, {r['parameters'] / 1e6:.1f}M parameters; ours: "
          f"{r['ours_backend']}; {r['reference']}; {r['seconds']:.0f} s")
    print(f"{'prompt':>6} {'tokens':>6} {'greedy equal':>12} {'ours err':>9} {'HF bf16 err':>11} "
          f"{'ours vs HF bf16':>15} {'forced diffs':>12}  first divergence")
    for i, c in enumerate(r["prompts"]):
        e = c["errors"]
        hf = e["transformers_bf16_vs_float32"]
        d = c["divergence"]
        where = "-" if d is None else (f"step {d['step']}: HF {d['transformers']} ours {d['ours']}, top-2 margin "
                                       f"{d['top2_margin']:.3g}, gap {d['gap_to_ours']:.3g}, noise {d['noise']:.3g}: "
                                       f"{d['verdict']}")
        forced = c["forced_disagreements"]
        ties = sum(x["verdict"] != "MISMATCH" for x in forced)
        print(f"{i:>6} {c['length']:>6} {c['greedy_equal_steps']:>9}/{len(c['transformers_tokens']):<2} "
              f"{max(e['ours_vs_reference']):>9.2e} {(max(hf) if hf else float('nan')):>11.2e} "
              f"{max(e['ours_vs_transformers_bf16']):>15.2e} {len(forced):>5} ({ties} tie)  {where}")
    bound = f"{r['bound']:.2e}" if r["bound"] is not None else "n/a"
    print(f"worst logits error (max|diff|/max|logit| against float32): ours {r['worst_ours_error']:.2e}, "
          f"transformers bf16 {r['worst_transformers_bf16_error'] or float('nan'):.2e}; bound {bound}: "
          f"{'ok' if r['logits_within_bound'] else 'OVER'}; token mismatches beyond noise: {r['token_mismatches']}")


def verdict(r):
    if r["status"] != "ok":
        return r["status"]
    if r["token_mismatches"] or not r["logits_within_bound"]:
        return "MISMATCH"
    greedy = sum(c["greedy_equal_steps"] for c in r["prompts"])
    total = sum(len(c["transformers_tokens"]) for c in r["prompts"])
    ties = sum(c["divergence"] is not None for c in r["prompts"])
    return f"ok: greedy equal {greedy}/{total} steps" + (f" ({ties} prompt(s) parted at a tie)" if ties else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--oracle", default="build-gpu/bench/oracle_run")
    ap.add_argument("--shapes", default=",".join(SMALL_SHAPES + ["llama3-8b"]))
    ap.add_argument("--work", default="/tmp/attnscope-oracle")
    ap.add_argument("--ckpt-8b", help="the Llama-3-8B-shaped checkpoint (made there when missing)")
    ap.add_argument("--prompts", type=int, default=3)
    ap.add_argument("--min-len", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--device", default="cuda", help="where transformers runs")
    ap.add_argument("--ours-device", default="cuda", help="oracle_run --device")
    ap.add_argument("--deadline-s", type=float, help="skip what would end later than this (default: no limit)")
    ap.add_argument("--json")
    a = ap.parse_args()
    deadline = time.time() + a.deadline_s if a.deadline_s else float("inf")
    import transformers
    if int(transformers.__version__.split(".")[0]) < 5:
        print(f"oracle_vs_transformers: transformers {transformers.__version__} is older than 5: the random "
              "checkpoints' config.json uses rope_parameters, which it would ignore", file=sys.stderr)
        return 2
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, "
          f"{torch.cuda.get_device_name() if a.device.startswith('cuda') else a.device}", flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32 (the reference)
    torch.backends.cudnn.allow_tf32 = False
    results = []
    for shape in a.shapes.split(","):
        needed = NEEDED_S.get(shape, 15)
        if deadline - time.time() < needed:
            results.append({"shape": shape, "status": f"skipped (needs ~{needed} s, deadline)"})
            continue
        try:
            r = run_shape(shape, a, deadline)
            print_shape(r)
        except Exception as e:  # report the shape and go on with the others
            r = {"shape": shape, "status": f"error: {type(e).__name__}: {str(e)[:400]}"}
            print(f"\n== {shape}: {r['status']}")
        sys.stdout.flush()
        results.append(r)
        gc.collect()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "shapes": results}, f)
    print("\n== oracle summary")
    for r in results:
        print(f"{r['shape']:<10} {verdict(r)}")
    if any(r["status"].startswith("error") for r in results):
        return 2
    return 1 if any(verdict(r) == "MISMATCH" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
