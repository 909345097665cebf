// Tiny checkpoints of every architecture open, and their weights come out by role with
// the shapes, dtypes and values that were written.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <set>

#include "analysis/model/architecture.h"
#include "analysis/model/checkpoint.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"
#include "tests/unit/model/checkpoint_fixture.h"

using attnscope::kernels::DType;
using attnscope::kernels::HostTensorView;
using attnscope::model::Architecture;
using attnscope::model::Checkpoint;
namespace m = attnscope::model;
namespace t = attnscope::testing;

namespace {

// The position of `name` in the adapter's list, which the fixture used to pick values.
std::size_t ordinal(const m::ModelSpec& spec, const std::string& name) {
  const auto expected = m::adapter_for(spec.architecture).expected_tensors(spec);
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (expected[i].name == name) return i;
  FAIL("no expected tensor " << name);
  return 0;
}

float element(const HostTensorView& v, std::size_t i) {
  float out;
  attnscope::kernels::convert_to_f32(static_cast<const char*>(v.data) + i * attnscope::kernels::dtype_size(v.dtype),
                                     v.dtype, 1, &out);
  return out;
}

void check_view(const HostTensorView& v, int64_t rows, int64_t cols, DType dtype) {
  CHECK(v.rows == rows);
  CHECK(v.cols == cols);
  CHECK(v.dtype == dtype);
  CHECK(v.data != nullptr);
}

}  // namespace

