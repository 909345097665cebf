#pragma once
// The registry of supported architectures. Each family keeps its quirks in one file
// under architectures/: which config.json keys it reads, which tensors (names and
// shapes) a checkpoint must hold, and how they map to ModelWeights roles.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/config_reader.h"
#include "analysis/model/model_spec.h"
#include "analysis/model/model_weights.h"

namespace attnscope::model {

struct ExpectedTensor {
  std::string name;            // canonical name (see ArchitectureAdapter::canonical_name)
  std::vector<int64_t> shape;  // exactly as stored
};

// Finds a checkpoint tensor by canonical name; the checkpoint has already verified that
// every expected tensor exists as a float tensor of the expected shape.
using TensorLookup = std::function<kernels::HostTensorView(const std::string& name)>;

class ArchitectureAdapter {
 public:
  virtual ~ArchitectureAdapter() = default;

  // Reads the family's keys into `spec` (architecture, names, token ids and dtype are
  // already set); throws attnscope::Error through `config` on a bad or unsupported key.
  virtual void read_config(const ConfigReader& config, ModelSpec& spec) const = 0;
  // The name a stored tensor is known by (GPT-2 may or may not prefix "transformer.").
  virtual std::string canonical_name(std::string_view stored) const { return std::string(stored); }
  // Tensors a checkpoint may carry that are not weights we use: causal-mask buffers,
  // cached RoPE frequencies, an lm_head copy of tied embeddings.
  virtual bool is_unused_extra(const ModelSpec& spec, std::string_view canonical) const = 0;
  // Every weight of `spec`, with the exact shape its config implies.
  virtual std::vector<ExpectedTensor> expected_tensors(const ModelSpec& spec) const = 0;
  // The weights by role. Buffers the adapter builds go into keep_alive.
  virtual ModelWeights build_weights(const ModelSpec& spec, const TensorLookup& find) const = 0;
};

struct ArchitectureInfo {
  Architecture architecture;
  std::string_view class_name;  // config.json "architectures" entry
  std::string_view model_type;  // config.json "model_type"
  const ArchitectureAdapter* adapter;
};

std::span<const ArchitectureInfo> supported_architectures();
const ArchitectureInfo* find_architecture_by_class(std::string_view class_name);
const ArchitectureInfo* find_architecture_by_model_type(std::string_view model_type);
const ArchitectureAdapter& adapter_for(Architecture architecture);

// Parameters of a model with `spec` (tied embeddings counted once).
int64_t parameter_count(const ModelSpec& spec);

// The families (architectures/*.cpp).
const ArchitectureAdapter& llama_family_adapter();  // Llama, Mistral, Qwen2, Qwen3
const ArchitectureAdapter& gpt2_adapter();

}  // namespace attnscope::model
