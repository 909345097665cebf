#pragma once
// Tiny checkpoints of every supported architecture, written with the safetensors writer,
// and switches to break them in one specific way each.
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "analysis/io/safetensors.h"
#include "analysis/model/model_spec.h"

namespace attnscope::testing {

// A small but complete config.json of each architecture (GQA where it has it).
nlohmann::json tiny_config(model::Architecture architecture);

struct FixtureOptions {
  kernels::DType dtype = kernels::DType::F32;
  int shards = 1;                   // > 1: model-0000i-of-0000n.safetensors + index
  std::string prefix;               // put before every stored name ("transformer." for GPT-2)
  std::set<std::string> skip;       // expected tensors not written
  std::map<std::string, std::vector<int64_t>> reshape;  // expected tensors written with another shape
  std::map<std::string, std::vector<int64_t>> extra;    // additional F32 tensors
};

// Writes config.json and the weights its spec expects. Element i of the t-th expected
// tensor (in expected_tensors order) is fixture_value(t, i).
void write_checkpoint(const std::filesystem::path& dir, const nlohmann::json& config, const FixtureOptions& options = {});

// Rewrites the safetensors file at `path` keeping every tensor but those in `drop`, then
// lets `add` put more tensors in before the file is written again.
void rewrite_safetensors(const std::filesystem::path& path, const std::set<std::string>& drop,
                         const std::function<void(io::SafetensorsWriter&)>& add = {});

// Exact in F32, F16 and BF16.
inline float fixture_value(std::size_t tensor, std::size_t i) {
  return float((tensor * 7 + i) % 31) * 0.0625f - 1.0f;
}

}  // namespace attnscope::testing
