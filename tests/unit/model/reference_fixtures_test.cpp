// The checkpoints transformers wrote for the reference tests (tests/reference/fixtures)
// open: configs in the transformers 5 spelling, BF16/F16/F32 storage, three shards,
// GPT-2's transformer. prefix.
#include <catch2/catch.hpp>
#include <set>

#include "analysis/model/checkpoint.h"

using attnscope::kernels::DType;
using attnscope::model::Architecture;
using attnscope::model::Checkpoint;
using attnscope::model::RopeScaling;

namespace {

const std::filesystem::path kFixtures = std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / "reference/fixtures";

struct Expected {
  const char* name;
  Architecture architecture;
  DType stored;
  int kv_heads;
  int head_dim;
  bool tied;
  RopeScaling scaling;
  std::size_t files;
};

}  // namespace

TEST_CASE("reference fixtures written by transformers open", "[checkpoint][reference]") {
  const Expected e = GENERATE(Expected{"llama", Architecture::Llama, DType::BF16, 2, 16, false, RopeScaling::None, 3},
                              Expected{"llama3-rope", Architecture::Llama, DType::BF16, 1, 16, true, RopeScaling::Llama3, 1},
                              Expected{"llama-linear-bias", Architecture::Llama, DType::F32, 4, 16, false, RopeScaling::Linear, 1},
                              Expected{"mistral", Architecture::Mistral, DType::F16, 2, 16, false, RopeScaling::None, 1},
                              Expected{"qwen2", Architecture::Qwen2, DType::BF16, 2, 16, true, RopeScaling::None, 1},
                              Expected{"qwen3", Architecture::Qwen3, DType::BF16, 2, 32, true, RopeScaling::None, 1},
                              Expected{"gpt2", Architecture::Gpt2, DType::F32, 4, 16, true, RopeScaling::None, 1});
  const auto dir = kFixtures / e.name;
  REQUIRE(std::filesystem::exists(dir / "config.json"));  // committed with the tests
  INFO(e.name);
  const Checkpoint checkpoint = Checkpoint::open(dir);
  const auto& s = checkpoint.spec();
  CHECK(s.architecture == e.architecture);
  CHECK(s.num_layers == 2);
  CHECK(s.num_heads == 4);
  CHECK(s.num_kv_heads == e.kv_heads);
  CHECK(s.head_dim == e.head_dim);
  CHECK(s.vocab_size == 512);
  CHECK(s.tie_word_embeddings == e.tied);
  CHECK(s.rope.scaling == e.scaling);
  CHECK(s.bos_token_id == 1);
  CHECK(s.eos_token_ids == std::vector<int32_t>{2});
  CHECK(checkpoint.stored_dtype() == e.stored);
  std::set<std::filesystem::path> files;
  for (const auto& t : checkpoint.tensors()) files.insert(t.file);
  CHECK(files.size() == e.files);
  const auto w = checkpoint.weights();
  CHECK(w.layers.size() == 2);
  CHECK((w.lm_head.blocks.at(0).data == w.token_embedding.blocks.at(0).data) == e.tied);
  if (e.architecture == Architecture::Mistral) CHECK(s.sliding_window == 12);
  if (e.architecture == Architecture::Llama && e.scaling == RopeScaling::Linear) {
    CHECK(s.rope.factor == 4.0);
    CHECK(s.attention_bias);
    CHECK(s.output_bias);
    CHECK(s.mlp_bias);
  }
  if (e.scaling == RopeScaling::Llama3) {
    CHECK(s.rope.theta == 500000.0);
    CHECK(s.rope.original_max_position_embeddings == 16);
  }
}
