#!/usr/bin/env python3
"""Measures what the sample model is for: attention sinks, retrieval (needle in a
haystack, passkey), retrieval heads, the head-masking experiment, and local heads.

Prompts are built only from sample_data/prompts (haystack.txt, needles.jsonl,
needle.txt, passkey.txt, short.txt), as the README there describes, so anyone can
rebuild them. The model runs in float32 with transformers' eager attention, so the
attention probabilities are the exact softmax rows.

Definitions (as in docs/metrics.md of AttnScope, with s = 1 sink token, w = 64):
  first-token mass  mean over rows q >= 1 of p(q, 0); a sink head has > 0.5.
  local mass        mean over rows q >= 64 of sum_{q-64 < k <= q} p(q, k); a local head
                    has > 0.5.
  retrieval score   (Wu et al. 2024, "Retrieval Head"): greedy decoding of the answer;
                    at every step, for each layer and query head, take the argmax key of
                    the current query row (the row that chooses the next token, the last
                    prompt token's row first); if that key lies in the needle's answer
                    span and the token just chosen equals the prompt token there, add
                    1 / (answer span length). Averaged over the tests answered right
                    (ROUGE-1 recall of the answer words > 0.5). The answer span is the set
                    of tokens of the needle that overlap the answer text (for the passkey
                    both copies of the key; the length is that of one copy).
Run: python3 evaluate.py --model DIR --out results/eval.json
"""
import argparse
import json
import math
import os
import random
import re
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = os.path.normpath(os.path.join(HERE, "..", "prompts"))
DEPTHS = [round(0.1 * i, 1) for i in range(11)]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def read_template(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text[:-1] if text.endswith("\n") else text


# ---------------------------------------------------------------------------- prompts
class Haystack:
    """The haystack as a ring of sentences (the text twice, joined by a blank line)."""

    _END = re.compile(r"[.!?][\"')\u201d\u2019]?(\s+)")

    def __init__(self, text):
        base = text.strip()
        self.text = base + "\n\n" + base
        self.base_len = len(base)
        self.sent = []
        s = 0
        for m in self._END.finditer(self.text):
            self.sent.append((s, m.start(1)))
            s = m.end(1)
        if s < len(self.text):
            self.sent.append((s, len(self.text)))
        self.paragraph_starts = [i for i, (a, _) in enumerate(self.sent)
                                 if a < self.base_len and (a == 0 or self.text[a - 2:a] == "\n\n")]

    def split(self, s0, n, depth):
        """haystack_before / haystack_after for sentences s0..s0+n-1 with the insertion at
        the sentence boundary nearest to `depth` (in characters)."""
        a = self.sent[s0][0]
        b = self.sent[s0 + n - 1][1]
        target = a + depth * (b - a)
        best, best_d = s0, float("inf")
        for k in range(s0, s0 + n + 1):
            pos = self.sent[k][0] if k < s0 + n else b
            if abs(pos - target) < best_d:
                best, best_d = k, abs(pos - target)
        if best < s0 + n:
            before = self.text[a:self.sent[best][0]]
            after = " " + self.text[self.sent[best][0]:b]
        else:
            before = self.text[a:b] + " "
            after = ""
        return before, after


def fill(template, **kw):
    out = template
    for k, v in kw.items():
        out = out.replace("{" + k + "}", v)
    return out


class PromptBuilder:
    def __init__(self, tok, haystack, needle_tpl, passkey_tpl):
        self.tok, self.h = tok, haystack
        self.needle_tpl, self.passkey_tpl = needle_tpl, passkey_tpl
        # tokens per sentence of the haystack, to bound the binary search below
        n_tok = len(tok.encode(haystack.text[:haystack.base_len], add_special_tokens=False).ids)
        self.tokens_per_sentence = max(1.0, n_tok / max(1, len(haystack.sent) // 2))

    def _render(self, kind, item, before, after):
        if kind == "needle":
            prefix = item["needle"][:item["needle"].rfind(item["answer"])].rstrip()
            text = fill(self.needle_tpl, haystack_before=before, haystack_after=after,
                        needle=item["needle"], question=item["question"], answer_prefix=prefix)
            needle = item["needle"]
        else:
            text = fill(self.passkey_tpl, haystack_before=before, haystack_after=after,
                        key=item["answer"])
            needle = fill("The pass key is {key}. Remember it. {key} is the pass key.",
                          key=item["answer"])
        # the needle is inserted right after haystack_before (plus any template text before it)
        start = text.find(needle, text.find(before) + len(before) if before else 0)
        return text, start, start + len(needle)

    def build(self, kind, item, length, depth, s0):
        """Largest prompt with at most `length` tokens (with <s>) from sentences starting
        at s0; returns a dict with ids, needle char span, answer token positions."""
        lo, hi = 1, min(800, int(2 * length / self.tokens_per_sentence) + 8)
        best = None
        while lo <= hi:
            n = (lo + hi) // 2
            before, after = self.h.split(s0, n, depth)
            text, a, b = self._render(kind, item, before, after)
            enc = self.tok.encode(text)
            if len(enc.ids) <= length:
                best = (n, text, a, b, enc)
                lo = n + 1
            else:
                hi = n - 1
        if best is None:
            raise ValueError(f"no prompt of at most {length} tokens")
        n, text, a, b, enc = best
        ans = item["answer"]
        occ = [m.start() + a for m in re.finditer(re.escape(ans), text[a:b])]
        span, first = [], []
        for i, (s, e) in enumerate(enc.offsets):
            if enc.special_tokens_mask[i]:
                continue
            for j, o in enumerate(occ):
                if s < o + len(ans) and e > o:
                    span.append(i)
                    if j == 0:
                        first.append(i)
                    break
        needle_tok = [i for i, (s, e) in enumerate(enc.offsets)
                      if not enc.special_tokens_mask[i] and s < b and e > a]
        return {"text": text, "ids": enc.ids, "span": span, "span_len": len(first),
                "needle_tokens": (needle_tok[0], needle_tok[-1] + 1),
                "token_depth": needle_tok[0] / max(1, len(enc.ids)), "sentences": n}


# ---------------------------------------------------------------------------- scoring
_W = re.compile(r"[a-z0-9]+")


def rouge1_recall(answer, generated):
    ref = _W.findall(answer.lower())
    hyp = _W.findall(generated.lower())
    if not ref:
        return 0.0
    counts = {}
    for w in hyp:
        counts[w] = counts.get(w, 0) + 1
    hit = 0
    for w in ref:
        if counts.get(w, 0) > 0:
            hit += 1
            counts[w] -= 1
    return hit / len(ref)


def answer_text(tok, ids):
    text = tok.decode(ids, skip_special_tokens=True)
    text = text.lstrip("\n")
    return text.split("\n")[0]


@torch.no_grad()
def decode_scored(model, tok, p, max_new, n_layers, n_heads):
    """Greedy decoding with the retrieval-score bookkeeping of one test."""
    dev = next(model.parameters()).device
    ids = p["ids"]
    x = torch.tensor([ids], device=dev)
    out = model(input_ids=x[:, :-1], use_cache=True)
    past = out.past_key_values
    cur = x[:, -1:]
    T = len(ids) + max_new
    ext = torch.full((T,), -1, dtype=torch.long, device=dev)
    ext[:len(ids)] = x[0]
    span = torch.zeros(T, dtype=torch.bool, device=dev)
    span[p["span"]] = True
    hits = torch.zeros(n_layers, n_heads, device=dev)
    gen = []
    for _ in range(max_new):
        out = model(input_ids=cur, past_key_values=past, use_cache=True, output_attentions=True)
        past = out.past_key_values
        nxt = out.logits[0, -1].argmax()
        att = torch.stack([a[0, :, -1, :] for a in out.attentions])  # [layers, heads, keys]
        top = att.argmax(-1)
        hits += (span[top] & (ext[top] == nxt)).float()
        t = int(nxt)
        gen.append(t)
        if t == 2 or "\n" in tok.decode([t]) and len(answer_text(tok, gen).strip()) > 0:
            break
        cur = nxt.view(1, 1)
    score = (hits / max(1, p["span_len"])).clamp(max=1.0)
    return gen, score


class HeadMask:
    """Zeroes the outputs of chosen query heads (their slice of o_proj's input)."""

    def __init__(self, model):
        self.model = model
        self.handles = []
        cfg = model.config
        self.hd = cfg.head_dim
        self.H = cfg.num_attention_heads

    def set(self, heads):
        self.clear()
        by_layer = {}
        for l, h in heads:
            by_layer.setdefault(l, []).append(h)
        for l, hs in by_layer.items():
            proj = self.model.model.layers[l].self_attn.o_proj

            def hook(mod, args, hs=tuple(hs)):
                x = args[0].clone()
                v = x.view(*x.shape[:-1], self.H, self.hd)
                v[..., list(hs), :] = 0
                return (x,) + tuple(args[1:])
            self.handles.append(proj.register_forward_pre_hook(hook))

    def clear(self):
        for h in self.handles:
            h.remove()
        self.handles = []


@torch.no_grad()
def batched_greedy(model, prompts, max_new, batch=48):
    """Left-padded greedy generation; returns the new token ids of each prompt."""
    dev = next(model.parameters()).device
    outs = []
    for i in range(0, len(prompts), batch):
        chunk = prompts[i:i + batch]
        L = max(len(p) for p in chunk)
        x = torch.zeros(len(chunk), L, dtype=torch.long)
        m = torch.zeros(len(chunk), L, dtype=torch.long)
        for j, p in enumerate(chunk):
            x[j, L - len(p):] = torch.tensor(p)
            m[j, L - len(p):] = 1
        g = model.generate(input_ids=x.to(dev), attention_mask=m.to(dev), max_new_tokens=max_new,
                           do_sample=False, pad_token_id=0, eos_token_id=2)
        outs += [row[L:].tolist() for row in g.cpu()]
    return outs


def accuracy(tok, tests, gens):
    ok = [rouge1_recall(t["answer"], answer_text(tok, g)) > 0.5 for t, g in zip(tests, gens)]
    return sum(ok) / max(1, len(ok))


# ---------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--prompts", default=PROMPTS)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--quick", action="store_true", help="tiny grid, to check the pipeline")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="seconds; once past it, the masking experiment stops adding head counts "
                         "(what was skipped is recorded)")
    args = ap.parse_args()
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import transformers
    t_start = time.time()
    rng = random.Random(args.seed)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                 attn_implementation="eager").to(dev).eval()
    cfg = model.config
    NL, NH = cfg.num_hidden_layers, cfg.num_attention_heads
    res = {"model_dir": args.model, "versions": {"torch": torch.__version__,
                                                 "transformers": transformers.__version__},
           "parameters": sum(p.numel() for p in model.parameters()),
           "files_bytes": {f: os.path.getsize(os.path.join(args.model, f))
                           for f in sorted(os.listdir(args.model))},
           "dtype_eval": "float32", "attn_implementation": "eager", "quick": args.quick}

    hay_text = open(os.path.join(args.prompts, "haystack.txt"), encoding="utf-8").read()
    needles = [json.loads(l) for l in open(os.path.join(args.prompts, "needles.jsonl"))
               if l.strip()]
    needle_tpl = read_template(os.path.join(args.prompts, "needle.txt"))
    passkey_tpl = read_template(os.path.join(args.prompts, "passkey.txt"))
    short = open(os.path.join(args.prompts, "short.txt"), encoding="utf-8").read()
    hay = Haystack(hay_text)
    pb = PromptBuilder(tok, hay, needle_tpl, passkey_tpl)
    res["haystack"] = {"bytes": len(hay_text.encode()), "tokens": len(tok.encode(hay_text).ids),
                       "sentences": len(hay.sent) // 2, "paragraphs": len(hay.paragraph_starts)}

    # tokenizer: transformers' AutoTokenizer must give the same ids
    try:
        at = AutoTokenizer.from_pretrained(args.model)
        sample = short + hay_text[:3000]
        res["tokenizer_check"] = {"autotokenizer_class": type(at).__name__,
                                  "same_ids": at(sample)["input_ids"] == tok.encode(sample).ids,
                                  "bos_first": tok.encode("x").ids[0] == 1}
    except Exception as e:  # noqa: BLE001
        res["tokenizer_check"] = {"error": repr(e)[:300]}
    log("tokenizer", res["tokenizer_check"])

    # short prompt (as stored, and without its final newline)
    res["short_prompt"] = {}
    for name, text in [("as_file", short), ("stripped", short.rstrip("\n"))]:
        ids = tok.encode(text).ids
        g = batched_greedy(model, [ids], 10)[0]
        res["short_prompt"][name] = {"tokens": len(ids), "continuation": tok.decode(g)}
    log("short", res["short_prompt"])

    # haystack perplexity (text the model never saw)
    hay_ids = tok.encode(hay_text, add_special_tokens=False).ids
    tot, cnt = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(hay_ids) - 100, 2047):
            x = torch.tensor([[1] + hay_ids[i:i + 2047]], device=dev)
            lg = model(input_ids=x[:, :-1]).logits
            tot += F.cross_entropy(lg[0], x[0, 1:], reduction="sum").item()
            cnt += x.shape[1] - 1
    res["haystack_ppl"] = math.exp(tot / cnt)
    log("haystack ppl", res["haystack_ppl"])

    # ------------------------------------------------------------------ retrieval grid
    lengths = [512, 2048] if args.quick else [256, 512, 1024, 2048]
    depths = [0.0, 0.5, 1.0] if args.quick else DEPTHS
    n_keys_full, n_keys_short = (2, 1) if args.quick else (10, 4)
    nd = needles[:3] if args.quick else needles
    keys = [str(rng.randint(10000, 99999)) for _ in range(n_keys_full)]
    tests = []
    for L in lengths:
        for d in depths:
            for i, nd_item in enumerate(nd if (L == 2048 or not args.quick) else nd[:2]):
                tests.append(dict(kind="needle", id=i, answer=nd_item["answer"], item=nd_item,
                                  length=L, depth=d))
            for key in (keys if L == 2048 else keys[:n_keys_short]):
                tests.append(dict(kind="passkey", id=key, answer=key, item={"answer": key},
                                  length=L, depth=d))
    for t in tests:
        s0 = rng.choice(hay.paragraph_starts)
        t["s0"] = s0
        t.update(pb.build(t["kind"], t["item"], t["length"], t["depth"], s0))
    log(f"{len(tests)} retrieval tests built")
    scores_sum = torch.zeros(NL, NH)
    n_correct = 0
    rows = []
    for t in tests:
        max_new = len(tok.encode(" " + t["answer"], add_special_tokens=False).ids) + 3
        gen, sc = decode_scored(model, tok, t, max_new, NL, NH)
        ans = answer_text(tok, gen)
        r1 = rouge1_recall(t["answer"], ans)
        ok = r1 > 0.5
        if ok:
            scores_sum += sc.cpu()
            n_correct += 1
        rows.append({"kind": t["kind"], "id": t["id"], "length": t["length"], "depth": t["depth"],
                     "prompt_tokens": len(t["ids"]), "needle_token_depth": round(t["token_depth"], 3),
                     "answer": t["answer"], "generated": ans, "rouge1_recall": r1, "correct": ok,
                     "exact": ans.strip().startswith(t["answer"])})
    log(f"retrieval tests decoded, {n_correct}/{len(tests)} correct")
    retr = scores_sum / max(1, n_correct)
    res["retrieval_tests"] = rows

    def dump():
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        res["eval_s"] = round(time.time() - t_start, 1)
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)

    def table(kind):
        out = {}
        for L in lengths:
            rs = [r for r in rows if r["kind"] == kind and r["length"] == L]
            if not rs:
                continue
            out[str(L)] = {"accuracy": sum(r["correct"] for r in rs) / len(rs),
                           "exact": sum(r["exact"] for r in rs) / len(rs), "n": len(rs),
                           "by_depth": {str(d): sum(r["correct"] for r in rs if r["depth"] == d) /
                                        max(1, sum(1 for r in rs if r["depth"] == d)) for d in depths}}
        return out
    res["needle"] = table("needle")
    res["passkey"] = table("passkey")
    log("needle", json.dumps({L: v["accuracy"] for L, v in res["needle"].items()}))
    log("passkey", json.dumps({L: v["accuracy"] for L, v in res["passkey"].items()}))
    ranked = sorted(((retr[l, h].item(), l, h) for l in range(NL) for h in range(NH)), reverse=True)
    res["retrieval_score"] = {"tests_correct": n_correct, "tests": len(tests),
                              "per_head": [[round(v, 4) for v in row] for row in retr.tolist()],
                              "top": [{"layer": l, "head": h, "score": round(s, 4)}
                                      for s, l, h in ranked[:16]],
                              "heads_above_0.5": [{"layer": l, "head": h, "score": round(s, 4)}
                                                  for s, l, h in ranked if s > 0.5],
                              "heads_above_0.1": sum(1 for s, _, _ in ranked if s > 0.1)}
    log("top retrieval heads", res["retrieval_score"]["top"][:8])
    dump()

    # ------------------------------------------------------------------ sinks and local heads
    stat_prompts = [t for t in tests if t["length"] == max(lengths) and t["depth"] in (0.2, 0.5, 0.8)]
    stat_prompts = stat_prompts[:2] if args.quick else stat_prompts[::max(1, len(stat_prompts) // 8)][:8]
    first = torch.zeros(NL, NH, dtype=torch.float64)
    sink4 = torch.zeros(NL, NH, dtype=torch.float64)
    local = torch.zeros(NL, NH, dtype=torch.float64)
    with torch.no_grad():
        for t in stat_prompts:
            x = torch.tensor([t["ids"]], device=dev)
            out = model(input_ids=x, output_attentions=True)
            T = x.shape[1]
            q = torch.arange(T, device=dev)
            k = torch.arange(T, device=dev)
            win = ((q[:, None] - k[None, :]) < 64) & ((q[:, None] - k[None, :]) >= 0)
            for l, a in enumerate(out.attentions):
                a = a[0].double()  # [H, T, T]
                first[l] += a[:, 1:, 0].mean(-1).cpu()
                sink4[l] += a[:, 4:, :4].sum(-1).mean(-1).cpu()
                local[l] += (a[:, 64:, :] * win[64:]).sum(-1).mean(-1).cpu()
            del out
    n = len(stat_prompts)
    first, sink4, local = first / n, sink4 / n, local / n
    res["attention_stats"] = {
        "prompts": n, "prompt_tokens": [len(t["ids"]) for t in stat_prompts],
        "first_token_mass": [[round(v, 4) for v in row] for row in first.tolist()],
        "sink4_mass": [[round(v, 4) for v in row] for row in sink4.tolist()],
        "local64_mass": [[round(v, 4) for v in row] for row in local.tolist()],
        "sink_heads_per_layer": [[h for h in range(NH) if first[l, h] > 0.5] for l in range(NL)],
        "max_first_token_mass_per_layer": [round(first[l].max().item(), 4) for l in range(NL)],
        "layers_with_sink_head": sum(1 for l in range(NL) if first[l].max() > 0.5),
        "local_heads": [{"layer": l, "head": h, "local64_mass": round(local[l, h].item(), 4)}
                        for l in range(NL) for h in range(NH) if local[l, h] > 0.5],
    }
    log("sinks per layer", res["attention_stats"]["sink_heads_per_layer"],
        res["attention_stats"]["max_first_token_mass_per_layer"])
    log("local heads", res["attention_stats"]["local_heads"])
    dump()

    # ------------------------------------------------------------------ masking experiment
    sdpa = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                attn_implementation="sdpa").to(dev).eval()
    mask = HeadMask(sdpa)
    mtests = [t for t in tests if t["length"] == max(lengths)]
    prompts = [t["ids"] for t in mtests]
    max_new = 10

    def acc_by_kind(gens):
        out = {}
        for kind in ("needle", "passkey"):
            idx = [i for i, t in enumerate(mtests) if t["kind"] == kind]
            out[kind] = accuracy(tok, [mtests[i] for i in idx], [gens[i] for i in idx])
        out["all"] = accuracy(tok, mtests, gens)
        return out
    masking = {"length": max(lengths), "tests": len(mtests), "none": acc_by_kind(batched_greedy(sdpa, prompts, max_new))}
    log("masking: none", masking["none"])
    order = [(l, h) for _, l, h in ranked]
    # first the number of heads with a retrieval score above 0.5 ("masking those heads"),
    # then fixed counts, most informative first (a time limit drops the tail)
    n_above = len(res["retrieval_score"]["heads_above_0.5"])
    ks = [2, 4] if args.quick else [4, 8, 16, 2, 1]
    if n_above and not args.quick:
        ks = [n_above] + [k for k in ks if k != n_above]
    masking["heads_above_0.5"] = n_above
    draws = 1 if args.quick else 3
    masking["k"] = []
    masking["skipped_k"] = []
    res["masking"] = masking
    for k in ks:
        if args.time_limit and time.time() - t_start > args.time_limit:
            masking["skipped_k"].append(k)
            log(f"masking k={k} skipped: past the time limit")
            continue
        top = order[:k]
        mask.set(top)
        acc_top = acc_by_kind(batched_greedy(sdpa, prompts, max_new))
        rand = []
        pool = order[k:]
        for dr in range(draws):
            heads = random.Random(1000 * k + dr).sample(pool, k)
            mask.set(heads)
            rand.append({"heads": heads, **acc_by_kind(batched_greedy(sdpa, prompts, max_new))})
        mask.clear()
        entry = {"k": k, "top_heads": top, "top_masked": acc_top, "random_masked": rand,
                 "random_masked_mean": {kind: sum(r[kind] for r in rand) / len(rand)
                                        for kind in ("needle", "passkey", "all")}}
        masking["k"].append(entry)
        log(f"masking k={k}: top {acc_top} random mean {entry['random_masked_mean']}")
        dump()
    dump()
    log("wrote", args.out, "in", res["eval_s"], "s")


if __name__ == "__main__":
    main()
