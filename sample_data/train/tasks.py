"""Synthetic long-context retrieval tasks mixed into natural training text.

Each training sequence is <s> + a document + (for short documents) more plain text.
A document is natural filler text (consecutive sentences of the corpus) with facts
inserted at sentence or line boundaries at uniformly random depths, followed by
questions whose answers copy values out of those facts:
  passkey   "The pass key is 71432. Remember it. 71432 is the pass key."
            -> "What is the pass key? The pass key is 71432."
  attribute "The colour of the lantern is amber." -> "What is the colour of the
            lantern? The colour of the lantern is amber." (several families: magic
            numbers, favourites, places, dates, best things to do, ...)
  key-value a block of "key: value" lines -> "key: value" asked again later
  copy      a span of the filler repeated verbatim later (induction)
About a third of the values are made-up words and names of several tokens (_rare), so
that answering needs copying every piece rather than finishing a familiar word.
The answer values get a larger loss weight. Everything is drawn from a random.Random
seeded with (seed, batch index), so batch b is the same whatever the number of
DataLoader workers.
"""
import bisect
import random
import re

import torch

PASSKEY_PREAMBLE = ("There is an important info hidden inside a lot of irrelevant text. "
                    "Find it and memorize it. I will quiz you about the important "
                    "information there.\n\n")

ATTR_LIST = ["colour", "color", "name", "password", "secret ingredient", "favourite food",
             "favorite dish", "code word", "lucky number", "magic word", "owner", "price",
             "location", "secret code", "best feature", "main export", "oldest member", "motto",
             "nickname", "hidden treasure", "real name", "home town", "middle name", "first rule",
             "missing piece", "last word", "official song", "chosen symbol", "guiding star",
             "true purpose", "lost key", "emergency contact", "meeting point", "opening time",
             "special tool", "combination", "serial number", "registration number", "call sign",
             "signal word", "flag colour", "secret recipe", "hidden message", "favourite colour",
             "favourite animal", "favourite book", "favorite game", "shape", "weight", "height",
             "age", "capital", "language", "mascot", "keeper", "founder", "builder", "tenant",
             "sponsor", "patron", "guardian", "answer", "title", "theme", "origin", "goal",
             "reward", "cost", "speed", "size", "material", "sound", "smell", "taste", "target",
             "password hint", "access code", "safe word", "travel plan", "favourite season"]
