// config.json -> ModelSpec for every architecture, both rope spellings, and refusals
// that name config.json, the key and the problem.
#include <catch2/catch.hpp>

#include "analysis/model/config.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"
#include "tests/unit/model/checkpoint_fixture.h"

using attnscope::model::Architecture;
using attnscope::model::ModelSpec;
using attnscope::model::RopeScaling;
using Catch::Contains;
using nlohmann::json;
namespace m = attnscope::model;
namespace t = attnscope::testing;

namespace {

const std::string kWhere = "/models/tiny/config.json";

ModelSpec parse(const json& config) { return m::parse_config(config, kWhere); }

json with(json config, const json& changes) {
  config.merge_patch(changes);  // a null value removes the key
  return config;
}

json without(json config, const std::string& key) {
  config.erase(key);
  return config;
}

}  // namespace

TEST_CASE("Llama 3.1 8B's config.json", "[config]") {
  const json config = json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "transformers_version": "4.43.0.dev0", "use_cache": true, "vocab_size": 128256})");
  const ModelSpec s = parse(config);
  CHECK(s.architecture == Architecture::Llama);
  CHECK(s.architecture_name == "LlamaForCausalLM");
  CHECK(s.model_type == "llama");
  CHECK(s.vocab_size == 128256);
  CHECK(s.hidden_size == 4096);
  CHECK(s.intermediate_size == 14336);
  CHECK(s.num_layers == 32);
  CHECK(s.num_heads == 32);
  CHECK(s.num_kv_heads == 8);
  CHECK(s.head_dim == 128);
  CHECK(s.max_position_embeddings == 131072);
  CHECK(s.norm == m::NormKind::RmsNorm);
  CHECK(s.norm_eps == 1e-5);
  CHECK(s.mlp == m::MlpKind::SwiGlu);
  CHECK(s.positions == m::PositionKind::Rope);
  CHECK(s.rope.theta == 500000.0);
  CHECK(s.rope.scaling == RopeScaling::Llama3);
  CHECK(s.rope.factor == 8.0);
  CHECK(s.rope.low_freq_factor == 1.0);
  CHECK(s.rope.high_freq_factor == 4.0);
  CHECK(s.rope.original_max_position_embeddings == 8192);
  CHECK_FALSE(s.attention_bias);
  CHECK_FALSE(s.output_bias);
  CHECK_FALSE(s.mlp_bias);
  CHECK_FALSE(s.qk_norm);
  CHECK_FALSE(s.tie_word_embeddings);
  CHECK(s.sliding_window == 0);
  CHECK(s.dtype == attnscope::kernels::DType::BF16);
  CHECK(s.bos_token_id == 128000);
  CHECK(s.eos_token_ids == std::vector<int32_t>{128001, 128008, 128009});
}

TEST_CASE("Llama options: biases, head_dim, KV heads, token ids", "[config][llama]") {
  const json base = t::tiny_config(Architecture::Llama);
  const ModelSpec plain = parse(base);
  CHECK(plain.head_dim == 4);
  CHECK(plain.num_kv_heads == 2);
  CHECK(plain.rope.scaling == RopeScaling::None);

  // HF Llama's attention_bias puts a bias on o_proj too.
  const ModelSpec biased = parse(with(base, {{"attention_bias", true}, {"mlp_bias", true}}));
  CHECK(biased.attention_bias);
  CHECK(biased.output_bias);
  CHECK(biased.mlp_bias);

  CHECK(parse(with(base, {{"head_dim", 8}})).head_dim == 8);
  CHECK(parse(without(base, "num_key_value_heads")).num_kv_heads == 4);
  CHECK(parse(with(base, {{"num_key_value_heads", nullptr}})).num_kv_heads == 4);
  CHECK(parse(with(base, {{"tie_word_embeddings", true}})).tie_word_embeddings);
  CHECK(parse(without(base, "tie_word_embeddings")).tie_word_embeddings == false);
  CHECK(parse(without(base, "rms_norm_eps")).norm_eps == 1e-6);

  const ModelSpec ids = parse(with(base, {{"eos_token_id", json::array({2, 3})}, {"bos_token_id", nullptr}}));
  CHECK_FALSE(ids.bos_token_id.has_value());
  CHECK(ids.eos_token_ids == std::vector<int32_t>{2, 3});
  CHECK(parse(without(base, "eos_token_id")).eos_token_ids.empty());
}

