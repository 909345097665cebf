#!/usr/bin/env python3
"""Writes the hand-made fuzz seeds under fuzz/seeds/ (edge cases each parser must refuse
or accept). Real files are copied beside them: the sample model's config.json and
tokenizer.json, the reference fixtures' configs, the synthetic tokenizers, the sample
needles. Capture seeds come from `attnscope-cli run --save-capture` (docs/hardening.md).
Usage: python3 fuzz/make_seeds.py   (from the repository root; idempotent)"""
import json
import shutil
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"


def write(target, name, data):
    path = SEEDS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None, extra=b""):
    """tensors: name -> (dtype, shape, raw bytes), laid out in order."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data + extra


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


# safetensors: valid files of each float dtype, integer and scalar tensors, empty ones.
write("safetensors", "f32_matrix.safetensors",
      safetensors({"w": ("F32", [2, 3], f32(1, 2, 3, 4, 5, 6))}, {"format": "pt"}))
write("safetensors", "mixed_dtypes.safetensors", safetensors({
    "a.bf16": ("BF16", [4], b"\x80\x3f" * 4),
    "b.f16": ("F16", [2, 2], b"\x00\x3c" * 4),
    "c.i64": ("I64", [2], struct.pack("<2q", 7, -1)),
    "d.scalar": ("F32", [], f32(0.5)),
    "e.empty": ("F32", [0, 5], b""),
    "f.bool": ("BOOL", [3], b"\x01\x00\x01"),
}))
write("safetensors", "only_metadata.safetensors", safetensors({}, {"a": "b"}))
write("safetensors", "overlap.safetensors",
      struct.pack("<Q", 100) + json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                           "y": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}})
      .encode().ljust(100) + b"\0" * 8)
write("safetensors", "header_too_long.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
write("safetensors", "huge_shape.safetensors",
      safetensors({"x": ("F32", [1 << 62, 1 << 62], b"")}))

# config.json: each family, rope scalings, token-id lists, a wrong type.
for fixture in sorted((ROOT / "tests" / "reference" / "fixtures").glob("*/config.json")):
    shutil.copy(fixture, SEEDS / "config_json" / (fixture.parent.name + ".json"))
shutil.copy(ROOT / "sample_data" / "sample-llama" / "config.json", SEEDS / "config_json" / "sample-llama.json")
llama3 = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 4096,
          "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
          "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
          "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                           "original_max_position_embeddings": 8192},
          "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16"}
write("config_json", "llama3.1-8b.json", json.dumps(llama3, indent=1))
write("config_json", "wrong_type.json", json.dumps(dict(llama3, num_hidden_layers="32")))
write("config_json", "huge_sizes.json", json.dumps(dict(llama3, hidden_size=2**62, intermediate_size=2**62,
                                                             vocab_size=2**62, num_hidden_layers=2**31 - 1)))

# tokenizer.json: the sample model's and the synthetic test tokenizers.
shutil.copy(ROOT / "sample_data" / "sample-llama" / "tokenizer.json", SEEDS / "tokenizer_json" / "sample-llama.json")
for synthetic in sorted((ROOT / "tests" / "tokenizer_data" / "synthetic").glob("*.json")):
    shutil.copy(synthetic, SEEDS / "tokenizer_json" / synthetic.name)
write("tokenizer_json", "empty_bpe.json", json.dumps(
    {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}))

# mask plans: the documented example, every family once, a search result's shape.
families = {"dense": {}, "streaming": {"sink_tokens": 4, "window": 1024}, "window": {"window": 512},
            "vertical_slash": {"vertical": 1000, "slash": 6096}, "vertical_slash_oracle": {"vertical": 10, "slash": 20},
            "block_topk": {"block_size": 64, "blocks": 16, "score": "antidiagonal", "stride": 8},
            "block_threshold": {"block_size": 64, "mass": 0.9, "score": "mean_pooled"}, "topk": {"keys": 64},
            "topp": {"mass": 0.9}, "threshold": {"probability": 0.001},
            "quest": {"page_size": 16, "token_budget": 1024, "decode_rows": 64},
            "snapkv": {"observation_window": 32, "capacity": 1024, "kernel": 7, "pooling": "average"},
            "h2o": {"heavy": 256, "recent": 256, "decode_rows": 64}}
heads = [dict({"layer": i // 2, "head": i % 2, "method": m}, **p) for i, (m, p) in enumerate(families.items())]
write("mask_plan", "every_family.json", json.dumps(
    {"attnscope_mask_plan": 1, "name": "all", "num_layers": 7, "num_heads": 2, "heads": heads}, indent=1))
write("mask_plan", "documented_example.json", json.dumps({
    "attnscope_mask_plan": 1, "name": "duo s64 w256", "num_layers": 8, "num_heads": 8,
    "default": {"method": "streaming", "sink_tokens": 64, "window": 256},
    "heads": [{"layer": 7, "head": 2, "method": "dense"},
              {"layer": 3, "head": 0, "method": "vertical_slash", "vertical": 500, "slash": 700},
              {"layer": 0, "head": 1, "method": "streaming", "sink_tokens": 64,
               "window": {"tokens": 960, "per_token": 0.125}},
              {"layer": 5, "head": 4, "method": "topk", "keys": 64, "density": 0.1}]}, indent=1))
write("mask_plan", "density_default.json", json.dumps(
    {"attnscope_mask_plan": 1, "num_layers": 1, "num_heads": 1, "default": {"method": "topp", "density": 0.5}}))

# needles.jsonl: the sample file, Retrieval_Head's field name, blank lines, a bad line.
shutil.copy(ROOT / "sample_data" / "prompts" / "needles.jsonl", SEEDS / "needle_file" / "sample.jsonl")
write("needle_file", "retrieval_head_names.jsonl",
      '\n{"needle": " The key is 42. ", "question": "What is the key?", "real_needle": "42"}\n\n')
write("needle_file", "bad_second_line.jsonl",
      '{"needle": "a", "question": "b", "answer": "c"}\n{"needle": 5, "question": "b", "answer": "c"}\n')

# export readers: byte 0 the format, byte 1 the shape (fuzz/export_readers_fuzz.cpp), then
# the golden files (tiny shape 0) and the published files of real models.
EXPORT = ROOT / "tests" / "export_data"
DUO, MINFERENCE, MOA, RETRIEVAL, RAZOR, PROFILE_JSON, PROFILE_CSV = range(7)
TINY, SAMPLE, L32_KV8, L32_KV32, L16_KV8, QWEN = range(6)


def export_seed(name, fmt, shape, *files):
    data = b"\0".join(f.read_bytes() for f in files)
    write("export_readers", name, bytes([fmt, shape]) + data)


golden = EXPORT / "golden"
export_seed("duo_golden", DUO, TINY, golden / "duo" / "full_attention_heads.tsv", golden / "duo" / "config.json")
export_seed("minference_golden", MINFERENCE, TINY, golden / "minference" / "best_pattern.json")
export_seed("moa_golden", MOA, TINY, golden / "moa" / "moa_alpha_beta.json")
export_seed("retrieval_golden", RETRIEVAL, TINY, golden / "retrieval-head" / "scores.json")
export_seed("razor_golden", RAZOR, TINY, golden / "razor" / "retrieval_heads.json")
export_seed("profile_json_golden", PROFILE_JSON, TINY, golden / "profile" / "profile.json")
export_seed("profile_csv_golden", PROFILE_CSV, TINY, golden / "profile" / "profile.csv")
reference = EXPORT / "reference"
llama2 = reference / "duo-attention" / "Llama-2-7B-32K-Instruct"
export_seed("duo_llama2", DUO, L32_KV32, llama2 / "full_attention_heads.tsv", llama2 / "config.json")
export_seed("moa_llama3.2_1b", MOA, L16_KV8, reference / "moa" / "Llama-3.2-1B-Instruct_moa_alpha_beta.json")
export_seed("minference_qwen2.5", MINFERENCE, QWEN, reference / "minference" / "Qwen2.5_7B_Instruct_1M.json")
export_seed("retrieval_mistral", RETRIEVAL, L32_KV8, reference / "retrieval-head" / "Mistral-7B-v0.2-hf.first4.json")

# plugin descriptors, parameters and values (fuzz/plugin_descriptor_fuzz.cpp: lines of
# tab-separated fields, "~" a NULL pointer): the example plugin's job with --param texts,
# every type and list element type, and descriptors the host must refuse.
def plugin_seed(name, *lines):
    write("plugin_descriptor", name, "\n".join("\t".join(fields) for fields in lines) + "\n")


SINK_PROFILE = [("D1", "sink-profile", "1.0.0", "example plugin: sink mass against prompt length"),
                ("Jlengths", "sink mass per length", "1"),
                ("Plengths", "5", "1", "256,512", "prompt lengths in tokens"),
                ("Pdepth", "2", "0", "0.5", "where the pass key sits, 0 to 1"),
                ("Pseed", "1", "0", "0", "the pass key's seed")]
plugin_seed("sink_profile", *SINK_PROFILE, ("Alengths=160, 4k,224",), ("Adepth=1e-3",))
plugin_seed("every_type", ("D1", "types", "2.1", "~"), ("Jall", "every type", "1"),
            ("Pi", "1", "0", "-3k", "int"), ("Pf", "2", "0", "-0.0", "float"), ("Ps", "3", "0", "", "string"),
            ("Pb", "4", "0", "Yes", "bool"), ("Pli", "5", "1", "", "ints"), ("Plf", "5", "2", "1,2.5e300", "floats"),
            ("Pls", "5", "3", " a , ,b", "strings"), ("Preq", "3", "0", "~", "required"),
            ("Areq=any text = with equals",), ("Ab=off",), ("Als=x,y",))
plugin_seed("values", ("V1", "0", " 9223372036854775807"), ("V1", "0", "9007199254740992k"), ("V2", "0", "nan"),
            ("V2", "0", "1e309"), ("V4", "0", "ON"), ("V5", "1", "1,,2"), ("V5", "2", "0x1p3"), ("V5", "3", ""),
            ("V3", "0", "caf\u00e9 \u6f22\u5b57"))
plugin_seed("wrong_abi", ("D2", "old", "1.0", ""), ("Jjob", "", "1"))
plugin_seed("no_jobs", ("D1", "empty", "1.0", ""))
plugin_seed("null_strings", ("D1", "~", "~", "~"), ("J~", "~", "1"))
plugin_seed("bad_names", ("D1", "Bad Name", "1.0", ""), ("Jjob", "", "1"))
plugin_seed("duplicates", ("D1", "dup", "1.0", ""), ("Jjob", "", "1"), ("Pa", "1", "0", "1", ""), ("Pa", "2", "0", "1", ""),
            ("Jjob", "", "1"))
plugin_seed("job_without_run", ("D1", "norun", "1.0", ""), ("Jjob", "", "0"))
plugin_seed("null_params", ("D1", "nullparams", "1.0", ""), ("Jjob", "", "1", "N"), ("Pa", "1", "0", "1", ""))
plugin_seed("bad_types", ("D1", "types", "1.0", ""), ("Jjob", "", "1"), ("Pa", "9", "0", "1", ""), ("Pb", "5", "4", "", ""),
            ("Pc", "1", "2", "1", ""))
plugin_seed("bad_default", ("D1", "defaults", "1.0", ""), ("Jjob", "", "1"), ("Pa", "1", "0", "12x", ""))
plugin_seed("bad_assignments", *SINK_PROFILE, ("Anope=1",), ("Alengths=1",), ("Alengths=2",), ("A=5",), ("Aseed",))
