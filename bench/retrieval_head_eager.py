#!/usr/bin/env python3
"""The baseline of the profiling benchmark: retrieval-head detection as Retrieval_Head's
retrieval_head_detection.py does it (nightdessert/Retrieval_Head, FORMATS.md 4.1),
written again here over transformers: per (length, depth) test, the haystack is
trimmed to the length minus a 200-token buffer, the needle inserted at the last period
before the depth, "Based on the content of the book, Question: ...\\nAnswer:" appended;
all but the last prompt token are prefilled with sdpa (as the original, whose prefill is
flash attention; --prefill eager prefills with transformers' eager attention instead, the
baseline as the profiling issue words it, which holds each layer's n x n scores), then up
to 50 greedy steps run with eager attention and output_attentions=True, and after every step each layer's and
query head's top-1 key of the new row is compared with the needle span (1 / span length
when it lies there and its token is the one just generated); the scores count when the
answer's ROUGE-1 recall is above 0.5. The head loop runs on the GPU tensors one head at
a time, as the original does.

Prints one JSON line per test (seconds, and the parts: prefill, decode, scoring) and a
summary line; --json FILE keeps them.
  python3 bench/retrieval_head_eager.py --model DIR --tokenizer tokenizer.json \\
      --needles sample_data/prompts/needles.jsonl --haystack sample_data/prompts/haystack.txt \\
      --lengths 1024,4096 --depths 0,50,100 [--needle-count 1] [--prefill sdpa|eager] [--json out.json]
"""
import argparse
import gc
import json
import re
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from transformers_support import load_model, set_attention  # noqa: E402

BUFFER_TOKENS = 200  # the original's final_context_length_buffer
DECODE_STEPS = 50


def rouge1_recall(reference, response):
    """ROUGE-1 recall as the rouge_score package computes it without stemming: lower-cased
    runs of [a-z0-9], clipped unigram overlap over the reference's unigram count."""
    ref = re.findall(r"[a-z0-9]+", reference.lower())
    got = re.findall(r"[a-z0-9]+", response.lower())
    if not ref:
        return 0.0
    counts = {}
    for w in got:
        counts[w] = counts.get(w, 0) + 1
    hit = 0
    for w in ref:
        if counts.get(w, 0) > 0:
            counts[w] -= 1
            hit += 1
    return hit / len(ref)


def build_prompt(tok, haystack, needle, question, length, depth):
    """Token ids of one test and the needle's span in them."""
    context = tok.encode(haystack, add_special_tokens=False)
    needle_ids = tok.encode(needle, add_special_tokens=False)
    budget = length - BUFFER_TOKENS
    if budget <= len(needle_ids):
        raise SystemExit(f"length {length} leaves no room for the needle ({len(needle_ids)} tokens)")
    while len(context) < budget:  # the original repeats its haystack files until long enough
        context += context
    context = context[: budget - len(needle_ids)]
    period = set(tok.encode(".", add_special_tokens=False))
    at = len(context) if depth >= 100 else int(len(context) * depth / 100)
    if depth < 100:
        while at > 0 and context[at - 1] not in period:
            at -= 1
    text = tok.decode(context[:at] + needle_ids + context[at:])
    prompt = text + f"Based on the content of the book, Question: {question}\nAnswer:"
    ids = tok.encode(prompt)
    span = find_span(ids, needle_ids)
    return ids, span


def find_span(ids, needle_ids):
    """The original's search: the first window whose token set overlaps the needle's by > 90%."""
    wanted = set(needle_ids)
    n = len(needle_ids)
    for i in range(len(ids)):
        if len(set(ids[i:i + n]) & wanted) / len(wanted) > 0.9:
            return i, i + n
    return -1, -1