TEST_CASE("rope_scaling variants in the transformers 4 spelling", "[config][rope]") {
  const json base = t::tiny_config(Architecture::Llama);
  CHECK(parse(with(base, {{"rope_scaling", {{"type", "default"}}}})).rope.scaling == RopeScaling::None);
  CHECK(parse(with(base, {{"rope_scaling", {{"rope_type", "default"}}}})).rope.scaling == RopeScaling::None);

  const ModelSpec linear = parse(with(base, {{"rope_scaling", {{"type", "linear"}, {"factor", 4.0}}}}));
  CHECK(linear.rope.scaling == RopeScaling::Linear);
  CHECK(linear.rope.factor == 4.0);
  const ModelSpec linear2 = parse(with(base, {{"rope_scaling", {{"rope_type", "linear"}, {"factor", 2}}}}));
  CHECK(linear2.rope.scaling == RopeScaling::Linear);
  CHECK(linear2.rope.factor == 2.0);
  CHECK(linear2.rope.theta == 10000.0);

  const ModelSpec llama3 = parse(with(base, {{"rope_theta", 500000.0},
                                             {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 32.0},
                                                               {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                                                               {"original_max_position_embeddings", 8192}}}}));
  CHECK(llama3.rope.scaling == RopeScaling::Llama3);
  CHECK(llama3.rope.factor == 32.0);
  CHECK(llama3.rope.theta == 500000.0);
  CHECK(parse(without(base, "rope_theta")).rope.theta == 10000.0);
}

TEST_CASE("rope_parameters, the transformers 5 spelling", "[config][rope]") {
  const json base = without(without(t::tiny_config(Architecture::Llama), "rope_theta"), "rope_scaling");
  const ModelSpec plain = parse(with(base, {{"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 1e6}}}}));
  CHECK(plain.rope.scaling == RopeScaling::None);
  CHECK(plain.rope.theta == 1e6);

  const ModelSpec linear =
      parse(with(base, {{"rope_parameters", {{"rope_type", "linear"}, {"rope_theta", 10000.0}, {"factor", 4.0}}}}));
  CHECK(linear.rope.scaling == RopeScaling::Linear);
  CHECK(linear.rope.factor == 4.0);

  const ModelSpec llama3 = parse(with(base, {{"rope_parameters", {{"rope_type", "llama3"}, {"rope_theta", 500000.0},
                                                                  {"factor", 32.0}, {"low_freq_factor", 1.0},
                                                                  {"high_freq_factor", 4.0},
                                                                  {"original_max_position_embeddings", 16}}}}));
  CHECK(llama3.rope.scaling == RopeScaling::Llama3);
  CHECK(llama3.rope.theta == 500000.0);
  CHECK(llama3.rope.original_max_position_embeddings == 16);

  // rope_theta may still sit at the top level.
  CHECK(parse(with(base, {{"rope_theta", 250000.0}, {"rope_parameters", {{"rope_type", "default"}}}})).rope.theta ==
        250000.0);
}

TEST_CASE("unsupported or incomplete rope settings are refused naming the key", "[config][rope][errors]") {
  const json base = t::tiny_config(Architecture::Llama);
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}})),
                      Contains(kWhere) && Contains("\"rope_scaling.rope_type\"") && Contains("\"yarn\" is not supported"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}}})),
                      Contains("\"rope_scaling.type\"") && Contains("\"dynamic\" is not supported"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", {{"type", "linear"}}}})),
                      Contains(kWhere) && Contains("\"rope_scaling.factor\" is missing"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"high_freq_factor", 4.0},
                                                          {"original_max_position_embeddings", 8192}}}})),
                      Contains("\"rope_scaling.low_freq_factor\" is missing"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_parameters", {{"rope_type", "linear"}, {"factor", -1.0}}}})),
                      Contains("\"rope_parameters.factor\" must be a positive number"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0},
                                                          {"high_freq_factor", 4.0},
                                                          {"original_max_position_embeddings", 8192}}}})),
                      Contains("\"rope_scaling.high_freq_factor\"") && Contains("must be greater than low_freq_factor"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_scaling", "linear"}})),
                      Contains("\"rope_scaling\" must be an object, not a string"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"rope_theta", "big"}})), Contains("\"rope_theta\" must be a positive number"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"partial_rotary_factor", 0.5}})),
                      Contains("\"partial_rotary_factor\"") && Contains("not supported"));
}

