// Prompts run in chunks (CPU backend, the bundled tiny checkpoint): a chunk run without
// logits returns none and leaves the KV cache exactly as a chunk run with them, so the
// next chunk's logits are the same bit for bit.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "analysis/model/checkpoint.h"
#include "analysis/runtime/transformer.h"
#include "kernels/cpu/cpu_backend.h"

namespace {

namespace fs = std::filesystem;
using namespace attnscope;

// 2 layers, 4 query heads over 1 KV head, head_dim 16, vocabulary 512 (sample_data/README.md).
const fs::path kTiny = fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "tiny-random-llama";

std::vector<int32_t> random_prompt(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> id(3, 511);
  std::vector<int32_t> ids(static_cast<std::size_t>(n));
  for (int32_t& x : ids) x = id(rng);
  return ids;
}

}  // namespace

TEST_CASE("a chunk run without logits leaves the cache as a chunk run with them", "[runtime][forward]") {
  const auto checkpoint = model::Checkpoint::open(kTiny);
  auto backend = kernels::make_cpu_backend(1);
  runtime::Transformer model(checkpoint, *backend, 64);
  const std::vector<int32_t> ids = random_prompt(40, 5);
  const std::span<const int32_t> first(ids.data(), 25), rest(ids.data() + 25, 15);

  model.forward(first, nullptr, runtime::Logits::LastRow);
  const std::vector<float> with = model.forward(rest, nullptr, runtime::Logits::LastRow);

  model.reset();
  CHECK(model.forward(first, nullptr, runtime::Logits::None).empty());
  CHECK(model.position() == 25);
  const std::vector<float> without = model.forward(rest, nullptr, runtime::Logits::LastRow);
  REQUIRE(without.size() == with.size());
  CHECK(without == with);  // bit for bit: the same layers ran on the same rows
}
