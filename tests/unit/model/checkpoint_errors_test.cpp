// A checkpoint that does not match its config.json, or whose files are missing,
// inconsistent or corrupt, is refused on open with the file, the tensor and the problem.
#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/model/checkpoint.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"
#include "tests/unit/model/checkpoint_fixture.h"

using attnscope::kernels::DType;
using attnscope::model::Architecture;
using attnscope::model::Checkpoint;
using Catch::Contains;
using nlohmann::json;
namespace t = attnscope::testing;

namespace {

std::string tensor_at(const std::filesystem::path& file, const std::string& tensor) {
  return file.string() + ": tensor " + tensor;
}

json read_json(const std::filesystem::path& path) { return json::parse(t::read_bytes(path)); }
void write_json(const std::filesystem::path& path, const json& value) { t::write_bytes(path, value.dump(2)); }

}  // namespace

TEST_CASE("a missing directory, config.json or weights file is refused", "[checkpoint][errors]") {
  t::TempDir dir;
  const auto absent = dir / "absent";
  REQUIRE_THROWS_WITH(Checkpoint::open(absent), Contains(absent.string()) && Contains("does not exist"));
  t::write_bytes(dir / "file", "x");
  REQUIRE_THROWS_WITH(Checkpoint::open(dir / "file"), Contains("is not a directory"));

  const auto model = dir / "model";
  std::filesystem::create_directories(model);
  REQUIRE_THROWS_WITH(Checkpoint::open(model), Contains((model / "config.json").string()) && Contains("missing"));

  t::write_bytes(model / "config.json", t::tiny_config(Architecture::Llama).dump());
  REQUIRE_THROWS_WITH(Checkpoint::open(model),
                      Contains(model.string()) && Contains("no model.safetensors and no model.safetensors.index.json"));
  t::write_bytes(model / "pytorch_model.bin", "PK");
  REQUIRE_THROWS_WITH(Checkpoint::open(model), Contains("PyTorch pickle weights") && Contains("safetensors"));
}

TEST_CASE("config.json errors surface through open", "[checkpoint][errors]") {
  t::TempDir dir;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama));
  json config = t::tiny_config(Architecture::Llama);
  config["num_key_value_heads"] = 3;
  write_json(dir / "config.json", config);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                      Contains((dir / "config.json").string()) && Contains("\"num_key_value_heads\" (3) must divide"));
}

TEST_CASE("a missing tensor is refused naming it", "[checkpoint][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.skip = {"model.layers.1.self_attn.k_proj.weight"};
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                      Contains(tensor_at(dir / "model.safetensors", "model.layers.1.self_attn.k_proj.weight")) &&
                          Contains("is missing") && Contains("[8, 16]"));
}

TEST_CASE("a missing lm_head of an untied model says why it is needed", "[checkpoint][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.skip = {"lm_head.weight"};
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Mistral), options);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains(": tensor lm_head.weight") && Contains("is missing") &&
                                                        Contains("tie_word_embeddings is false"));
}

TEST_CASE("a tensor whose shape differs from what config.json implies is refused", "[checkpoint][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.reshape = {{"model.layers.0.self_attn.k_proj.weight", {16, 16}}};  // as if there were no GQA
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                      Contains(tensor_at(dir / "model.safetensors", "model.layers.0.self_attn.k_proj.weight")) &&
                          Contains("has shape [16, 16] but config.json implies [8, 16]"));

  t::TempDir gpt2;
  t::FixtureOptions transposed;
  transposed.prefix = "transformer.";
  transposed.reshape = {{"h.1.mlp.c_fc.weight", {64, 16}}};  // stored like nn.Linear instead of Conv1D
  t::write_checkpoint(gpt2.path(), t::tiny_config(Architecture::Gpt2), transposed);
  REQUIRE_THROWS_WITH(Checkpoint::open(gpt2.path()),
                      Contains(tensor_at(gpt2 / "model.safetensors", "transformer.h.1.mlp.c_fc.weight")) &&
                          Contains("has shape [64, 16] but config.json implies [16, 64]"));
}

TEST_CASE("an unexpected float tensor means config and weights disagree", "[checkpoint][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.extra = {{"model.layers.0.self_attn.q_proj.bias", {16}}};  // config says attention_bias false
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                      Contains(tensor_at(dir / "model.safetensors", "model.layers.0.self_attn.q_proj.bias")) &&
                          Contains("is not a weight of LlamaForCausalLM"));

  t::TempDir deeper;
  t::FixtureOptions more_layers;
  more_layers.extra = {{"model.layers.2.input_layernorm.weight", {16}}};
  t::write_checkpoint(deeper.path(), t::tiny_config(Architecture::Qwen3), more_layers);
  REQUIRE_THROWS_WITH(Checkpoint::open(deeper.path()),
                      Contains("model.layers.2.input_layernorm.weight") && Contains("is not a weight of Qwen3ForCausalLM"));
}