TEST_CASE("every architecture's tiny checkpoint opens", "[checkpoint]") {
  const auto architecture = GENERATE(Architecture::Llama, Architecture::Mistral, Architecture::Qwen2,
                                     Architecture::Qwen3, Architecture::Gpt2);
  const auto dtype = GENERATE(DType::F32, DType::F16, DType::BF16);
  INFO(m::architecture_name(architecture) << " stored as " << attnscope::kernels::dtype_name(dtype));
  t::TempDir dir;
  t::FixtureOptions options;
  options.dtype = dtype;
  t::write_checkpoint(dir.path(), t::tiny_config(architecture), options);

  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const m::ModelSpec& spec = checkpoint.spec();
  CHECK(spec.architecture == architecture);
  CHECK(checkpoint.directory() == dir.path());
  CHECK(checkpoint.stored_dtype() == dtype);
  CHECK(checkpoint.parameter_count() == m::parameter_count(spec));
  CHECK(checkpoint.stored_bytes() == uint64_t(checkpoint.parameter_count()) * attnscope::kernels::dtype_size(dtype));
  const auto& tensors = checkpoint.tensors();
  CHECK(std::is_sorted(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
  CHECK(tensors.size() == m::adapter_for(architecture).expected_tensors(spec).size());
  for (const auto& info : tensors) CHECK(info.file == dir.path() / "model.safetensors");

  const m::ModelWeights w = checkpoint.weights();
  REQUIRE(w.layers.size() == 2);
  CHECK(w.token_embedding.blocks.size() == 1);
  CHECK(w.lm_head.blocks.size() == 1);
  CHECK(w.final_norm.blocks.size() == 1);
  CHECK(w.keep_alive.size() >= 1);
  for (const auto& layer : w.layers) {
    int64_t qkv_rows = 0;
    for (const auto& b : layer.qkv.blocks) qkv_rows += b.logical_rows();
    CHECK(qkv_rows == spec.q_width() + 2 * spec.kv_width());
    int64_t mlp_rows = 0;
    for (const auto& b : layer.mlp_in.blocks) mlp_rows += b.logical_rows();
    CHECK(mlp_rows == (spec.mlp == m::MlpKind::SwiGlu ? 2 : 1) * spec.intermediate_size);
    CHECK(layer.attn_out.blocks.at(0).logical_rows() == spec.hidden_size);
    CHECK(layer.attn_out.blocks.at(0).logical_cols() == spec.q_width());
    CHECK(layer.mlp_out.blocks.at(0).logical_cols() == spec.intermediate_size);
  }
}

TEST_CASE("Llama weights by role, with every bias", "[checkpoint][llama]") {
  t::TempDir dir;
  nlohmann::json config = t::tiny_config(Architecture::Llama);
  config["attention_bias"] = true;
  config["mlp_bias"] = true;
  t::FixtureOptions options;
  options.dtype = DType::BF16;
  t::write_checkpoint(dir.path(), config, options);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const m::ModelSpec& s = checkpoint.spec();
  const m::ModelWeights w = checkpoint.weights();

  check_view(w.token_embedding.blocks[0], 40, 16, DType::BF16);
  CHECK(w.position_embedding.empty());
  CHECK(w.final_norm_bias.empty());
  check_view(w.lm_head.blocks[0], 40, 16, DType::BF16);
  CHECK(w.lm_head.blocks[0].data != w.token_embedding.blocks[0].data);  // untied

  const m::LayerWeights& l1 = w.layers[1];
  check_view(l1.attn_norm.blocks.at(0), 1, 16, DType::BF16);
  CHECK(l1.attn_norm_bias.empty());
  REQUIRE(l1.qkv.blocks.size() == 3);
  check_view(l1.qkv.blocks[0], 16, 16, DType::BF16);
  check_view(l1.qkv.blocks[1], 8, 16, DType::BF16);
  check_view(l1.qkv.blocks[2], 8, 16, DType::BF16);
  CHECK(element(l1.qkv.blocks[1], 5) == t::fixture_value(ordinal(s, "model.layers.1.self_attn.k_proj.weight"), 5));

  // The three biases arrive joined as one float32 vector q|k|v.
  REQUIRE(l1.qkv_bias.blocks.size() == 1);
  const HostTensorView& qkv_bias = l1.qkv_bias.blocks[0];
  check_view(qkv_bias, 1, 32, DType::F32);
  CHECK(element(qkv_bias, 0) == t::fixture_value(ordinal(s, "model.layers.1.self_attn.q_proj.bias"), 0));
  CHECK(element(qkv_bias, 16) == t::fixture_value(ordinal(s, "model.layers.1.self_attn.k_proj.bias"), 0));
  CHECK(element(qkv_bias, 31) == t::fixture_value(ordinal(s, "model.layers.1.self_attn.v_proj.bias"), 7));

  check_view(l1.attn_out.blocks.at(0), 16, 16, DType::BF16);
  check_view(l1.attn_out_bias.blocks.at(0), 1, 16, DType::BF16);
  CHECK(l1.q_norm.empty());
  REQUIRE(l1.mlp_in.blocks.size() == 2);
  check_view(l1.mlp_in.blocks[0], 24, 16, DType::BF16);
  CHECK(element(l1.mlp_in.blocks[1], 3) == t::fixture_value(ordinal(s, "model.layers.1.mlp.up_proj.weight"), 3));
  check_view(l1.mlp_in_bias.blocks.at(0), 1, 48, DType::F32);
  CHECK(element(l1.mlp_in_bias.blocks[0], 24) == t::fixture_value(ordinal(s, "model.layers.1.mlp.up_proj.bias"), 0));
  check_view(l1.mlp_out.blocks.at(0), 16, 24, DType::BF16);
  check_view(l1.mlp_out_bias.blocks.at(0), 1, 16, DType::BF16);
}

TEST_CASE("Qwen2 and Qwen3 specifics: biases without o_proj, q/k norms, tied head", "[checkpoint][qwen]") {
  t::TempDir dir;
  t::write_checkpoint(dir / "qwen2", t::tiny_config(Architecture::Qwen2));
  t::write_checkpoint(dir / "qwen3", t::tiny_config(Architecture::Qwen3));

  const m::ModelWeights q2 = Checkpoint::open(dir / "qwen2").weights();
  check_view(q2.layers[0].qkv_bias.blocks.at(0), 1, 32, DType::F32);
  CHECK(q2.layers[0].attn_out_bias.empty());
  CHECK(q2.lm_head.blocks.at(0).data == q2.token_embedding.blocks.at(0).data);

  const Checkpoint qwen3 = Checkpoint::open(dir / "qwen3");
  const m::ModelWeights q3 = qwen3.weights();
  CHECK(q3.layers[0].qkv_bias.empty());
  check_view(q3.layers[0].q_norm.blocks.at(0), 1, 8, DType::F32);
  check_view(q3.layers[0].k_norm.blocks.at(0), 1, 8, DType::F32);
  check_view(q3.layers[0].qkv.blocks.at(0), 32, 16, DType::F32);  // 4 heads of 8 from a hidden size of 16
  check_view(q3.layers[0].attn_out.blocks.at(0), 16, 32, DType::F32);
  CHECK(q3.lm_head.blocks.at(0).data == q3.token_embedding.blocks.at(0).data);
}

TEST_CASE("GPT-2 Conv1D weights are transposed views, with or without the transformer. prefix", "[checkpoint][gpt2]") {
  const std::string prefix = GENERATE(std::string(""), std::string("transformer."));
  INFO("prefix '" << prefix << "'");
  t::TempDir dir;
  t::FixtureOptions options;
  options.prefix = prefix;
  // Causal-mask buffers that older transformers saved.
  options.extra = {{prefix + "h.0.attn.bias", {1, 1, 32, 32}}, {prefix + "h.1.attn.masked_bias", {}}};
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Gpt2), options);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const m::ModelSpec& s = checkpoint.spec();
  CHECK(checkpoint.tensors().size() == m::adapter_for(Architecture::Gpt2).expected_tensors(s).size() + 2);
  CHECK(checkpoint.tensors().front().name.starts_with(prefix));
  CHECK(checkpoint.parameter_count() == m::parameter_count(s));

  const m::ModelWeights w = checkpoint.weights();
  check_view(w.token_embedding.blocks.at(0), 40, 16, DType::F32);
  check_view(w.position_embedding.blocks.at(0), 32, 16, DType::F32);
  CHECK(w.lm_head.blocks.at(0).data == w.token_embedding.blocks.at(0).data);
  check_view(w.final_norm_bias.blocks.at(0), 1, 16, DType::F32);

  const m::LayerWeights& l0 = w.layers[0];
  REQUIRE(l0.qkv.blocks.size() == 1);
  const HostTensorView& c_attn = l0.qkv.blocks[0];
  check_view(c_attn, 16, 48, DType::F32);  // stored [in, out]
  CHECK(c_attn.transposed);
  CHECK(c_attn.logical_rows() == 48);
  CHECK(c_attn.logical_cols() == 16);
  CHECK(element(c_attn, 47) == t::fixture_value(ordinal(s, "h.0.attn.c_attn.weight"), 47));
  check_view(l0.qkv_bias.blocks.at(0), 1, 48, DType::F32);
  CHECK(l0.attn_out.blocks.at(0).transposed);
  check_view(l0.mlp_in.blocks.at(0), 16, 64, DType::F32);
  CHECK(l0.mlp_in.blocks.at(0).transposed);
  check_view(l0.mlp_in_bias.blocks.at(0), 1, 64, DType::F32);
  check_view(l0.mlp_out.blocks.at(0), 64, 16, DType::F32);
  CHECK(l0.mlp_out.blocks.at(0).transposed);
  check_view(l0.attn_norm_bias.blocks.at(0), 1, 16, DType::F32);
  check_view(l0.mlp_norm_bias.blocks.at(0), 1, 16, DType::F32);
}

