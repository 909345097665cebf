"""Training text gathered from files every Python/Ubuntu install has on the GPU machine.

Sources (each read in sorted path order, so the corpus is a function of the machine's
files alone):
  docstrings  triple-quoted strings of the Python standard library and site-packages
              (numpydoc/Google-style prose), de-duplicated;
  code        Python source of the standard library;
  docs        /usr/share/common-licenses, /usr/share/doc (copyright files, READMEs,
              gzipped changelogs), man pages (gzipped roff, macros stripped), and
              .txt/.md/.rst files shipped in site-packages.
The evaluation haystack (sample_data/prompts/haystack.txt) is not part of any source.
"""
import glob
import gzip
import hashlib
import os
import random
import re
import sysconfig
from multiprocessing import get_context

_DOCSTRING = re.compile(r'("""|\'\'\')(.*?)\1', re.S)
_ROFF = re.compile(r"^\.(\\\"|[A-Za-z]{1,3}\b ?)", re.M)
_ROFF_ESC = re.compile(r"\\f[BIRP]|\\\(..|\\[-e&|^]|\\s[-+]?\d")


def _letters_ratio(s):
    if not s:
        return 0.0
    return sum(c.isalpha() or c == " " for c in s) / len(s)


def _clean_block(s):
    lines = s.expandtabs(4).split("\n")
    indents = [len(l) - len(l.lstrip()) for l in lines[1:] if l.strip()]
    cut = min(indents) if indents else 0
    out = [lines[0].strip()] + [l[cut:].rstrip() for l in lines[1:]]
    return "\n".join(out).strip()


def _docstrings(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read(2_000_000)
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for m in _DOCSTRING.finditer(text):
        body = _clean_block(m.group(2))
        if len(body) < 200 or body.count(" ") < 30 or _letters_ratio(body) < 0.75:
            continue
        out.append(body)
    return out


def _read_text(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read(1_000_000)
        else:
            with open(path, "rb") as f:
                raw = f.read(1_000_000)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return ""
    if "/man/" in path:
        text = _ROFF_ESC.sub("", _ROFF.sub("", text))
        text = "\n".join(l for l in text.split("\n") if not l.startswith(("'", ".\\")))
    text = text.replace("\r\n", "\n").strip()
    if len(text) < 200 or _letters_ratio(text) < 0.6:
        return ""
    return text


def _code(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read(400_000)
    except (OSError, UnicodeDecodeError):
        return ""
    return text.strip() if len(text) > 500 else ""


def _files(pattern_roots, exts):
    found = set()
    for root in pattern_roots:
        for ext in exts:
            found.update(glob.glob(os.path.join(root, "**", "*" + ext), recursive=True))
    return sorted(p for p in found if os.path.isfile(p) and not os.path.islink(p))


def _take(fn, paths, limit, seen, flatten, processes):
    """Applies fn to paths in order (in parallel) until `limit` characters are kept."""
    docs, total = [], 0
    # "spawn": workers that share nothing with a parent that may hold threads or a GPU
    with get_context("spawn").Pool(processes) as pool:
        for res in pool.imap(fn, paths, chunksize=16):
            items = res if flatten else [res]
            for d in items:
                if not d:
                    continue
                h = hashlib.sha1(d.encode("utf-8")).digest()
                if h in seen:
                    continue
                seen.add(h)
                docs.append(d)
                total += len(d)
            if total >= limit:
                break
    return docs, total


def collect(cfg, processes=16):
    """Returns (docs, stats): docs is a list of (source, text) in a fixed order."""
    stdlib = sysconfig.get_paths()["stdlib"]
    purelib = sysconfig.get_paths()["purelib"]
    py_all = _files([stdlib, purelib], [".py"])
    py_std = [p for p in py_all if p.startswith(stdlib + os.sep) and "site-packages" not in p
              and "/test/" not in p and "/tests/" not in p]
    doc_files = _files(["/usr/share/common-licenses", "/usr/share/doc", "/usr/share/man/man1",
                        "/usr/share/man/man5", "/usr/share/man/man7"],
                       ["", ".gz", ".txt", ".md"])
    doc_files += _files([purelib], [".txt", ".md", ".rst"])
    doc_files = sorted(set(doc_files))
    py_all = list(py_all)
    # a fixed shuffle of the sorted lists, so that no package dominates by its name
    random.Random(0).shuffle(py_all)
    random.Random(1).shuffle(doc_files)
    seen = set()
    ds, ds_bytes = _take(_docstrings, py_all, cfg["max_docstring_bytes"], seen, True, processes)
    dc, dc_bytes = _take(_read_text, doc_files, cfg["max_doc_bytes"], seen, False, processes)
    cd, cd_bytes = _take(_code, py_std, cfg["max_code_bytes"], seen, False, processes)
    docs = [("docstrings", d) for d in ds] + [("docs", d) for d in dc] + [("code", d) for d in cd]
    digest = hashlib.sha256()
    for _, d in docs:
        digest.update(d.encode("utf-8"))
    stats = {
        "stdlib": stdlib, "purelib": purelib,
        "python_files_scanned": len(py_all), "doc_files_scanned": len(doc_files),
        "documents": {"docstrings": len(ds), "docs": len(dc), "code": len(cd)},
        "bytes": {"docstrings": ds_bytes, "docs": dc_bytes, "code": cd_bytes},
        "sha256": digest.hexdigest(),
    }
    return docs, stats


def split_heldout(docs, fraction):
    """Deterministic split by content hash."""
    train, held = [], []
    modulus = 10_000
    cut = int(fraction * modulus)
    for src, d in docs:
        h = int.from_bytes(hashlib.md5(d.encode("utf-8")).digest()[:8], "little") % modulus
        (held if h < cut else train).append((src, d))
    return train, held
