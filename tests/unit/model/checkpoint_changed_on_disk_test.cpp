// A checkpoint truncated or changed on disk after it was opened (and mapped) but before
// its weights are read is reported as an attnscope::Error naming the file, not a crash
// (SIGBUS on the truncated mapping; kernels/guarded_read.h).
#include <catch2/catch.hpp>

#include <filesystem>

#include "analysis/model/checkpoint.h"
#include "analysis/runtime/transformer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"
#include "tests/unit/model/checkpoint_fixture.h"

namespace fs = std::filesystem;
namespace t = attnscope::testing;
using attnscope::model::Architecture;
using attnscope::model::Checkpoint;
using attnscope::runtime::Transformer;
using Catch::Contains;

namespace {

// A copy of the bundled sample model (14 MB of weights) that a test may damage.
fs::path copy_sample(const t::TempDir& dir) {
  const fs::path model = dir / "sample-llama";
  fs::create_directories(model);
  for (const char* name : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama" / name, model / name);
  return model;
}

}  // namespace

TEST_CASE("a checkpoint truncated after it was opened is an error naming the file when the model loads",
          "[checkpoint][untrusted]") {
  t::TempDir dir;
  const fs::path model = copy_sample(dir);
  const Checkpoint checkpoint = Checkpoint::open(model);
  const auto size = fs::file_size(model / "model.safetensors");
  fs::resize_file(model / "model.safetensors", size / 2);
  auto backend = attnscope::kernels::make_cpu_backend(2);
  REQUIRE_THROWS_WITH(Transformer(checkpoint, *backend),
                      Contains((model / "model.safetensors").string()) &&
                          Contains("was truncated from " + std::to_string(size) + " to " + std::to_string(size / 2)));
  // The backend and the process carry on: the intact original loads.
  const Checkpoint intact = Checkpoint::open(fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama");
  CHECK_NOTHROW(Transformer(intact, *backend));
}

TEST_CASE("a checkpoint modified in place after it was opened is an error when the model loads",
          "[checkpoint][untrusted]") {
  t::TempDir dir;
  const fs::path model = copy_sample(dir);
  const Checkpoint checkpoint = Checkpoint::open(model);
  const fs::path weights = model / "model.safetensors";
  fs::last_write_time(weights, fs::last_write_time(weights) + std::chrono::seconds(5));
  auto backend = attnscope::kernels::make_cpu_backend(2);
  REQUIRE_THROWS_WITH(Transformer(checkpoint, *backend), Contains(weights.string()) && Contains("was modified"));
}

TEST_CASE("biases joined from a truncated checkpoint are an error naming the file", "[checkpoint][untrusted]") {
  // Qwen2's q, k and v biases are joined into one buffer by the analysis layer itself.
  t::TempDir dir;
  t::write_checkpoint(dir.path(), t::tiny_config(Architecture::Qwen2));
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  fs::resize_file(dir / "model.safetensors", 0);
  REQUIRE_THROWS_WITH(checkpoint.weights(),
                      Contains((dir / "model.safetensors").string()) && Contains("was truncated"));
}
