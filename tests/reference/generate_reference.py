#!/usr/bin/env python3
"""Generates the reference fixtures the CPU backend must match.

For each supported architecture this writes a tiny random-weight Hugging Face
checkpoint (a few layers, GQA where the architecture has it, a 512-token vocab)
and what transformers computes on it in float32 with eager attention:
  <out>/<name>/                 the checkpoint (config.json, *.safetensors, tokenizer.json)
  <out>/<name>/reference.safetensors   logits [n, vocab], attention.<layer> [heads * n, n]
  <out>/<name>/reference.json          prompt ids, greedy continuation ids, tolerances
Weights are drawn with a wider spread than transformers' init so that attention is
far from uniform; norm weights are drawn around 1. Storage dtypes and sharding
vary across the fixtures so that every loader path is exercised.

Run on a machine with transformers (the GPU machine has it):
  python3 tests/reference/generate_reference.py --out tests/reference/fixtures
"""
import argparse
import json
import os
import random
import shutil
import tempfile

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, GPT2Config, LlamaConfig, MistralConfig,
                          Qwen2Config, Qwen3Config)

VOCAB = 512
PROMPT_LEN = 40
GREEDY_STEPS = 8
SEED = 1234

COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              max_position_embeddings=256, bos_token_id=1, eos_token_id=2)


def fixtures():
    """name -> (config, storage dtype, max shard size or None)."""
    return {
        "llama": (LlamaConfig(**COMMON, num_attention_heads=4, num_key_value_heads=2,
                              rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False),
                  torch.bfloat16, "100KB"),
        "llama3-rope": (LlamaConfig(**COMMON, num_attention_heads=4, num_key_value_heads=1,
                                    rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
                                    rope_scaling={"rope_type": "llama3", "factor": 32.0,
                                                  "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                  "original_max_position_embeddings": 16}),
                        torch.bfloat16, None),
        "llama-linear-bias": (LlamaConfig(**COMMON, num_attention_heads=4, num_key_value_heads=4,
                                          rms_norm_eps=1e-6, attention_bias=True, mlp_bias=True,
                                          rope_scaling={"rope_type": "linear", "factor": 4.0}),
                              torch.float32, None),
        "mistral": (MistralConfig(**COMMON, num_attention_heads=4, num_key_value_heads=2,
                                  rms_norm_eps=1e-5, sliding_window=12, tie_word_embeddings=False),
                    torch.float16, None),
        "qwen2": (Qwen2Config(**COMMON, num_attention_heads=4, num_key_value_heads=2,
                              rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                              use_sliding_window=False),
                  torch.bfloat16, None),
        "qwen3": (Qwen3Config(**COMMON, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                              rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                              use_sliding_window=False),
                  torch.bfloat16, None),
        "gpt2": (GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=256,
                            bos_token_id=1, eos_token_id=2),
                 torch.float32, None),
    }


def randomise(model, generator):
    """Wider random weights than the default init, so attention has structure."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name or "ln_" in name) and name.endswith("weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[1] if p.dim() == 2 else p.shape[0]
                std = 2.5 / fan_in ** 0.5
                p.copy_(std * torch.randn(p.shape, generator=generator))


def train_tokenizer(path):
    """A small byte-level BPE trained on text every Python install has."""
    import glob
    import sysconfig
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:60]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train(files, trainer)
    tok.save(path)


def greedy(model, ids, steps):
    out = list(ids)
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([out])).logits[0, -1]
            out.append(int(torch.argmax(logits)))
    return out[len(ids):]


def generate(name, config, dtype, shard, out_dir, tokenizer_path):
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").float()
    randomise(model, generator)
    model.eval()

    target = os.path.join(out_dir, name)
    shutil.rmtree(target, ignore_errors=True)
    model.to(dtype).save_pretrained(target, **({"max_shard_size": shard} if shard else {}))
    shutil.copy(tokenizer_path, os.path.join(target, "tokenizer.json"))

    # Reload from disk exactly as a user would, computing in float32.
    ref = AutoModelForCausalLM.from_pretrained(target, dtype=torch.float32,
                                               attn_implementation="eager")
    ref.eval()
    rng = random.Random(SEED)
    ids = [rng.randrange(3, VOCAB) for _ in range(PROMPT_LEN)]
    with torch.no_grad():
        out = ref(torch.tensor([ids]), output_attentions=True)
    tensors = {"logits": out.logits[0].contiguous()}
    for layer, att in enumerate(out.attentions):
        heads, n = att.shape[1], att.shape[2]
        tensors[f"attention.{layer}"] = att[0].reshape(heads * n, n).contiguous()
    save_file(tensors, os.path.join(target, "reference.safetensors"))
    with open(os.path.join(target, "reference.json"), "w") as f:
        json.dump({"architecture": config.architectures[0] if config.architectures else
                   type(ref).__name__, "storage_dtype": str(dtype).replace("torch.", ""),
                   "prompt_ids": ids, "greedy_ids": greedy(ref, ids, GREEDY_STEPS),
                   "transformers": __import__("transformers").__version__,
                   "torch": torch.__version__}, f, indent=1)
    print(f"{name}: {type(ref).__name__}, {sum(p.numel() for p in ref.parameters())} parameters")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer_path = os.path.join(tmp, "tokenizer.json")
        train_tokenizer(tokenizer_path)
        for name, (config, dtype, shard) in fixtures().items():
            generate(name, config, dtype, shard, args.out, tokenizer_path)


if __name__ == "__main__":
    main()
