#include "analysis/model/architecture.h"

#include <vector>

namespace attnscope::model {

std::span<const ArchitectureInfo> supported_architectures() {
  static const std::vector<ArchitectureInfo> table = {
      {Architecture::Llama, "LlamaForCausalLM", "llama", &llama_family_adapter()},
      {Architecture::Mistral, "MistralForCausalLM", "mistral", &llama_family_adapter()},
      {Architecture::Qwen2, "Qwen2ForCausalLM", "qwen2", &llama_family_adapter()},
      {Architecture::Qwen3, "Qwen3ForCausalLM", "qwen3", &llama_family_adapter()},
      {Architecture::Gpt2, "GPT2LMHeadModel", "gpt2", &gpt2_adapter()},
  };
  return table;
}

const ArchitectureInfo* find_architecture_by_class(std::string_view class_name) {
  for (const ArchitectureInfo& a : supported_architectures())
    if (a.class_name == class_name) return &a;
  return nullptr;
}

const ArchitectureInfo* find_architecture_by_model_type(std::string_view model_type) {
  for (const ArchitectureInfo& a : supported_architectures())
    if (a.model_type == model_type) return &a;
  return nullptr;
}

const ArchitectureAdapter& adapter_for(Architecture architecture) {
  for (const ArchitectureInfo& a : supported_architectures())
    if (a.architecture == architecture) return *a.adapter;
  return llama_family_adapter();  // unreachable: every enum value is in the table
}

int64_t parameter_count(const ModelSpec& spec) {
  int64_t total = 0;
  for (const ExpectedTensor& t : adapter_for(spec.architecture).expected_tensors(spec)) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    total += n;
  }
  return total;
}

}  // namespace attnscope::model
