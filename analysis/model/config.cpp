#include "analysis/model/config.h"

#include "analysis/io/json_file.h"
#include "analysis/model/architecture.h"
#include "analysis/model/config_reader.h"
#include "kernels/error.h"

namespace attnscope::model {
namespace {

std::string supported_list(bool class_names) {
  std::string out;
  for (const ArchitectureInfo& a : supported_architectures())
    out += (out.empty() ? "" : ", ") + std::string(class_names ? a.class_name : a.model_type);
  return out;
}

const ArchitectureInfo& identify(const ConfigReader& config) {
  const ArchitectureInfo* by_class = nullptr;
  std::string class_name;
  if (const nlohmann::json* list = config.find("architectures")) {
    if (!list->is_array() || list->empty() || !(*list)[0].is_string())
      config.fail("architectures", "must be a list holding the model class name, not " + list->dump());
    class_name = (*list)[0].get<std::string>();
    by_class = find_architecture_by_class(class_name);
    if (by_class == nullptr)
      config.fail("architectures", "names \"" + class_name + "\", which is not supported (supported: " +
                                       supported_list(true) + ")");
  }
  const auto model_type = config.optional_string("model_type");
  if (!model_type) {
    if (by_class == nullptr)
      throw Error(config.file(), "has neither \"architectures\" nor \"model_type\", so the model cannot be identified");
    return *by_class;
  }
  const ArchitectureInfo* by_type = find_architecture_by_model_type(*model_type);
  if (by_type == nullptr)
    config.fail("model_type", "is \"" + *model_type + "\", which is not supported (supported: " +
                                  supported_list(false) + ")");
  if (by_class != nullptr && by_class != by_type)
    config.fail("model_type", "is \"" + *model_type + "\" but \"architectures\" names \"" + class_name +
                                  "\" (whose model_type is \"" + std::string(by_class->model_type) + "\")");
  return *by_type;
}

std::optional<int32_t> token_id(const ConfigReader& config, std::string_view key, const nlohmann::json& v,
                                int64_t vocab_size) {
  if (!v.is_number_integer()) config.fail(key, "must be a token id, not " + io::json_kind(v) + " (" + v.dump() + ")");
  const bool negative = !v.is_number_unsigned() && v.get<int64_t>() < 0;
  if (negative || v.get<uint64_t>() >= uint64_t(vocab_size))
    config.fail(key, "(" + v.dump() + ") is outside the vocabulary of " + std::to_string(vocab_size) + " tokens");
  return int32_t(v.get<int64_t>());
}

void read_token_ids(const ConfigReader& config, ModelSpec& spec) {
  if (const nlohmann::json* bos = config.find("bos_token_id"))
    spec.bos_token_id = token_id(config, "bos_token_id", *bos, spec.vocab_size);
  // eos_token_id is one id, or a list of them (Llama 3 instruct models).
  if (const nlohmann::json* eos = config.find("eos_token_id")) {
    if (eos->is_array()) {
      for (const nlohmann::json& id : *eos)
        spec.eos_token_ids.push_back(*token_id(config, "eos_token_id", id, spec.vocab_size));
    } else {
      spec.eos_token_ids.push_back(*token_id(config, "eos_token_id", *eos, spec.vocab_size));
    }
  }
}

void read_dtype(const ConfigReader& config, ModelSpec& spec) {
  // transformers 5 writes "dtype"; earlier versions "torch_dtype".
  const char* key = config.has("dtype") ? "dtype" : "torch_dtype";
  const auto name = config.optional_string(key);
  if (!name) return;
  if (*name == "float32")
    spec.dtype = kernels::DType::F32;
  else if (*name == "float16")
    spec.dtype = kernels::DType::F16;
  else if (*name == "bfloat16")
    spec.dtype = kernels::DType::BF16;
  else
    config.fail(key, "is \"" + *name + "\"; supported: float32, float16, bfloat16");
}

// The limits of config.h, named by what they count (families spell the keys differently).
void check_model_size(const ConfigReader& config, const ModelSpec& spec) {
  const auto refuse = [&](const std::string& what, int64_t value, int64_t limit) {
    throw Error(config.file(), "describes a model with " + std::to_string(value) + " " + what +
                                   "; AttnScope supports at most " + std::to_string(limit));
  };
  if (spec.num_layers > kMaxLayers) refuse("layers", spec.num_layers, kMaxLayers);
  if (spec.num_heads > kMaxHeads) refuse("attention heads", spec.num_heads, kMaxHeads);
  if (spec.head_dim > kMaxHeadDim) refuse("dimensions per head", spec.head_dim, kMaxHeadDim);
  if (spec.vocab_size > kMaxVocabulary) refuse("tokens in its vocabulary", spec.vocab_size, kMaxVocabulary);
  if (spec.max_position_embeddings > kMaxPositions)
    refuse("positions (max_position_embeddings)", spec.max_position_embeddings, kMaxPositions);
  // The sum parameter_count() computes, checked here so that it cannot overflow there.
  int64_t parameters = 0;
  for (const ExpectedTensor& t : adapter_for(spec.architecture).expected_tensors(spec)) {
    int64_t n = 1;
    bool overflow = false;
    for (int64_t d : t.shape) overflow = overflow || __builtin_mul_overflow(n, d, &n);
    if (overflow || __builtin_add_overflow(parameters, n, &parameters) || parameters > kMaxParameters)
      refuse("parameters or more", kMaxParameters + 1, kMaxParameters);
  }
}

}  // namespace

ModelSpec parse_config(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) throw Error(where, "is " + io::json_kind(json) + ", not a JSON object");
  const ConfigReader config(json, where);
  const ArchitectureInfo& info = identify(config);
  if (config.has("quantization_config"))
    config.fail("quantization_config", "is set; quantized checkpoints (GPTQ, AWQ, bitsandbytes, ...) are not supported");

  ModelSpec spec;
  spec.architecture = info.architecture;
  spec.architecture_name = std::string(info.class_name);
  spec.model_type = std::string(info.model_type);
  info.adapter->read_config(config, spec);
  check_model_size(config, spec);
  read_token_ids(config, spec);
  read_dtype(config, spec);
  return spec;
}

ModelSpec load_config(const std::filesystem::path& config_json) {
  return parse_config(io::read_json_file(config_json), config_json.string());
}

}  // namespace attnscope::model
