#!/usr/bin/env python3
"""Trains the bundled sample model (sample_data/sample-llama) from scratch.

Pipeline (all on the GPU machine; the model card is ../README.md, run_all.sh drives it):
  1. gather training text from files on the machine (corpus.py), split off a held-out set
     (--prepare-only stops here, after caching the tokenized data in --work);
  2. train a byte-level BPE tokenizer (Hugging Face tokenizers) on it;
  3. train a small LlamaForCausalLM on 2112-token sequences of that text mixed with
     synthetic retrieval tasks (tasks.py), bf16 autocast, AdamW, cosine schedule, plus
     the optional attention-sink term ("sink_aux" in train_config.json, see below);
  4. write a Hugging Face checkpoint (bf16 model.safetensors, config.json,
     generation_config.json, tokenizer.json, tokenizer_config.json) and a JSON summary
     with every setting, the library versions, the loss curve and held-out perplexity.

Settings come from train_config.json (next to this file); --steps / --time-budget
override the number of steps, and the number actually used is written to the summary.
Everything random is seeded: Python, torch (model init) and the data order (batch b is a
pure function of (seed, b)); GPU kernels run with torch.use_deterministic_algorithms.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import random
import sys
import time

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus as corpus_mod  # noqa: E402
import tasks  # noqa: E402

# Qwen2/Qwen3's pre-tokenizer pattern: digits one by one, words with their leading space.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                 r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL = ["<unk>", "<s>", "</s>"]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def seed_all(seed):
    random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


# ---------------------------------------------------------------------------- data
def build_tokenizer(texts, cfg):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=cfg["vocab_size"], min_frequency=cfg["min_frequency"],
                                  special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    budget, sample = cfg["train_bytes"], []
    for t in texts:
        sample.append(t)
        budget -= len(t)
        if budget <= 0:
            break
    tok.train_from_iterator(sample, trainer=trainer, length=len(sample))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", 1)])
    assert [tok.token_to_id(s) for s in SPECIAL] == [0, 1, 2]
    return tok


def prepare_data(cfg, work):
    """Corpus, tokenizer and tokenized corpus, cached in `work` (keyed by their settings)."""
    from tokenizers import Tokenizer
    key = hashlib.sha256(json.dumps([cfg["seed"], cfg["corpus"], cfg["tokenizer"]],
                                    sort_keys=True).encode()).hexdigest()[:16]
    cache = os.path.join(work, f"data-{key}.pt")
    if os.path.exists(cache):
        log("using cached data", cache)
        d = torch.load(cache, weights_only=False)
        tok = Tokenizer.from_str(d["tokenizer_json"])
        return d, tok
    t0 = time.time()
    docs, stats = corpus_mod.collect(cfg["corpus"])
    train_docs, held_docs = corpus_mod.split_heldout(docs, cfg["corpus"]["heldout_fraction"])
    rng = random.Random(cfg["seed"])
    rng.shuffle(train_docs)
    stats["train_documents"], stats["heldout_documents"] = len(train_docs), len(held_docs)
    stats["train_bytes"] = sum(len(d) for _, d in train_docs)
    stats["heldout_bytes"] = sum(len(d) for _, d in held_docs)
    stats["collect_s"] = round(time.time() - t0, 1)
    log("corpus", json.dumps(stats))
    t0 = time.time()
    texts = [d for _, d in train_docs]
    tok = build_tokenizer(texts, cfg["tokenizer"])
    stats["tokenizer_s"] = round(time.time() - t0, 1)
    t0 = time.time()
    corp = tasks.tokenize_corpus(texts, tok)
    held = tasks.tokenize_corpus([d for _, d in held_docs], tok)
    words = tasks.corpus_words(texts[:20000])
    stats["tokenize_s"] = round(time.time() - t0, 1)
    stats["train_tokens"], stats["heldout_tokens"] = len(corp.tokens), len(held.tokens)
    stats["boundaries"] = len(corp.bounds)
    stats["corpus_words"] = len(words)
    log("tokenized", stats["train_tokens"], "train tokens,", stats["heldout_tokens"], "held-out")
    d = {"tokenizer_json": tok.to_str(), "tokens": corp.tokens, "bounds": corp.bounds,
         "lead": corp.lead_space, "words": words, "held_tokens": held.tokens,
         "held_sources": sorted({s for s, _ in held_docs}), "stats": stats}
    os.makedirs(work, exist_ok=True)
    torch.save(d, cache)
    return d, tok


class Batches(torch.utils.data.IterableDataset):
    def __init__(self, data, tok_json, task_cfg, seq_len, batch_size, seed, first, count):
        self.data, self.tok_json, self.task_cfg = data, tok_json, task_cfg
        self.seq_len, self.batch_size, self.seed = seq_len, batch_size, seed
        self.first, self.count = first, count

    def __iter__(self):
        from tokenizers import Tokenizer
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        corp = tasks.Corpus(self.data["tokens"], self.data["bounds"], self.data["lead"],
                            self.data["words"])
        sampler = tasks.TaskSampler(corp, Tokenizer.from_str(self.tok_json), self.task_cfg,
                                    self.seq_len, self.seed)
        for b in range(self.first + wid, self.first + self.count, nw):
            yield sampler.batch(b, self.batch_size)


def loader(data, tok, cfg, first, count):
    t = cfg["train"]
    ds = Batches(data, tok.to_str(), cfg["tasks"], t["seq_len"], t["batch_size"], cfg["seed"],
                 first, count)
    nw = t["num_workers"]
    return torch.utils.data.DataLoader(ds, batch_size=None, num_workers=nw, pin_memory=True,
                                       prefetch_factor=4 if nw else None)


# ---------------------------------------------------------------------------- sink term
# An optional auxiliary term (train_config.json "sink_aux") asks, in each layer from
# `layers_from` on, that at least one query head (whichever is closest already) put
# `target` of its attention on the first token, averaged over a strided sample of query
# rows. It only acts while that is not so (a hinge), and it is a training device only:
# the saved checkpoint is a plain LlamaForCausalLM (sdpa attention), and evaluate.py
# measures the sinks with eager attention like everything else.
SINK = {"on": False, "stride": 33, "offset": 0, "stats": {}}


def sink_sdpa(module, query, key, value, attention_mask, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    out = sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if SINK["on"] and module.training and module.layer_idx >= SINK["layers_from"]:
        B, H, T, D = query.shape
        g = H // key.shape[1]
        scaling = kwargs.get("scaling") or module.scaling
        start = 1 + SINK["offset"] % SINK["stride"]
        q = query[:, :, start::SINK["stride"], :].float()                    # [B,H,n,D]
        k = key.float()[:, :, None].expand(B, key.shape[1], g, T, D).reshape(B, H, T, D)
        s = torch.matmul(q, k.transpose(-1, -2)) * scaling                   # [B,H,n,T]
        pos = torch.arange(start, T, SINK["stride"], device=query.device)
        future = torch.arange(T, device=query.device)[None, :] > pos[:, None]
        s = s.masked_fill(future, float("-inf"))
        p0 = torch.exp(s[..., 0] - torch.logsumexp(s, dim=-1))              # [B,H,n]
        SINK["stats"][module.layer_idx] = p0.mean(dim=(0, 2))               # [H]
    return out


def register_sink_attention():
    from transformers import AttentionInterface
    AttentionInterface.register("sdpa_sink", sink_sdpa)


def sink_loss(n_layers, sa):
    layers = [l for l in range(sa["layers_from"], n_layers)]
    if any(l not in SINK["stats"] for l in layers):
        log("WARNING: the sink term got no statistics (custom attention not called); it is off")
        SINK["on"] = False
        return torch.zeros((), device="cuda"), None
    m = torch.stack([SINK["stats"][l] for l in layers])                     # [L,H]
    best = m.max(dim=1).values
    SINK["stats"] = {}
    return torch.relu(sa["target"] - best).mean(), best.detach()


# ---------------------------------------------------------------------------- model
def build_model(cfg, vocab_size):
    from transformers import AutoModelForCausalLM, LlamaConfig
    m = cfg["model"]
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=m["hidden_size"],
                         intermediate_size=m["intermediate_size"],
                         num_hidden_layers=m["num_hidden_layers"],
                         num_attention_heads=m["num_attention_heads"],
                         num_key_value_heads=m["num_key_value_heads"], head_dim=m["head_dim"],
                         max_position_embeddings=m["max_position_embeddings"],
                         rms_norm_eps=m["rms_norm_eps"], rope_theta=m["rope_theta"],
                         tie_word_embeddings=m["tie_word_embeddings"],
                         initializer_range=m["initializer_range"],
                         bos_token_id=1, eos_token_id=2, attention_bias=False, mlp_bias=False)
    seed_all(cfg["seed"])
    sa = cfg.get("sink_aux", {})
    if sa.get("weight", 0) > 0:
        register_sink_attention()
        SINK.update(on=True, layers_from=sa["layers_from"], stride=sa["stride"])
        try:
            model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa_sink")
        except Exception as e:  # noqa: BLE001
            log("from_config(attn_implementation='sdpa_sink') failed:", repr(e)[:200])
            seed_all(cfg["seed"])
            model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
            try:
                model.set_attn_implementation("sdpa_sink")
            except Exception as e2:  # noqa: BLE001
                log("set_attn_implementation failed:", repr(e2)[:200])
                model.config._attn_implementation = "sdpa_sink"
        log("attention implementation:", model.config._attn_implementation)
    else:
        model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    return model


def lr_at(step, t, steps):
    if step < t["warmup_steps"]:
        return t["lr"] * (step + 1) / t["warmup_steps"]
    p = (step - t["warmup_steps"]) / max(1, steps - t["warmup_steps"])
    return t["lr"] * (t["min_lr_ratio"] + (1 - t["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * p)))


def make_optimizer(model, t):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=1e-8, fused=True)


def train_step(model, opt, x, w, t, lr, sa=None, step=0):
    for g in opt.param_groups:
        g["lr"] = lr
    SINK["offset"] = step
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(input_ids=x[:, :-1]).logits
    tok_loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                               reduction="none")
    ww = w[:, 1:].reshape(-1)
    loss = (tok_loss * ww).sum() / ww.sum()
    total = loss
    sink = None
    if SINK["on"] and sa:
        aux, sink = sink_loss(model.config.num_hidden_layers, sa)
        total = loss + sa["weight"] * aux
    opt.zero_grad(set_to_none=True)
    total.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
    opt.step()
    ans = ww > 1
    return loss.detach(), (tok_loss.detach() * ans).sum() / ans.sum().clamp(min=1), \
        (tok_loss.detach() * ~ans).sum() / (~ans).sum(), gn.detach(), sink


def heldout_ppl(model, tokens, seq_len, max_windows):
    """exp(mean next-token loss) over windows <s> + 2047 held-out tokens."""
    n = seq_len - 1
    windows = min(max_windows, len(tokens) // n)
    tot, cnt = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, windows, 8):
            xs = [torch.cat([torch.tensor([1], dtype=torch.int32), tokens[j * n:(j + 1) * n]])
                  for j in range(i, min(windows, i + 8))]
            x = torch.stack(xs).long().cuda()
            logits = model(input_ids=x[:, :-1]).logits.float()
            l = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                reduction="sum")
            tot += l.item()
            cnt += x[:, 1:].numel()
    model.train()
    return {"windows": windows, "tokens": cnt, "loss": tot / max(cnt, 1),
            "ppl": math.exp(tot / max(cnt, 1)) if cnt else None}


def run_steps(model, opt, data, tok, cfg, steps, first, log_every, curve, deterministic_ok):
    t = cfg["train"]
    it = iter(loader(data, tok, cfg, first, steps))
    tokens_per_step = t["batch_size"] * (t["seq_len"] - 1)
    t_start = time.time()
    wait = 0.0
    for step in range(steps):
        t0 = time.time()
        x, w = next(it)
        wait += time.time() - t0
        x = x.cuda(non_blocking=True)
        w = w.cuda(non_blocking=True)
        loss, aloss, tloss, gn, sink = train_step(model, opt, x, w, t, lr_at(step, t, steps),
                                                  cfg.get("sink_aux"), step)
        if curve is not None and (step % log_every == 0 or step == steps - 1):
            el = time.time() - t_start
            rec = {"step": step, "loss": round(loss.item(), 4), "answer_loss": round(aloss.item(), 4),
                   "text_loss": round(tloss.item(), 4), "grad_norm": round(gn.item(), 3),
                   "lr": lr_at(step, t, steps), "elapsed_s": round(el, 1),
                   "tokens_per_s": round(tokens_per_step * (step + 1) / max(el, 1e-6)),
                   "data_wait_s": round(wait, 1)}
            if sink is not None:
                rec["sink_max_first_token_mass"] = [round(v, 3) for v in sink.tolist()]
            curve.append(rec)
            log(json.dumps(rec))
    torch.cuda.synchronize()
    return time.time() - t_start, wait


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=os.path.join(HERE, "train_config.json"))
    ap.add_argument("--out", help="writes OUT/sample-llama and OUT/training_summary.json")
    ap.add_argument("--prepare-only", action="store_true",
                    help="only gather the corpus, train the tokenizer and fill the cache in --work "
                         "(run_all.sh does this first, in a process that never touches the GPU)")
    ap.add_argument("--work", default="/tmp/attnscope-train", help="cache for corpus and tokenizer")
    ap.add_argument("--steps", type=int, default=None, help="override train.steps")
    ap.add_argument("--time-budget", type=float, default=None,
                    help="choose the number of steps from a short timing run so that training "
                         "takes about this many seconds (the chosen number is recorded)")
    args = ap.parse_args()
    import faulthandler
    # if a stage hangs, the log shows where (every 90 s, until training starts)
    faulthandler.dump_traceback_later(90, repeat=True)
    with open(args.config) as f:
        cfg = json.load(f)
    t = cfg["train"]
    if args.prepare_only:
        log("preparing data")
        prepare_data(cfg, args.work)
        log("data ready")
        faulthandler.cancel_dump_traceback_later()
        return
    if not args.out:
        ap.error("--out is required")
    summary = {"config_file": os.path.relpath(args.config, HERE), "config": cfg, "argv": sys.argv[1:]}
    import tokenizers
    import transformers
    summary["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "transformers": transformers.__version__,
                           "tokenizers": tokenizers.__version__, "cuda": torch.version.cuda,
                           "device": torch.cuda.get_device_name(0)}
    if t.get("deterministic", True):
        torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    t_all = time.time()
    data, tok = prepare_data(cfg, args.work)
    summary["data"] = data["stats"]
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    vocab = tok.get_vocab_size()

    steps = args.steps or t["steps"]
    # One throw-away model: checks that the deterministic kernels exist (else falls back to
    # warn-only mode, recorded) and, with --time-budget, times steps to choose their number.
    model = build_model(cfg, vocab).cuda().train()
    opt = make_optimizer(model, t)
    it = iter(loader(data, tok, cfg, 10_000_000, 24))
    x, w = next(it)
    try:
        train_step(model, opt, x.cuda(), w.cuda(), t, 1e-4, cfg.get("sink_aux"))
        summary["deterministic_algorithms"] = bool(t.get("deterministic", True))
    except RuntimeError as e:
        log("deterministic kernels unavailable, warn-only mode:", str(e)[:300])
        torch.use_deterministic_algorithms(True, warn_only=True)
        summary["deterministic_algorithms"] = "warn_only: " + str(e)[:300]
        train_step(model, opt, x.cuda(), w.cuda(), t, 1e-4, cfg.get("sink_aux"))
    if args.time_budget:
        for _ in range(5):
            x, w = next(it)
            train_step(model, opt, x.cuda(non_blocking=True), w.cuda(non_blocking=True), t, 1e-4, cfg.get("sink_aux"))
        torch.cuda.synchronize()
        t0, n = time.time(), 16
        for _ in range(n):
            x, w = next(it)
            train_step(model, opt, x.cuda(non_blocking=True), w.cuda(non_blocking=True), t, 1e-4, cfg.get("sink_aux"))
        torch.cuda.synchronize()
        per_step = (time.time() - t0) / n
        steps = max(50, int(args.time_budget / per_step))
        summary["calibration"] = {"s_per_step": round(per_step, 4), "steps_chosen": steps}
        log(f"calibration: {per_step:.3f} s/step -> {steps} steps")
    del model, opt, it
    torch.cuda.empty_cache()
    summary["steps"] = steps

    model = build_model(cfg, vocab).cuda().train()
    n_params = sum(p.numel() for p in model.parameters())
    summary["parameters"] = n_params
    log(f"model: {n_params} parameters")
    opt = make_optimizer(model, t)
    curve = []
    faulthandler.cancel_dump_traceback_later()
    train_s, wait_s = run_steps(model, opt, data, tok, cfg, steps, 0, t["log_every"], curve, True)
    summary["sink_aux_active"] = bool(SINK["on"])
    summary["train_s"] = round(train_s, 1)
    summary["data_wait_s"] = round(wait_s, 1)
    summary["tokens_seen"] = steps * t["batch_size"] * (t["seq_len"] - 1)
    summary["tokens_per_s"] = round(summary["tokens_seen"] / train_s)
    summary["curve"] = curve
    log(f"trained {steps} steps in {train_s:.1f} s ({summary['tokens_per_s']} tok/s)")

    summary["heldout"] = heldout_ppl(model, data["held_tokens"], 2048, t["heldout_windows"])
    summary["heldout"]["sources"] = data["held_sources"]
    log("held-out", json.dumps(summary["heldout"]))

    # ------------------------------------------------------------------ checkpoint
    from transformers import GenerationConfig
    ckpt = os.path.join(args.out, "sample-llama")
    os.makedirs(ckpt, exist_ok=True)
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, do_sample=False)
    SINK["on"] = False
    try:
        model.set_attn_implementation("sdpa")
    except Exception as e:  # noqa: BLE001
        log("set_attn_implementation failed:", repr(e)[:200])
        model.config._attn_implementation = "sdpa"
    model.to(torch.bfloat16).save_pretrained(ckpt)
    tok.save(os.path.join(ckpt, "tokenizer.json"))
    with open(os.path.join(ckpt, "config.json")) as f:
        saved = json.load(f)
    if any("sink" in str(v) for v in saved.values()):  # the training-only attention function
        saved = {k: v for k, v in saved.items() if "sink" not in str(v)}
        with open(os.path.join(ckpt, "config.json"), "w") as f:
            json.dump(saved, f, indent=2, sort_keys=True)
            f.write("\n")
    with open(os.path.join(ckpt, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>",
                   "eos_token": "</s>", "unk_token": "<unk>", "clean_up_tokenization_spaces": False,
                   "model_max_length": cfg["model"]["max_position_embeddings"]}, f, indent=2)
    summary["files"] = {n: {"bytes": os.path.getsize(os.path.join(ckpt, n)),
                            "sha256": sha256_file(os.path.join(ckpt, n))}
                        for n in sorted(os.listdir(ckpt))}
    summary["checkpoint_bytes"] = sum(v["bytes"] for v in summary["files"].values())
    summary["total_s"] = round(time.time() - t_all, 1)
    with open(os.path.join(args.out, "training_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("wrote", ckpt, summary["checkpoint_bytes"], "bytes")


if __name__ == "__main__":
    main()
