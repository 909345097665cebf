#!/usr/bin/env python3
"""Measures how far transformers itself lands from the float32 fixtures in bf16 and fp16.

The fixtures of tests/reference hold transformers' float32 logits and attention of tiny
random-weight checkpoints whose wide weights make attention peaked, so rounding q and k
to bf16 moves probabilities by a lot (tenths). How much is right for a bf16 engine is
what transformers' own bf16 run gives: the CUDA backend's test (tests/gpu/
cuda_model_test.cpp) requires at most twice this error. Run on the GPU machine:

  python3 tests/reference/measure_low_precision.py --fixtures tests/reference/fixtures \
      --out OUTDIR

writes OUTDIR/<fixture>/low_precision.json (copy each into its fixture folder):
  {"bf16": {"logit_row_error": e, "attention_error": a}, "fp16": {...}, "device": ...}
with the same measures as the C++ test: the largest over rows of max |logit error| /
max |reference logit|, and the largest absolute error of an attention probability.
"""
import argparse
import json
import os

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def measure(fixture, dtype, device):
    with open(os.path.join(fixture, "reference.json")) as f:
        ids = json.load(f)["prompt_ids"]
    reference = load_file(os.path.join(fixture, "reference.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(fixture, dtype=dtype, attn_implementation="eager")
    model.to(device).eval()
    with torch.no_grad():
        out = model(torch.tensor([ids], device=device), output_attentions=True)
    logits = out.logits[0].double().cpu()
    want = reference["logits"].double()
    row_error = ((logits - want).abs().amax(dim=1) / want.abs().amax(dim=1)).max().item()
    attention_error = 0.0
    for layer, att in enumerate(out.attentions):
        heads, n = att.shape[1], att.shape[2]
        got = att[0].reshape(heads * n, n).double().cpu()
        attention_error = max(attention_error,
                              (got - reference[f"attention.{layer}"].double()).abs().max().item())
    return {"logit_row_error": row_error, "attention_error": attention_error}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for name in sorted(os.listdir(args.fixtures)):
        fixture = os.path.join(args.fixtures, name)
        if not os.path.isfile(os.path.join(fixture, "reference.json")):
            continue
        result = {"bf16": measure(fixture, torch.bfloat16, device),
                  "fp16": measure(fixture, torch.float16, device),
                  "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                  "attention": "eager", "transformers": __import__("transformers").__version__,
                  "torch": torch.__version__}
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
        with open(os.path.join(args.out, name, "low_precision.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"{name:18s} bf16 logits {result['bf16']['logit_row_error']:.4g} attention "
              f"{result['bf16']['attention_error']:.4g} | fp16 logits "
              f"{result['fp16']['logit_row_error']:.4g} attention {result['fp16']['attention_error']:.4g}")


if __name__ == "__main__":
    main()
