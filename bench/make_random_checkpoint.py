#!/usr/bin/env python3
"""Writes a random-weight Hugging Face checkpoint: config.json and safetensors shards.

Shapes (--shape):
  llama3-8b   Llama-3-8B (LlamaForCausalLM: hidden 4096, 32 layers, 32 query heads,
              8 KV heads, head_dim 128, MLP 14336, vocab 128256, llama3 RoPE scaling
              with theta 500000, 131072 positions), bf16 in 5 GB shards; weights drawn
              as transformers initialises them (normal, std 0.02; norm weights 1).
  llama, mistral, qwen2, qwen3, gpt2
              small models of each supported architecture for the oracle (4 layers,
              hidden 512, vocab 8192; Mistral with a 160-token sliding window, Qwen2
              with q/k/v biases, Qwen3 with q/k norms and 128-wide heads, GPT-2 with
              learned positions). Their weights are wider than transformers' init
              (std 1/sqrt(fan_in), norm weights and biases spread around 1 and 0),
              so that attention has structure and greedy choices have real margins;
              the embeddings stay small (std 0.1), so that the layers, not the input
              token, decide the output (a tied model would otherwise repeat its input).

No tokenizer is written: the benchmarks feed token ids. Tensors are drawn one at a
time (on the GPU when there is one) and streamed into the files, so host memory stays
at one tensor whatever the model size. A checkpoint already complete in DIR with the
same request is kept (DIR/.complete records the request).

  python3 bench/make_random_checkpoint.py --shape llama3-8b --out /tmp/llama3-8b-random
  python3 bench/make_random_checkpoint.py --shape qwen3 --out /tmp/qwen3-random [--seed 1]
Needs PyTorch only (no transformers, no safetensors package).
"""
import argparse
import json
import os
import struct
import sys
import time

import torch

SMALL = dict(hidden=512, layers=4, heads=8, head_dim=64, intermediate=1536, vocab=8192, positions=2048)


def llama_family_config(model_type, architecture, hidden, layers, heads, kv_heads, head_dim, intermediate,
                        vocab, positions, rope, tie, eps, **extra):
    config = {"architectures": [architecture], "model_type": model_type, "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
              "head_dim": head_dim, "intermediate_size": intermediate, "vocab_size": vocab,
              "max_position_embeddings": positions, "hidden_act": "silu", "rms_norm_eps": eps,
              "rope_parameters": rope, "tie_word_embeddings": tie, "attention_dropout": 0.0,
              "bos_token_id": 1, "eos_token_id": 2, "dtype": "bfloat16", "use_cache": True}
    config.update(extra)
    return config


def config_for(shape, layers=None):
    """config.json of `shape` as transformers 5 writes it; `layers` overrides the depth."""
    s = dict(SMALL)
    default_rope = {"rope_type": "default", "rope_theta": 10000.0}
    qwen_rope = {"rope_type": "default", "rope_theta": 1000000.0}
    if shape == "llama3-8b":
        c = llama_family_config(
            "llama", "LlamaForCausalLM", 4096, 32, 32, 8, 128, 14336, 128256, 131072,
            {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            False, 1e-5, attention_bias=False, mlp_bias=False, pretraining_tp=1, initializer_range=0.02,
            bos_token_id=128000, eos_token_id=128001)
    elif shape == "llama":
        c = llama_family_config("llama", "LlamaForCausalLM", s["hidden"], s["layers"], s["heads"], 2,
                                s["head_dim"], s["intermediate"], s["vocab"], s["positions"], default_rope,
                                False, 1e-5, attention_bias=False, mlp_bias=False)
    elif shape == "mistral":
        c = llama_family_config("mistral", "MistralForCausalLM", s["hidden"], s["layers"], s["heads"], 2,
                                s["head_dim"], s["intermediate"], s["vocab"], s["positions"],
                                {"rope_type": "default", "rope_theta": 1000000.0}, False, 1e-5,
                                sliding_window=160)
    elif shape == "qwen2":
        c = llama_family_config("qwen2", "Qwen2ForCausalLM", s["hidden"], s["layers"], s["heads"], 2,
                                s["head_dim"], s["intermediate"], s["vocab"], s["positions"], qwen_rope,
                                True, 1e-6, use_sliding_window=False, sliding_window=None)
        del c["head_dim"]  # Qwen2 derives it from hidden_size / heads
    elif shape == "qwen3":
        c = llama_family_config("qwen3", "Qwen3ForCausalLM", s["hidden"], s["layers"], s["heads"], 4,
                                128, s["intermediate"], s["vocab"], s["positions"], qwen_rope,
                                True, 1e-6, attention_bias=False, use_sliding_window=False, sliding_window=None)
    elif shape == "gpt2":
        c = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": s["hidden"],
             "n_layer": s["layers"], "n_head": s["heads"], "n_inner": None, "n_positions": 1024,
             "vocab_size": s["vocab"], "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
             "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
             "reorder_and_upcast_attn": False, "add_cross_attention": False, "tie_word_embeddings": True,
             "attn_pdrop": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0, "bos_token_id": 1,
             "eos_token_id": 2, "dtype": "bfloat16", "use_cache": True}
    else:
        raise ValueError(f"--shape {shape!r} is not one of {', '.join(SHAPES)}")
    if layers is not None:
        c["n_layer" if shape == "gpt2" else "num_hidden_layers"] = layers
    if "num_hidden_layers" in c and c["model_type"] in ("qwen2", "qwen3"):
        c["layer_types"] = ["full_attention"] * c["num_hidden_layers"]
    return c


