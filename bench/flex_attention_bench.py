#!/usr/bin/env python3
"""Block-sparse attention on the GPU: AttnScope's kernel beside PyTorch in the same run.

Runs bench block_sparse_bench (our block-sparse forward at each density and our dense
forward; it writes each block pattern to a file), then times, on the same shapes and the
same block patterns, PyTorch FlexAttention (torch.nn.attention.flex_attention, compiled,
with a BlockMask of the pattern: mask_mod = causal and pattern[h, q // 64, kv // 64], built
with 64-token blocks where this torch accepts them, else 128 with the mask applied inside
its partial blocks) and SDPA dense (the backend PyTorch picks, GQA). Prints one table:
ours, FlexAttention, SDPA dense, our dense forward, and the ratios the issue sets
(ours >= FlexAttention: flex/ours >= 1; dense/ours >= 4 at 10% and 32K), then the mask-lab
re-evaluation table of the bench (target <= 50 ms for 32 heads at 8K).

  python3 bench/flex_attention_bench.py [--bench build/bench/block_sparse_bench]
      [--lengths 8192,32768] [--densities 1,0.5,0.2,0.1,0.05] [--heads 32] [--kv-heads 8]
      [--dim 128] [--reps 20] [--json results.json]
Needs a CUDA GPU, PyTorch 2.5 or newer, numpy, and the bench built (cmake with CUDA,
target block_sparse_bench).
"""
import argparse
import csv
import io
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench_support import bench_output, device_line, error_note, median_ms, write_json  # noqa: E402


def run_ours(a, pattern_dir):
    cmd = [a.bench, "--lengths", a.lengths, "--densities", a.densities, "--heads", str(a.heads), "--kv-heads",
           str(a.kv_heads), "--dim", str(a.dim), "--reps", str(a.reps), "--csv", "--patterns", pattern_dir]
    out = bench_output(cmd)
    kernel_part, _, eval_part = out.partition("\n\n")
    rows = list(csv.DictReader(io.StringIO(kernel_part)))
    evals = list(csv.DictReader(io.StringIO(eval_part.strip()))) if eval_part.strip() else []
    return rows, evals


def flex_ms(q, k, v, pattern, reps):
    """(ms, block size used or the error) of compiled FlexAttention under the block pattern."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    heads, n = pattern.shape[0], q.shape[2]
    kept = torch.from_numpy(pattern.astype(np.bool_)).to("cuda")

    def mask_mod(b, h, q_idx, kv_idx):
        return (q_idx >= kv_idx) & kept[h, q_idx // 64, kv_idx // 64]

    flex = torch.compile(flex_attention)
    last_error = ""
    for block in (64, 128):
        try:
            try:  # compiled mask creation (seconds at 32K instead of minutes), where this torch has the switch
                mask = create_block_mask(mask_mod, 1, heads, n, n, device="cuda", BLOCK_SIZE=block, _compile=True)
            except TypeError:
                mask = create_block_mask(mask_mod, 1, heads, n, n, device="cuda", BLOCK_SIZE=block)
            ms = median_ms(lambda: flex(q, k, v, block_mask=mask, enable_gqa=True), reps)
            return ms, f"blocks {block}"
        except Exception as e:  # this torch cannot run that block size
            last_error = error_note(e)
            torch.cuda.empty_cache()
    return None, last_error


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default="build/bench/block_sparse_bench")
    ap.add_argument("--lengths", default="8192,32768")
    ap.add_argument("--densities", default="1,0.5,0.2,0.1,0.05")
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()
    print(f"{device_line()}B=1 heads {a.heads}/{a.kv_heads} "
          f"dim {a.dim} bf16 causal, median of {a.reps}", flush=True)
    with tempfile.TemporaryDirectory() as pattern_dir:
        ours, evals = run_ours(a, pattern_dir)
        results, sdpa = [], {}
        for row in ours:
            n, density = int(row["n"]), float(row["density"])
            pattern_file = os.path.join(pattern_dir, f"pattern_{n}_{round(density * 1000)}.u8")
            blocks = (n + 63) // 64
            pattern = np.fromfile(pattern_file, dtype=np.uint8).reshape(a.heads, blocks, blocks)
            torch.manual_seed(0)
            q = torch.randn(1, a.heads, n, a.dim, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(1, a.kv_heads, n, a.dim, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(1, a.kv_heads, n, a.dim, device="cuda", dtype=torch.bfloat16)
            if n not in sdpa:
                try:
                    sdpa[n] = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                                enable_gqa=True), a.reps)
                except Exception as e:
                    sdpa[n] = None
                    print(f"sdpa at {n}: {str(e).splitlines()[0][:80]}", flush=True)
            flex, flex_note = flex_ms(q, k, v, pattern, a.reps)
            mine = float(row["sparse_ms"])
            results.append(dict(n=n, density=density, real_density=float(row["real_density"]), ours_ms=mine,
                                ours_tflops=float(row["sparse_tflops"]), dense_ms=float(row["dense_ms"]),
                                dense_kernel=row["dense_kernel"], flex_ms=flex, flex_note=flex_note,
                                sdpa_ms=sdpa[n]))
            del q, k, v
            torch.cuda.empty_cache()

    def cell(x, width, fmt=".3f"):
        return f"{x:>{width}{fmt}}" if x else f"{'--':>{width}}"

    print(f"\n{'n':>6} {'density':>7} {'real':>6} {'ours ms':>8} {'TFLOP/s':>8} {'flex ms':>8} {'sdpa ms':>8} "
          f"{'dense ms':>8} {'flex/ours':>9} {'sdpa/ours':>9} {'dense/ours':>10}  flex")
    for r in results:
        flex_ratio = r["flex_ms"] / r["ours_ms"] if r["flex_ms"] else None
        sdpa_ratio = r["sdpa_ms"] / r["ours_ms"] if r["sdpa_ms"] else None
        print(f"{r['n']:>6} {r['density']:>7.2f} {r['real_density']:>6.3f} {r['ours_ms']:>8.3f} "
              f"{r['ours_tflops']:>8.1f} {cell(r['flex_ms'], 8)} {cell(r['sdpa_ms'], 8)} {r['dense_ms']:>8.3f} "
              f"{cell(flex_ratio, 9, '.2f')} {cell(sdpa_ratio, 9, '.2f')} {r['dense_ms'] / r['ours_ms']:>10.2f}  "
              f"{r['flex_note']}")
    print(f"\ndense: our forward ({', '.join(sorted({r['dense_kernel'] for r in results}))} kernel); targets: "
          "flex/ours >= 1 at every density, dense/ours >= 4 at density 0.1 and 32K.")
    if evals:
        print(f"\nmask lab re-evaluation, one layer of {evals[0]['heads']} heads at {evals[0]['eval_n']} rows "
              f"(dense side once: {float(evals[0]['setup_ms']):.1f} ms; target <= 50 ms):")
        print(f"{'density':>8} {'real':>7} {'evaluate ms':>12} {'mean recall':>12} {'host pack ms':>13}")
        for e in evals:
            print(f"{float(e['density']):>8.3f} {float(e['real_density']):>7.4f} {float(e['evaluate_ms']):>12.2f} "
                  f"{float(e['mean_recall']):>12.4f} {float(e.get('pack_ms') or 'nan'):>13.2f}")
    if a.json:
        write_json(a.json, rows=results, evaluate=evals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