def run_test(model, tok, ids, span, answer, newline_ids, torch, prefill):
    device = next(model.parameters()).device
    layers, heads = model.config.num_hidden_layers, model.config.num_attention_heads
    prompt = torch.tensor([ids], device=device)
    scores = [[0.0] * heads for _ in range(layers)]
    torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        set_attention(model, prefill)
        out = model(input_ids=prompt[:, :-1], use_cache=True, logits_to_keep=1)
        torch.cuda.synchronize()
        prefilled = time.perf_counter()
        set_attention(model, "eager")
        past, inp, generated, scoring = out.past_key_values, prompt[:, -1:], [], 0.0
        start_span, end_span = span
        for _ in range(DECODE_STEPS):
            out = model(input_ids=inp.view(1, 1), past_key_values=past, use_cache=True, output_attentions=True,
                        logits_to_keep=1)
            past = out.past_key_values
            inp = out.logits[0, -1].argmax()
            token = inp.item()
            generated.append(token)
            t0 = time.perf_counter()
            for layer in range(layers):
                for head in range(heads):
                    _, idx = out.attentions[layer][0][head][-1].topk(1)
                    for i in idx:
                        if start_span <= i < end_span and token == ids[int(i)]:
                            scores[layer][head] += 1 / (end_span - start_span)
            scoring += time.perf_counter() - t0
            if token in newline_ids:
                break
    torch.cuda.synchronize()
    end = time.perf_counter()
    response = tok.decode(generated, skip_special_tokens=True).strip()
    recall = rouge1_recall(answer, response)
    return {"seconds": end - start, "prefill_s": prefilled - start, "decode_s": end - prefilled - scoring,
            "scoring_s": scoring, "steps": len(generated), "rouge1_recall": recall,
            "counted": recall > 0.5, "top_head_score": max(max(r) for r in scores)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json (the checkpoint may have none)")
    ap.add_argument("--needles", required=True)
    ap.add_argument("--haystack", required=True)
    ap.add_argument("--lengths", required=True)
    ap.add_argument("--depths", default="0,50,100")
    ap.add_argument("--needle-count", type=int, default=1)
    ap.add_argument("--prefill", choices=["sdpa", "eager"], default="sdpa",
                    help="attention of the prompt's prefill (the decode steps are always eager)")
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch
    from transformers import PreTrainedTokenizerFast
    tok = PreTrainedTokenizerFast(tokenizer_file=args.tokenizer)
    model = load_model(args.model, torch.bfloat16, "cuda")
    needles = [json.loads(line) for line in open(args.needles) if line.strip()][: args.needle_count]
    haystack = open(args.haystack).read()
    newline_ids = {i for i in tok.encode("\n", add_special_tokens=False)}
    results, oom_at = [], None
    for length in [int(x) for x in args.lengths.split(",")]:
        for depth in [float(x) for x in args.depths.split(",")]:
            for needle in needles:
                ids, span = build_prompt(tok, haystack, needle["needle"], needle["question"], length, depth)
                if oom_at is not None and length >= oom_at:
                    r = {"error": f"skipped: out of memory at {oom_at} tokens"}
                else:
                    failure = None
                    try:
                        r = run_test(model, tok, ids, span, needle["answer"], newline_ids, torch, args.prefill)
                    except torch.OutOfMemoryError as e:
                        failure = str(e).split(".")[0]
                    if failure is not None:  # outside the handler: its traceback holds the tensors
                        r, oom_at = {"error": "out of memory: " + failure}, length
                        gc.collect()
                        torch.cuda.empty_cache()
                r.update({"length": length, "tokens": len(ids), "depth": depth, "needle_span": list(span),
                          "prefill": args.prefill})
                print(json.dumps(r), flush=True)
                results.append(r)
    done = [r for r in results if "seconds" in r]
    if done:
        mean = sum(r["seconds"] for r in done) / len(done)
        print(json.dumps({"summary": "retrieval_head_eager", "prefill": args.prefill, "tests": len(done),
                          "mean_seconds_per_test": mean,
                          "device": torch.cuda.get_device_name(0)}))
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