SHAPES = ("llama3-8b", "llama", "mistral", "qwen2", "qwen3", "gpt2")


def tensor_plan(config, hf_init):
    """[(name, shape, init)] in file order; init is ("normal", std) or ("around", mean, spread).

    hf_init: transformers' own init (std 0.02, norm weights 1, biases 0); otherwise the
    wider draw described in the module docstring."""
    def linear(out_f, in_f):  # nn.Linear weight [out, in]
        return ("normal", 0.02 if hf_init else in_f ** -0.5)

    def norm():
        return ("around", 1.0, 0.0 if hf_init else 0.1)

    def bias():
        return ("around", 0.0, 0.0 if hf_init else 0.1)

    plan = []
    if config["model_type"] == "gpt2":
        h, v, p = config["n_embd"], config["vocab_size"], config["n_positions"]
        i = config["n_inner"] or 4 * h
        plan += [("transformer.wte.weight", (v, h), ("normal", 0.02 if hf_init else 0.1)),
                 ("transformer.wpe.weight", (p, h), ("normal", 0.01 if hf_init else 0.05))]
        for l in range(config["n_layer"]):
            q = f"transformer.h.{l}."
            # Conv1D stores [in, out]: the fan-in is the first dimension.
            plan += [(q + "ln_1.weight", (h,), norm()), (q + "ln_1.bias", (h,), bias()),
                     (q + "attn.c_attn.weight", (h, 3 * h), linear(3 * h, h)),
                     (q + "attn.c_attn.bias", (3 * h,), bias()),
                     (q + "attn.c_proj.weight", (h, h), linear(h, h)), (q + "attn.c_proj.bias", (h,), bias()),
                     (q + "ln_2.weight", (h,), norm()), (q + "ln_2.bias", (h,), bias()),
                     (q + "mlp.c_fc.weight", (h, i), linear(i, h)), (q + "mlp.c_fc.bias", (i,), bias()),
                     (q + "mlp.c_proj.weight", (i, h), linear(h, i)), (q + "mlp.c_proj.bias", (h,), bias())]
        plan += [("transformer.ln_f.weight", (h,), norm()), ("transformer.ln_f.bias", (h,), bias())]
        return plan

    h, v, i = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    hd = config.get("head_dim") or h // config["num_attention_heads"]
    qw, kvw = config["num_attention_heads"] * hd, config["num_key_value_heads"] * hd
    qkv_bias = config["model_type"] == "qwen2" or config.get("attention_bias", False)
    plan.append(("model.embed_tokens.weight", (v, h), ("normal", 0.02 if hf_init else 0.1)))
    for l in range(config["num_hidden_layers"]):
        q = f"model.layers.{l}."
        plan += [(q + "input_layernorm.weight", (h,), norm()),
                 (q + "self_attn.q_proj.weight", (qw, h), linear(qw, h)),
                 (q + "self_attn.k_proj.weight", (kvw, h), linear(kvw, h)),
                 (q + "self_attn.v_proj.weight", (kvw, h), linear(kvw, h))]
        if qkv_bias:
            plan += [(q + f"self_attn.{x}_proj.bias", (n,), bias()) for x, n in (("q", qw), ("k", kvw), ("v", kvw))]
        if config["model_type"] == "qwen3":
            plan += [(q + "self_attn.q_norm.weight", (hd,), norm()), (q + "self_attn.k_norm.weight", (hd,), norm())]
        plan += [(q + "self_attn.o_proj.weight", (h, qw), linear(h, qw)),
                 (q + "post_attention_layernorm.weight", (h,), norm()),
                 (q + "mlp.gate_proj.weight", (i, h), linear(i, h)),
                 (q + "mlp.up_proj.weight", (i, h), linear(i, h)),
                 (q + "mlp.down_proj.weight", (h, i), linear(h, i))]
    plan.append(("model.norm.weight", (h,), norm()))
    if not config["tie_word_embeddings"]:
        # Four times the fan-in rule: logits a few units wide, as a trained model's are.
        plan.append(("lm_head.weight", (v, h), ("normal", 0.02 if hf_init else 4.0 * h ** -0.5)))
    return plan