TEST_CASE("sharded checkpoints open and report each tensor's shard", "[checkpoint][sharded]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.shards = 3;
  options.dtype = DType::BF16;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  std::set<std::filesystem::path> files;
  for (const auto& info : checkpoint.tensors()) files.insert(info.file);
  CHECK(files.size() == 3);
  CHECK(files.count(dir / "model-00002-of-00003.safetensors") == 1);
  const m::ModelWeights w = checkpoint.weights();
  CHECK(w.keep_alive.size() == 3);
  CHECK(w.layers.size() == 2);
}

TEST_CASE("harmless extras are ignored: RoPE buffers, tied lm_head copies, integer buffers", "[checkpoint]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.extra = {{"model.layers.0.self_attn.rotary_emb.inv_freq", {2}}, {"lm_head.weight", {40, 16}}};
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Qwen2), options);  // tied
  const std::vector<int64_t> ids = {0, 1, 2, 3};
  t::rewrite_safetensors(dir / "model.safetensors", {}, [&](attnscope::io::SafetensorsWriter& w) {
    w.add_raw("model.position_ids", "I64", {4}, std::as_bytes(std::span(ids)));
  });
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const m::ModelWeights w = checkpoint.weights();
  CHECK(w.lm_head.blocks.at(0).data == w.token_embedding.blocks.at(0).data);  // the copy is not used
  CHECK(checkpoint.parameter_count() == m::parameter_count(checkpoint.spec()));
  // Float extras are listed; the integer buffer has no float dtype to list.
  const auto& tensors = checkpoint.tensors();
  CHECK(std::any_of(tensors.begin(), tensors.end(), [](const auto& i) { return i.name == "lm_head.weight"; }));
  CHECK(std::none_of(tensors.begin(), tensors.end(), [](const auto& i) { return i.name == "model.position_ids"; }));
  CHECK(checkpoint.stored_bytes() == (uint64_t(checkpoint.parameter_count()) + 2 + 40 * 16) * 4 + 4 * 8);
}

TEST_CASE("mixed storage dtypes: stored_dtype is the one most parameters use", "[checkpoint]") {
  t::TempDir dir;
  t::FixtureOptions options;
  options.dtype = DType::BF16;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama), options);
  // Norm weights kept in float32, as some exports do.
  const std::vector<float> ones(16, 1.0f);
  t::rewrite_safetensors(dir / "model.safetensors", {"model.norm.weight"}, [&](attnscope::io::SafetensorsWriter& w) {
    w.add("model.norm.weight", {16}, ones, DType::F32);
  });
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  CHECK(checkpoint.stored_dtype() == DType::BF16);
  const m::ModelWeights w = checkpoint.weights();
  CHECK(w.final_norm.blocks.at(0).dtype == DType::F32);
  CHECK(element(w.final_norm.blocks.at(0), 15) == 1.0f);
}

TEST_CASE("weights stay readable after the Checkpoint is gone", "[checkpoint]") {
  t::TempDir dir;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Mistral));
  std::optional<m::ModelWeights> weights;
  m::ModelSpec spec;
  {
    const Checkpoint checkpoint = Checkpoint::open(dir.path());
    spec = checkpoint.spec();
    weights = checkpoint.weights();
  }
  CHECK(element(weights->layers[1].mlp_out.blocks.at(0), 100) ==
        t::fixture_value(ordinal(spec, "model.layers.1.mlp.down_proj.weight"), 100));
}

TEST_CASE("Checkpoint moves", "[checkpoint]") {
  t::TempDir dir;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Llama));
  Checkpoint a = Checkpoint::open(dir.path());
  Checkpoint b = std::move(a);
  CHECK(b.spec().architecture == Architecture::Llama);
  a = std::move(b);
  CHECK(a.weights().layers.size() == 2);
}
