#!/usr/bin/env python3
"""CPU prefill: AttnScope's CPU backend beside a plain PyTorch float32 Llama.

Writes a ~100M-parameter Llama-shaped random-weight checkpoint (hidden 768, 12 layers,
12 query heads, 4 KV heads, intermediate 2048, vocab 16384, bf16 on disk), then times
prefill of random prompts at each length with both, on the same threads, and checks
both computed the same logits.

  /usr/bin/python3 bench/prefill_vs_torch.py [--build build] [--lengths 512,2048]
Needs Debian's python3-torch and python3-numpy.
"""
import argparse
import json
import os
import struct
import subprocess
import tempfile
import time

import numpy as np
import torch

CONFIG = dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=768,
              intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
              num_key_value_heads=4, vocab_size=16384, max_position_embeddings=4096,
              rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
              bos_token_id=1, eos_token_id=2, torch_dtype="bfloat16")


def to_bf16_bytes(a):
    bits = a.astype(np.float32).view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return rounded.tobytes()


def bf16_round(a):
    bits = a.astype(np.float32).view(np.uint32)
    return (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)


def make_weights(seed=0):
    c = CONFIG
    rng = np.random.default_rng(seed)
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    w = {"model.embed_tokens.weight": rng.normal(0, 1.0, (v, h)),
         "model.norm.weight": 1 + 0.1 * rng.normal(size=h),
         "lm_head.weight": rng.normal(0, h ** -0.5, (v, h))}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        for name, shape in [("self_attn.q_proj", (h, h)), ("self_attn.k_proj", (kv, h)),
                            ("self_attn.v_proj", (kv, h)), ("self_attn.o_proj", (h, h)),
                            ("mlp.gate_proj", (i, h)), ("mlp.up_proj", (i, h)),
                            ("mlp.down_proj", (h, i))]:
            w[p + name + ".weight"] = rng.normal(0, shape[1] ** -0.5, shape)
        w[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=h)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=h)
    return {k: bf16_round(np.asarray(a, dtype=np.float32)) for k, a in w.items()}


def write_checkpoint(directory, weights):
    header, offset, blobs = {}, 0, []
    for name in sorted(weights):
        data = to_bf16_bytes(weights[name])
        header[name] = {"dtype": "BF16", "shape": list(weights[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(CONFIG, f)


class TorchLlama:
    """A plain float32 Llama forward pass (eager attention: matmul, mask, softmax)."""

    def __init__(self, weights):
        self.w = {k: torch.from_numpy(a) for k, a in weights.items()}
        c = CONFIG
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.heads
        self.inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, self.hd, 2).float() / self.hd))

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CONFIG["rms_norm_eps"]) * w

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    @torch.inference_mode()
    def __call__(self, ids):
        n = ids.shape[0]
        w = self.w
        x = w["model.embed_tokens.weight"][ids]
        freqs = torch.outer(torch.arange(n).float(), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None], emb.sin()[None]
        mask = torch.full((n, n), float("-inf")).triu(1)
        group = self.heads // self.kv_heads
        for l in range(CONFIG["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(n, self.heads, self.hd).transpose(0, 1)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(n, self.kv_heads, self.hd).transpose(0, 1)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(n, self.kv_heads, self.hd).transpose(0, 1)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            k = k.repeat_interleave(group, dim=0)
            v = v.repeat_interleave(group, dim=0)
            scores = q @ k.transpose(1, 2) / self.hd ** 0.5 + mask
            attn = torch.softmax(scores, dim=-1) @ v
            x = x + attn.transpose(0, 1).reshape(n, -1) @ w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            gate = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T)
            x = x + (gate * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        x = self.norm(x[-1:], w["model.norm.weight"])
        return (x @ w["lm_head.weight"].T)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--lengths", default="512,2048")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    torch.set_num_threads(args.threads)
    weights = make_weights()
    n_params = sum(a.size for a in weights.values())
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        write_checkpoint(tmp, weights)
        ids_all = rng.integers(0, CONFIG["vocab_size"], max(lengths)).astype(np.int32)
        ids_all.tofile(os.path.join(tmp, "ids"))
        def run_ours(extra):
            out = subprocess.run([os.path.join(args.build, "bench", "prefill_bench"), "--model", tmp,
                                  "--lengths", args.lengths, "--repeats", str(args.repeats),
                                  "--ids-file", os.path.join(tmp, "ids")] + extra,
                                 check=True, capture_output=True, text=True,
                                 env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
            return {r["length"]: r for r in map(json.loads, out.stdout.splitlines())}
        ours = run_ours(["--logits-out", os.path.join(tmp, "logits")])
        # Every head of every layer captured (statistics and pooled maps, no exact maps).
        ours_capture = run_ours(["--capture"])
        model = TorchLlama(weights)
        print(f"model: Llama-shaped, {n_params / 1e6:.1f}M parameters, bf16 on disk, float32 compute; "
              f"threads: {args.threads}; best of {args.repeats}")
        print(f"{'tokens':>7} {'PyTorch tok/s':>14} {'AttnScope tok/s':>16} {'speed-up':>9} "
              f"{'+capture tok/s':>15} {'max |logit diff|':>17}")
        for n in lengths:
            ids = torch.from_numpy(ids_all[:n].astype(np.int64))
            best = 1e30
            for _ in range(args.repeats):
                t = time.perf_counter()
                logits = model(ids)
                best = min(best, time.perf_counter() - t)
            theirs = np.fromfile(os.path.join(tmp, f"logits.{n}"), dtype=np.float32)
            diff = float(np.abs(theirs - logits.numpy()).max())
            torch_tps = n / best
            print(f"{n:>7} {torch_tps:>14.1f} {ours[n]['tokens_per_s']:>16.1f} "
                  f"{ours[n]['tokens_per_s'] / torch_tps:>8.2f}x "
                  f"{ours_capture[n]['tokens_per_s']:>15.1f} {diff:>17.2e}")


if __name__ == "__main__":
    main()