NOUNS = """castle river garden bridge tower village forest mountain island harbor library
museum kitchen school market temple lighthouse orchard valley desert station factory
engine machine robot telescope compass lantern mirror clock violin piano drum guitar
ship boat train carriage wagon bicycle rocket balloon airship submarine tent cabin
cottage palace fortress monastery theatre stadium circus festival parade wedding
company club team council committee guild society kingdom empire republic province
city town county district street avenue square park fountain statue monument
dragon unicorn falcon eagle owl raven fox wolf bear tiger lion horse dog cat rabbit
turtle dolphin whale shark octopus spider beetle butterfly bee ant crab lobster
soup bread cake pie salad stew pasta pizza cheese wine coffee tea juice honey jam
book letter map diary journal poem song novel painting sculpture photograph film
project experiment recipe puzzle riddle game tournament contest mission expedition
planet comet asteroid moon star galaxy nebula satellite volcano glacier canyon cave
shop bakery pharmacy hospital hotel restaurant bank office warehouse workshop studio
farm barn mill well pond lake ocean bay beach cliff meadow swamp jungle prairie
captain doctor teacher farmer baker pilot sailor soldier merchant painter writer
professor student wizard knight queen king prince princess duke judge mayor nurse""".split()
ADJS = """red blue green yellow purple orange silver golden black white grey brown pink
ancient modern quiet loud bright dark tiny huge old young hidden secret lost broken
frozen burning wooden iron stone glass crystal velvet silk paper copper marble
northern southern eastern western upper lower inner outer little great royal humble
swift slow brave gentle clever wild calm stormy sunny misty lucky strange curious""".split()
NAMES = """Alice Bruno Clara David Elena Felix Greta Hugo Irene Jonas Kira Liam Mona Nadia
Oscar Paula Quentin Rosa Samuel Tara Umar Vera Walter Xenia Yusuf Zoe Amara Boris
Chloe Dmitri Esther Farid Gloria Henrik Ingrid Jamal Keiko Lorenzo Maya Nikolai Olga
Pedro Rania Sven Tomas Ursula Victor Wanda Yara Zeno Anton Bianca Cyrus Daria Emil
Fiona Gustav Hana Ivan Julia Karl Lena Marco Nina Otto Priya Rafael Sofia Theo Uma""".split()
PLACES = """attic basement cellar garage shed drawer cupboard wardrobe closet pantry
chest box safe vault locker trunk basket envelope pocket bag suitcase cabinet shelf
tower crypt chapel greenhouse stable kitchen study office library hallway balcony""".split()
CITIES = """Paris Lisbon Vienna Prague Oslo Cairo Lima Quito Dakar Hanoi Kyoto Seoul
Dublin Madrid Athens Berlin Warsaw Helsinki Tallinn Riga Zagreb Sofia Tunis Accra
Nairobi Denver Boston Austin Seattle Toronto Montreal Havana Bogota Santiago Perth
Auckland Manila Jakarta Mumbai Delhi Tehran Istanbul Naples Venice Geneva Porto""".split()
DAYS = """Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split()
MONTHS = """January February March April May June July August September October November
December""".split()
VERBS = """eat read walk swim sing paint climb watch visit cook explore sail dance ride
photograph sketch collect taste listen""".split()
ACTIVITY_TAILS = ["in the park", "on a sunny day", "near the river", "at the old market",
                  "under the trees", "by the harbor", "in the morning", "after sunset",
                  "with friends", "on the hill", "at the museum", "in the quiet square"]
WEEKDAY_TIMES = ["at noon", "at dawn", "in the evening", "at midnight", "at nine", "at four"]
# other verbs than "is", so that copying the value does not hinge on one phrasing
RELATIONS = ["was", "leaves at", "arrives at", "opens at", "belongs to", "lives in",
             "comes from", "was found in", "was built by", "was won by", "is made of",
             "points to", "starts at", "ends with", "was sold to", "sleeps in"]
SUBJECT_HEADS = ["winner of the", "oldest", "spare", "first", "last", "train to the",
                 "letter from the", "owner of the", "key to the", "map of the", ""]


ONSETS = ["", "", "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl", "l", "m",
          "n", "p", "pl", "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ou", "ea", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "m", "x", "nd", "rt", "ff"]
TITLES = ["Professor", "Doctor", "Captain", "Madame", "Sir", "Lady", "Mister", "Aunt", "Uncle"]


def _rare(rng, cap=None):
    """A made-up word of 2-4 syllables: several tokens that the text prior cannot finish,
    so answering needs copying every piece (like saffron, turquoise or Okafor)."""
    w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                for _ in range(rng.randint(2, 4)))
    if cap is None:
        cap = rng.random() < 0.35
    return w.capitalize() if cap else w


def _rare_value(rng, corpus_words):
    r = rng.random()
    if r < 0.5:
        return _rare(rng)
    if r < 0.65:
        return rng.choice(TITLES) + " " + _rare(rng, cap=True)
    if r < 0.8:
        return _rare(rng, cap=True) + " " + _rare(rng, cap=True)
    return ("a " if rng.random() < 0.5 else "the ") + rng.choice(ADJS) + " " + _rare(rng, cap=False)


def _word(rng, corpus_words, cap=False):
    if corpus_words and rng.random() < 0.4:
        w = rng.choice(corpus_words)
    else:
        w = rng.choice(NOUNS if rng.random() < 0.7 else ADJS)
    return w.capitalize() if cap else w


def _number(rng):
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(10000, 99999))
    if r < 0.75:
        return str(rng.randint(100, 9999))
    return str(rng.randint(100000, 9999999))


def _value(rng, corpus_words):
    r = rng.random()
    if r < 0.35:
        return _rare_value(rng, corpus_words)
    r = rng.random()
    if r < 0.45:
        return _word(rng, corpus_words, cap=rng.random() < 0.25)
    if r < 0.65:
        return _number(rng)
    if r < 0.85:
        n = rng.randint(2, 3)
        words = [rng.choice(ADJS)] + [_word(rng, corpus_words) for _ in range(n - 1)]
        return ("a " if rng.random() < 0.5 else "the ") + " ".join(words)
    return rng.choice(NAMES)


def _obj(rng, corpus_words):
    r = rng.random()
    if r < 0.5:
        return _word(rng, corpus_words)
    if r < 0.8:
        return rng.choice(ADJS) + " " + _word(rng, corpus_words)
    return _word(rng, corpus_words) + " of the " + _word(rng, corpus_words)


def make_fact(rng, corpus_words, kind=None, attr=None):
    """Returns (fact, question, answer_prefix, answer)."""
    if kind is None:
        kind = rng.choices(["attr", "attr_for", "magic", "fav", "where", "when", "best",
                            "attr_name", "generic"], [30, 8, 14, 10, 8, 8, 8, 8, 10])[0]
    if kind == "passkey":
        n = rng.choices([5, 4, 6, 7, 3], [70, 8, 8, 7, 7])[0]
        key = str(rng.randint(10 ** (n - 1), 10 ** n - 1))
        return (f"The pass key is {key}. Remember it. {key} is the pass key.",
                "What is the pass key?", "The pass key is", key)
    if kind in ("attr", "attr_for"):
        a = attr or rng.choice(ATTR_LIST)
        o = _obj(rng, corpus_words)
        link = "of" if kind == "attr" else "for"
        p = f"The {a} {link} the {o} is"
        v = _value(rng, corpus_words)
        return f"{p} {v}.", f"What is the {a} {link} the {o}?", p, v
    if kind == "magic":
        o = rng.choice([_word(rng, corpus_words), rng.choice(NAMES), rng.choice(CITIES),
                        _obj(rng, corpus_words)])
        p = f"The special magic number for {o} is"
        v = _number(rng)
        return f"{p} {v}.", f"What is the special magic number for {o}?", p, v
    if kind == "fav":
        n = rng.choice(NAMES)
        t = rng.choice(["food", "colour", "color", "animal", "book", "song", "city", "word",
                        "number", "tool", "flower", "game", "drink", "season", "sport"])
        p = f"{n}'s favourite {t} is" if rng.random() < 0.5 else f"{n}'s favorite {t} is"
        v = _value(rng, corpus_words)
        return f"{p} {v}.", f"What is {p[:-3]}?", p, v
    if kind == "where":
        o = _obj(rng, corpus_words)
        verb = rng.choice(["kept", "hidden", "stored", "buried", "locked"])
        p = f"The {o} is {verb} in the"
        v = rng.choice(PLACES + NOUNS) if rng.random() < 0.7 else _word(rng, corpus_words)
        return f"{p} {v}.", f"Where is the {o} {verb}?", p, v
    if kind == "when":
        o = rng.choice(["meeting with the", "party for the", "visit to the", "trip to the",
                        "concert in the", "lecture about the", "dinner with the"])
        w = _word(rng, corpus_words)
        p = f"The {o} {w} is on"
        v = rng.choice(DAYS) if rng.random() < 0.6 else f"{rng.randint(1, 28)} {rng.choice(MONTHS)}"
        return f"{p} {v}.", f"When is the {o} {w}?", p, v
    if kind == "best":
        c = rng.choice(CITIES) if rng.random() < 0.6 else _word(rng, corpus_words, cap=True)
        p = f"The best thing to do in {c} is"
        v = (f"to {rng.choice(VERBS)} " + rng.choice(["a ", "the ", ""]) +
             _word(rng, corpus_words) + " " + rng.choice(ACTIVITY_TAILS))
        return f"{p} {v}.", f"What is the best thing to do in {c}?", p, v
    if kind == "generic":
        head = rng.choice(SUBJECT_HEADS)
        o = _obj(rng, corpus_words)
        subj = f"The {head} {o}" if head else f"The {o}"
        rel = rng.choice(RELATIONS)
        p = f"{subj} {rel}"
        v = rng.choice([rng.choice(NAMES) + " " + rng.choice(NAMES), rng.choice(WEEKDAY_TIMES)[3:],
                        _value(rng, corpus_words), _value(rng, corpus_words)])
        q = rng.choice([f"What about the {head + ' ' if head else ''}{o}?",
                        f"Tell me about the {head + ' ' if head else ''}{o}."])
        return f"{p} {v}.", q, p, v
    # attr_name
    n = rng.choice(NAMES)
    a = attr or rng.choice(ATTR_LIST)
    p = f"The {a} of {n} is"
    v = _value(rng, corpus_words)
    return f"{p} {v}.", f"What is the {a} of {n}?", p, v


def make_kv(rng, corpus_words):
    n = rng.randint(4, 24)
    keys, seen = [], set()
    while len(keys) < n:
        r = rng.random()
        if r < 0.4:
            k = f"{_word(rng, corpus_words)}-{rng.randint(1, 999)}"
        elif r < 0.7:
            k = f"{rng.choice(ADJS)}-{_word(rng, corpus_words)}"
        else:
            k = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
        if k not in seen:
            seen.add(k)
            keys.append(k)
    vals = [_number(rng) if rng.random() < 0.4 else
            _rare(rng) if rng.random() < 0.4 else _word(rng, corpus_words) for _ in keys]
    return keys, vals


class Corpus:
    """The tokenized training text: flat token ids plus the positions where sentences or
    lines start (insertion points), and whether that boundary text starts with a space."""

    def __init__(self, tokens, bounds, lead_space, words):
        self.tokens = tokens            # int32 tensor [N]
        self.bounds = bounds            # int64 tensor [M], sorted token positions
        self.lead_space = lead_space    # bool tensor [M]
        self.bounds_list = bounds.tolist()
        self.lead_list = lead_space.tolist()
        self.words = words


class TaskSampler:
    def __init__(self, corpus, tokenizer, cfg, seq_len, seed):
        self.c = corpus
        self.tok = tokenizer            # tokenizers.Tokenizer (or anything with encode_batch)
        self.cfg = cfg
        self.seq_len = seq_len
        self.seed = seed

    # ---- helpers ---------------------------------------------------------------------
    def _filler(self, rng, n):
        """n consecutive corpus tokens starting at a sentence/line start; boundaries inside."""
        N = len(self.c.tokens)
        bl = self.c.bounds_list
        i = rng.randrange(len(bl))
        start = bl[i]
        if start + n >= N:
            i = 0
            start = bl[0]
        j = bisect.bisect_left(bl, start + n)
        inner = [(bl[k] - start, self.c.lead_list[k]) for k in range(i + 1, j)]
        return self.c.tokens[start:start + n], inner

    def _encode(self, texts):
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=False)]

    # ---- one batch -------------------------------------------------------------------
    def batch(self, index, batch_size):
        rng = random.Random(self.seed * 1_000_003 + index)
        plans = [self._plan(rng) for _ in range(batch_size)]
        texts = []
        for p in plans:
            for item in p["texts"]:
                texts.append(item)
        ids = self._encode(texts) if texts else []
        pos = 0
        xs, ws = [], []
        for p in plans:
            k = len(p["texts"])
            x, w = self._assemble(rng, p, ids[pos:pos + k])
            pos += k
            xs.append(x)
            ws.append(w)
        return torch.stack(xs), torch.stack(ws)

    def _plan(self, rng):
        t = self.cfg
        words = self.c.words
        plan = {"texts": [], "facts": [], "qa": [], "kv": None, "copy": False, "preamble": False}
        r = rng.random()
        if r < t["p_plain"]:
            plan["kind"] = "plain"
            return plan
        plan["kind"] = "doc"
        if rng.random() < t["p_full_length_doc"]:
            plan["doc_len"] = self.seq_len - 1
        else:
            plan["doc_len"] = rng.randint(t["min_doc_len"], self.seq_len - 1)
        n_facts = rng.choices([0, 1, 2, 3, 4], t["n_facts_weights"])[0]
        facts = []
        if n_facts and rng.random() < t["p_passkey"]:
            facts.append(make_fact(rng, words, "passkey"))
            plan["preamble"] = rng.random() < t["p_preamble"]
        shared_attr = rng.choice(ATTR_LIST) if rng.random() < t["p_shared_attr"] else None
        while len(facts) < n_facts:
            f = make_fact(rng, words, attr=shared_attr)
            if all(f[2] != g[2] for g in facts):
                facts.append(f)
        asked = [f for f in facts if rng.random() < t["p_ask"]] or facts[:1]
        rng.shuffle(asked)
        plan["facts"] = facts
        plan["asked"] = asked
        if rng.random() < t["p_kv"]:
            keys, vals = make_kv(rng, words)
            q = rng.sample(range(len(keys)), rng.randint(1, min(3, len(keys))))
            plan["kv"] = (keys, vals, q)
        plan["copy"] = rng.random() < t["p_copy"]
        # texts to tokenize: for each fact 2 variants; kv block; qa pieces
        T = plan["texts"]
        for fact, *_ in facts:
            T.append(" " + fact)
            T.append(fact + "\n")
        if plan["kv"]:
            keys, vals, q = plan["kv"]
            T.append("\n".join(f"{k}: {v}" for k, v in zip(keys, vals)) + "\n")
        qa = []
        for i, (_, question, prefix, ans) in enumerate(asked):
            sep = rng.choice(["\n\n", "\n", " "]) if i == 0 else rng.choice(["\n", " "])
            gap = "\n" if rng.random() < self.cfg["p_newline_answer"] else " "
            qa.append((("" if i == 0 else ".") + sep + question + " " + prefix, gap + ans))
        if plan["kv"]:
            keys, vals, q = plan["kv"]
            for i in q:
                sep = "\n" if qa else rng.choice(["\n\n", "\n"])
                qa.append((("." if qa else "") + sep + keys[i] + ":", " " + vals[i]))
        for a, b in qa:
            T.append(a)
            T.append(b)
        T.append(".\n\n")  # closing period of the last answer
        T.append(PASSKEY_PREAMBLE)
        plan["qa"] = qa
        return plan

    def _assemble(self, rng, plan, ids):
        L = self.seq_len
        bos = torch.tensor([1], dtype=torch.int32)
        if plan["kind"] == "plain":
            filler, _ = self._filler(rng, L - 1)
            x = torch.cat([bos, filler.to(torch.int32)])
            return x.long(), torch.ones(L, dtype=torch.float32)
        it = iter(ids)
        fact_ids = [(next(it), next(it)) for _ in plan["facts"]]
        kv_ids = next(it) if plan["kv"] else None
        qa_ids = [(next(it), next(it)) for _ in plan["qa"]]
        close_ids = next(it)
        pre_ids = next(it) if plan["preamble"] else []
        if not plan["preamble"]:
            next(it)
        aw = self.cfg["answer_weight"]
        # question/answer section with weights
        qa_tok, qa_w = [], []
        for q, a in qa_ids:
            qa_tok += q
            qa_w += [1.0] * len(q)
            qa_tok += a
            qa_w += [aw] * len(a)
        qa_tok += close_ids
        qa_w += [1.0] * len(close_ids)
        doc_len = plan["doc_len"]
        ins_len = sum(len(a) for a, _ in fact_ids) + (len(kv_ids) + 1 if kv_ids else 0)
        copy_len = rng.randint(16, 256) if plan["copy"] else 0
        n_fill = doc_len - len(pre_ids) - len(qa_tok) - ins_len - copy_len
        if n_fill < 64:  # document too short for its content: fall back to full length
            doc_len = L - 1
            n_fill = doc_len - len(pre_ids) - len(qa_tok) - ins_len - copy_len
        filler, inner = self._filler(rng, n_fill)
        filler = filler.tolist()
        # insertion points (position in filler, text variant index)
        inserts = []
        cand = inner
        for fi, (v_space, v_line) in enumerate(fact_ids):
            r = rng.random()
            if r < self.cfg["p_fact_at_start"] or not cand:
                inserts.append((0, v_line))
            elif r > 1 - self.cfg["p_fact_at_end"]:
                inserts.append((n_fill, v_line if (not cand or not cand[-1][1]) else v_space))
            else:
                target = rng.random() * n_fill
                k = bisect.bisect_left([c[0] for c in cand], target)
                k = min(max(k, 0), len(cand) - 1)
                p, sp = cand[k]
                inserts.append((p, v_space if sp else v_line))
        if kv_ids:
            p = rng.choice([c[0] for c in cand if not c[1]] or [0])
            inserts.append((p, kv_ids))
        if copy_len:
            a = rng.randrange(0, max(1, n_fill - copy_len))
            later = [c[0] for c in cand if c[0] >= a + copy_len]
            if later:
                inserts.append((rng.choice(later), filler[a:a + copy_len]))
            else:
                inserts.append((n_fill, filler[a:a + copy_len]))
        inserts.sort(key=lambda z: z[0])
        doc, prev = [], 0
        for p, toks in inserts:
            doc += filler[prev:p]
            doc += toks
            prev = p
        doc += filler[prev:]
        doc = pre_ids + doc
        w = [1.0] * (1 + len(doc)) + qa_w
        seq = [1] + doc + qa_tok
        if len(seq) < L:
            tail, _ = self._filler(rng, L - len(seq))
            w += [1.0] * len(tail)
            seq += tail.tolist()
        seq, w = seq[:L], w[:L]
        return torch.tensor(seq, dtype=torch.long), torch.tensor(w, dtype=torch.float32)


_CUT = re.compile(r"\n+|(?<=[.!?]) (?=\S)")
_WORD = re.compile(r"\b[a-z]{3,12}\b")


def tokenize_corpus(texts, tokenizer):
    """Tokenizes each document (+ "\\n\\n") as a whole and records the token positions
    where a sentence (lead_space=True: the token starts with the space after [.!?]) or
    a line (lead_space=False) starts. Returns a Corpus without words."""
    texts = [t + "\n\n" for t in texts]
    encs = tokenizer.encode_batch(texts, add_special_tokens=False)
    chunks, bounds, lead = [], [], []
    off = 0
    for text, e in zip(texts, encs):
        ids = e.ids
        bounds.append(off)
        lead.append(False)
        for m in _CUT.finditer(text):
            is_line = m.group(0).startswith("\n")
            c = m.end() if is_line else m.start()
            if c >= len(text) - 2:
                continue
            t = e.char_to_token(c)
            if t is None or t == 0 or e.token_to_chars(t)[0] != c:
                continue
            bounds.append(off + t)
            lead.append(not is_line)
        chunks.append(torch.tensor(ids, dtype=torch.int32))
        off += len(ids)
    tokens = torch.cat(chunks)
    return Corpus(tokens, torch.tensor(bounds, dtype=torch.int64),
                  torch.tensor(lead, dtype=torch.bool), [])


def corpus_words(texts, max_words=5000, min_count=30, skip_top=300):
    counts = {}
    for t in texts:
        for w in _WORD.findall(t):
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return ranked[skip_top:skip_top + max_words]