TEST_CASE("Mistral reads its sliding window", "[config][mistral]") {
  const json base = t::tiny_config(Architecture::Mistral);
  const ModelSpec s = parse(base);
  CHECK(s.architecture == Architecture::Mistral);
  CHECK(s.sliding_window == 8);
  CHECK_FALSE(s.attention_bias);
  CHECK(parse(with(base, {{"sliding_window", nullptr}})).sliding_window == 0);
  REQUIRE_THROWS_WITH(parse(with(base, {{"sliding_window", 0}})),
                      Contains(kWhere) && Contains("\"sliding_window\" must be a positive integer, not 0"));
}

TEST_CASE("Qwen2 always has q/k/v biases and refuses sliding-window layers", "[config][qwen2]") {
  const json config = json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
    "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
    "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936})");
  const ModelSpec s = parse(config);
  CHECK(s.architecture == Architecture::Qwen2);
  CHECK(s.head_dim == 64);
  CHECK(s.num_kv_heads == 2);
  CHECK(s.attention_bias);
  CHECK_FALSE(s.output_bias);
  CHECK(s.tie_word_embeddings);
  CHECK(s.sliding_window == 0);
  CHECK(s.rope.theta == 1e6);
  REQUIRE_THROWS_WITH(parse(with(config, {{"use_sliding_window", true}})),
                      Contains(kWhere) && Contains("\"use_sliding_window\" is true") && Contains("not supported"));
  REQUIRE_THROWS_WITH(parse(with(config, {{"layer_types", {"full_attention", "sliding_attention"}}})),
                      Contains("\"layer_types\"") && Contains("sliding_attention"));
  CHECK_NOTHROW(parse(with(config, {{"layer_types", {"full_attention", "full_attention"}}})));
}

TEST_CASE("Qwen3 has q/k norms, an explicit head_dim and optional attention biases", "[config][qwen3]") {
  const json base = t::tiny_config(Architecture::Qwen3);
  const ModelSpec s = parse(base);
  CHECK(s.architecture == Architecture::Qwen3);
  CHECK(s.qk_norm);
  CHECK(s.head_dim == 8);
  CHECK(s.q_width() == 32);
  CHECK(s.kv_width() == 16);
  CHECK_FALSE(s.attention_bias);
  const ModelSpec biased = parse(with(base, {{"attention_bias", true}}));
  CHECK(biased.attention_bias);
  CHECK(biased.output_bias);
  REQUIRE_THROWS_WITH(parse(without(base, "head_dim")), Contains(kWhere) && Contains("\"head_dim\" is missing"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"use_sliding_window", true}})), Contains("\"use_sliding_window\" is true"));
}

TEST_CASE("GPT-2's config.json", "[config][gpt2]") {
  const json config = json::parse(R"({
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
    "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
    "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": null,
    "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
    "summary_use_proj": true, "vocab_size": 50257})");
  const ModelSpec s = parse(config);
  CHECK(s.architecture == Architecture::Gpt2);
  CHECK(s.architecture_name == "GPT2LMHeadModel");
  CHECK(s.hidden_size == 768);
  CHECK(s.num_layers == 12);
  CHECK(s.num_heads == 12);
  CHECK(s.num_kv_heads == 12);
  CHECK(s.head_dim == 64);
  CHECK(s.intermediate_size == 3072);
  CHECK(s.max_position_embeddings == 1024);
  CHECK(s.norm == m::NormKind::LayerNorm);
  CHECK(s.norm_eps == 1e-5);
  CHECK(s.mlp == m::MlpKind::GeluTanh);
  CHECK(s.positions == m::PositionKind::Learned);
  CHECK(s.attention_bias);
  CHECK(s.output_bias);
  CHECK(s.mlp_bias);
  CHECK(s.tie_word_embeddings);
  CHECK(s.dtype == attnscope::kernels::DType::F32);
  CHECK(s.eos_token_ids == std::vector<int32_t>{50256});

  CHECK(parse(with(config, {{"n_inner", 1000}})).intermediate_size == 1000);
  CHECK(parse(with(config, {{"activation_function", "gelu_pytorch_tanh"}})).mlp == m::MlpKind::GeluTanh);
  REQUIRE_THROWS_WITH(parse(with(config, {{"activation_function", "relu"}})),
                      Contains(kWhere) && Contains("\"activation_function\" is \"relu\""));
  REQUIRE_THROWS_WITH(parse(with(config, {{"scale_attn_by_inverse_layer_idx", true}})),
                      Contains("\"scale_attn_by_inverse_layer_idx\" is true") && Contains("not supported"));
  REQUIRE_THROWS_WITH(parse(with(config, {{"reorder_and_upcast_attn", true}})),
                      Contains("\"reorder_and_upcast_attn\" is true") && Contains("not supported"));
  REQUIRE_THROWS_WITH(parse(with(config, {{"n_head", 7}})), Contains("\"n_head\" (7) does not divide n_embd (768)"));
  REQUIRE_THROWS_WITH(parse(without(config, "n_positions")), Contains("\"n_positions\" is missing"));
}