TEST_CASE("a weight stored as integers is refused", "[checkpoint][errors]") {
  t::TempDir dir;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama));
  const std::vector<int32_t> ints(16, 1);
  t::rewrite_safetensors(dir / "model.safetensors", {"model.norm.weight"}, [&](attnscope::io::SafetensorsWriter& w) {
    w.add_raw("model.norm.weight", "I32", {16}, std::as_bytes(std::span(ints)));
  });
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                      Contains(tensor_at(dir / "model.safetensors", "model.norm.weight")) &&
                          Contains("stored as I32; weights must be F32, F16 or BF16"));
}

TEST_CASE("a GPT-2 tensor stored both with and without the prefix is refused", "[checkpoint][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.prefix = "transformer.";
  options.extra = {{"wpe.weight", {32, 16}}};
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Gpt2), options);
  REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains("wpe.weight") && Contains("is stored twice"));
}

TEST_CASE("sharded checkpoints: the index and the shards must agree", "[checkpoint][sharded][errors]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.shards = 3;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  const auto index = dir / "model.safetensors.index.json";
  const auto shard1 = dir / "model-00001-of-00003.safetensors";
  const auto shard2 = dir / "model-00002-of-00003.safetensors";
  const json good = read_json(index);
  REQUIRE_NOTHROW(Checkpoint::open(dir.path()));

  SECTION("a listed shard is missing") {
    std::filesystem::remove(shard2);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(shard2.string()) && Contains("listed in model.safetensors.index.json but the file is missing"));
  }
  SECTION("the index places a tensor in a shard that lacks it") {
    json edited = good;
    const std::string name = "model.embed_tokens.weight";
    REQUIRE(edited["weight_map"][name] == "model-00001-of-00003.safetensors");
    edited["weight_map"][name] = "model-00002-of-00003.safetensors";
    write_json(index, edited);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(tensor_at(shard2, name)) && Contains("places it in this file, but the file does not contain it"));
  }
  SECTION("a shard holds a tensor the index does not list") {
    json edited = good;
    edited["weight_map"].erase("model.norm.weight");
    write_json(index, edited);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(": tensor model.norm.weight") && Contains("not listed in model.safetensors.index.json"));
  }
  SECTION("a tensor is duplicated in a second shard") {
    const std::vector<float> copy(40 * 16, 0.0f);
    t::rewrite_safetensors(shard2, {}, [&](attnscope::io::SafetensorsWriter& w) {
      w.add("model.embed_tokens.weight", {40, 16}, copy);
    });
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(tensor_at(shard2, "model.embed_tokens.weight")) && Contains("is also stored here") &&
                            Contains("places it in model-00001-of-00003.safetensors"));
  }
  SECTION("the index is not JSON, has no weight_map, or points outside the directory") {
    t::write_bytes(index, "{\"weight_map\": ");
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains(index.string()) && Contains("not valid JSON"));
    write_json(index, {{"metadata", json::object()}});
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains(index.string()) && Contains("no \"weight_map\""));
    json edited = good;
    edited["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
    write_json(index, edited);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(tensor_at(index, "model.norm.weight")) && Contains("not a file name in this directory"));
  }
  SECTION("a tensor missing from every shard is reported against the index") {
    t::rewrite_safetensors(shard1, {"model.embed_tokens.weight"});
    json edited = good;
    edited["weight_map"].erase("model.embed_tokens.weight");
    write_json(index, edited);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(tensor_at(index, "model.embed_tokens.weight")) && Contains("is missing"));
  }
  SECTION("a corrupt shard is named") {
    std::string bytes = t::read_bytes(shard2);
    bytes[8] = '[';  // the header's opening brace
    t::write_bytes(shard2, bytes);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains(shard2.string()) && Contains("header is not valid JSON"));
  }
  SECTION("a truncated shard is named with the tensor that no longer fits") {
    std::string bytes = t::read_bytes(shard2);
    bytes.resize(bytes.size() - 3);
    t::write_bytes(shard2, bytes);
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()), Contains(shard2.string() + ": tensor") && Contains("truncated"));
  }
}

TEST_CASE("pickle weights of any usual name are refused as code, asking for safetensors", "[checkpoint][errors]") {
  for (const char* name : {"model.pt", "consolidated.00.pth", "pytorch_model-00001-of-00002.bin", "weights.ckpt"}) {
    INFO(name);
    t::TempDir dir;
    t::write_bytes(dir / "config.json", t::tiny_config(Architecture::Llama).dump());
    t::write_bytes(dir / name, "\x80\x02}q\x00.");
    REQUIRE_THROWS_WITH(Checkpoint::open(dir.path()),
                        Contains(name) && Contains("pickle") && Contains("safetensors only") && Contains("run code"));
  }
}

TEST_CASE("a pickle file given as the model is refused without being read", "[checkpoint][errors]") {
  t::TempDir dir;
  t::write_bytes(dir / "pytorch_model.bin", "\x80\x02}q\x00.");
  REQUIRE_THROWS_WITH(Checkpoint::open(dir / "pytorch_model.bin"),
                      Contains("is a PyTorch pickle file") && Contains("safetensors only"));
}