def draw(shape, init, generator, device):
    """One tensor, float32 on `device`, drawn from `generator`."""
    if init[0] == "normal":
        return torch.randn(shape, generator=generator, device=device) * init[1]
    mean, spread = init[1], init[2]
    if spread == 0:
        return torch.full(shape, mean, device=device)
    return mean + spread * torch.randn(shape, generator=generator, device=device)


DTYPES = {"bf16": (torch.bfloat16, "BF16", 2), "f16": (torch.float16, "F16", 2), "f32": (torch.float32, "F32", 4)}


def shard_groups(plan, element_bytes, shard_bytes):
    """Splits the plan into consecutive groups of at most shard_bytes (one tensor at least)."""
    groups, current, size = [], [], 0
    for entry in plan:
        n = element_bytes
        for d in entry[1]:
            n *= d
        if current and size + n > shard_bytes:
            groups.append(current)
            current, size = [], 0
        current.append(entry)
        size += n
    groups.append(current)
    return groups


def write_shard(path, group, dtype, seed_base, first_index, device):
    torch_dtype, name, element = DTYPES[dtype]
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for tensor_name, shape, _ in group:
        n = element
        for d in shape:
            n *= d
        header[tensor_name] = {"dtype": name, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)  # the data starts 8-byte aligned
    generator = torch.Generator(device=device)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for k, (_, shape, init) in enumerate(group):
            # One seed per tensor: a tensor's values do not depend on the sharding.
            generator.manual_seed(seed_base + first_index + k)
            t = draw(shape, init, generator, device).to(torch_dtype).cpu().contiguous()
            raw = t.view(torch.int16) if element == 2 else t.view(torch.int32)
            f.write(memoryview(raw.numpy()).cast("B"))  # no copy of the tensor's bytes
    return offset


def write_checkpoint(out, shape, seed=0, layers=None, dtype="bf16", shard_gb=5.0, device=None, log=sys.stderr):
    """Writes the checkpoint (or keeps a complete one of the same request); returns its config."""
    config = config_for(shape, layers)
    config["dtype"] = {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[dtype]
    request = {"shape": shape, "seed": seed, "layers": layers, "dtype": dtype, "shard_gb": shard_gb,
               "config": config}
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == request:
                print(f"make_random_checkpoint: {out} already holds this checkpoint; kept", file=log)
                return config
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):  # a previous, different or unfinished checkpoint
        if name.endswith(".safetensors") or name in ("model.safetensors.index.json", "config.json", ".complete"):
            os.remove(os.path.join(out, name))

    start = time.time()
    plan = tensor_plan(config, hf_init=(shape == "llama3-8b"))
    element = DTYPES[dtype][2]
    groups = shard_groups(plan, element, int(shard_gb * 1e9))
    files = (["model.safetensors"] if len(groups) == 1 else
             [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))])
    weight_map, total, index = {}, 0, 0
    for file, group in zip(files, groups):
        # Each shape its own weights: llama and mistral have the same tensor list.
        seed_base = seed * 1_000_003 + SHAPES.index(shape) * 100_003
        total += write_shard(os.path.join(out, file), group, dtype, seed_base, index, device)
        index += len(group)
        weight_map.update({name: file for name, _, _ in group})
        print(f"make_random_checkpoint: {file}: {len(group)} tensors, {total / 1e9:.2f} GB so far, "
              f"{time.time() - start:.1f} s", file=log, flush=True)
    if len(files) > 1:
        parameters = total // element
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total, "total_parameters": parameters},
                       "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(marker, "w") as f:
        json.dump(request, f)
    print(f"make_random_checkpoint: {out}: {shape}, {total // element / 1e9:.3f}B parameters, "
          f"{total / 1e9:.2f} GB in {len(files)} file(s), {time.time() - start:.1f} s on {device}", file=log)
    return config


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", required=True, choices=SHAPES)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=int, help="override the number of layers (quick tests)")
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--shard-gb", type=float, default=5.0)
    ap.add_argument("--device", help="where to draw the weights (default: cuda when available)")
    a = ap.parse_args()
    write_checkpoint(a.out, a.shape, a.seed, a.layers, a.dtype, a.shard_gb, a.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