TEST_CASE("torch_dtype and transformers 5's dtype", "[config]") {
  const json base = without(t::tiny_config(Architecture::Llama), "torch_dtype");
  CHECK(parse(base).dtype == attnscope::kernels::DType::F32);
  CHECK(parse(with(base, {{"torch_dtype", "float16"}})).dtype == attnscope::kernels::DType::F16);
  CHECK(parse(with(base, {{"dtype", "bfloat16"}})).dtype == attnscope::kernels::DType::BF16);
  CHECK(parse(with(base, {{"dtype", "float32"}})).dtype == attnscope::kernels::DType::F32);
  REQUIRE_THROWS_WITH(parse(with(base, {{"torch_dtype", "int8"}})),
                      Contains(kWhere) && Contains("\"torch_dtype\" is \"int8\""));
  REQUIRE_THROWS_WITH(parse(with(base, {{"dtype", 16}})), Contains("\"dtype\" must be a string"));
}

TEST_CASE("unknown or inconsistent architectures are refused", "[config][errors]") {
  const json base = t::tiny_config(Architecture::Llama);
  REQUIRE_THROWS_WITH(parse(with(base, {{"architectures", {"BertForMaskedLM"}}})),
                      Contains(kWhere) && Contains("\"architectures\"") && Contains("\"BertForMaskedLM\"") &&
                          Contains("not supported") && Contains("LlamaForCausalLM"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"architectures", nullptr}, {"model_type", "bert"}})),
                      Contains("\"model_type\" is \"bert\", which is not supported") && Contains("qwen3"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"model_type", "mistral"}})),
                      Contains("\"model_type\" is \"mistral\" but \"architectures\" names \"LlamaForCausalLM\""));
  REQUIRE_THROWS_WITH(parse(with(base, {{"architectures", nullptr}, {"model_type", nullptr}})),
                      Contains(kWhere) && Contains("neither \"architectures\" nor \"model_type\""));
  REQUIRE_THROWS_WITH(parse(with(base, {{"architectures", "LlamaForCausalLM"}})),
                      Contains("\"architectures\" must be a list"));
  // The class alone or the model_type alone is enough.
  CHECK(parse(with(base, {{"model_type", nullptr}})).architecture == Architecture::Llama);
  CHECK(parse(with(base, {{"architectures", nullptr}, {"model_type", "qwen2"}})).architecture == Architecture::Qwen2);
  REQUIRE_THROWS_WITH(parse(with(base, {{"quantization_config", {{"quant_method", "gptq"}}}})),
                      Contains("\"quantization_config\"") && Contains("quantized checkpoints"));
}

TEST_CASE("missing keys, wrong types and non-positive sizes are refused naming the key", "[config][errors]") {
  const json base = t::tiny_config(Architecture::Llama);
  REQUIRE_THROWS_WITH(parse(without(base, "hidden_size")), Contains(kWhere) && Contains("\"hidden_size\" is missing"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"hidden_size", "16"}})),
                      Contains(kWhere) && Contains("\"hidden_size\" must be a positive integer, not a string"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"num_hidden_layers", 2.5}})),
                      Contains("\"num_hidden_layers\" must be a positive integer, not a number (2.5)"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"vocab_size", 0}})), Contains("\"vocab_size\" must be a positive integer, not 0"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"intermediate_size", -24}})),
                      Contains("\"intermediate_size\" must be a positive integer, not -24"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"num_attention_heads", 5000000000LL}})), Contains("\"num_attention_heads\" is too large"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"num_key_value_heads", 3}})),
                      Contains("\"num_key_value_heads\" (3) must divide num_attention_heads (4)"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"num_attention_heads", 3}, {"num_key_value_heads", 3}})),
                      Contains("\"num_attention_heads\" (3) does not divide hidden_size (16)"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"head_dim", 5}})), Contains("\"head_dim\" (5) must be even"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"tie_word_embeddings", "yes"}})),
                      Contains("\"tie_word_embeddings\" must be true or false, not a string"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"hidden_act", "gelu"}})),
                      Contains("\"hidden_act\" is \"gelu\"; only \"silu\" is supported"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"eos_token_id", 40}})),
                      Contains("\"eos_token_id\" (40) is outside the vocabulary of 40 tokens"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"bos_token_id", -1}})), Contains("\"bos_token_id\" (-1) is outside the vocabulary"));
  REQUIRE_THROWS_WITH(parse(with(base, {{"eos_token_id", {2, "x"}}})), Contains("\"eos_token_id\" must be a token id"));
  REQUIRE_THROWS_WITH(parse(json::array()), Contains(kWhere) && Contains("not a JSON object"));
}

TEST_CASE("load_config names the file when it is missing or not JSON", "[config][errors]") {
  t::TempDir dir;
  const auto path = dir / "config.json";
  REQUIRE_THROWS_WITH(m::load_config(path), Contains(path.string()) && Contains("missing"));
  t::write_bytes(path, "{\"hidden_size\": 16,,}");
  REQUIRE_THROWS_WITH(m::load_config(path), Contains(path.string()) && Contains("not valid JSON") && Contains("line 1"));
  t::write_bytes(path, t::tiny_config(Architecture::Mistral).dump());
  CHECK(m::load_config(path).architecture == Architecture::Mistral);
}

TEST_CASE("sizes beyond any real model are refused naming what they count", "[config][untrusted]") {
  // Products of such sizes overflowed int64 (undefined behaviour: GPT-2's 4 * n_embd, the
  // parameter count) and the tensor list of 2^31 layers exhausted memory.
  const json base = t::tiny_config(Architecture::Llama);
  CHECK_THROWS_WITH(parse(with(base, {{"num_hidden_layers", 1025}})),
                    Contains(kWhere) && Contains("1025 layers") && Contains("at most 1024"));
  CHECK_THROWS_WITH(parse(with(base, {{"num_hidden_layers", 2147483647}})), Contains("at most 1024"));
  CHECK_THROWS_WITH(parse(with(base, {{"vocab_size", int64_t(1) << 31}})), Contains("tokens in its vocabulary"));
  CHECK_THROWS_WITH(parse(with(base, {{"hidden_size", (int64_t(1) << 40) + 1}})),
                    Contains("\"hidden_size\" is too large") && Contains("2^40"));
  CHECK_THROWS_WITH(parse(with(base, {{"hidden_size", int64_t(1) << 32}, {"head_dim", nullptr}})),
                    Contains("dimensions per head"));
  CHECK_THROWS_WITH(parse(with(base, {{"hidden_size", int64_t(1) << 30}, {"intermediate_size", int64_t(1) << 30},
                                      {"head_dim", 64}})),
                    Contains("parameters or more") && Contains(std::to_string(m::kMaxParameters)));
  CHECK_THROWS_WITH(parse(with(base, {{"max_position_embeddings", (int64_t(1) << 32) + 1}})),
                    Contains("positions (max_position_embeddings)"));
}

TEST_CASE("GPT-2's default n_inner of a huge n_embd is refused, not overflowed", "[config][untrusted]") {
  json config = t::tiny_config(Architecture::Gpt2);
  config.erase("n_inner");
  config["n_embd"] = int64_t(1) << 40;
  config["n_head"] = 1 << 28;
  CHECK_THROWS_WITH(parse(config), Contains(kWhere) && Contains("attention heads"));
}
