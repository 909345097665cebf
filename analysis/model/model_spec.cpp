#include "analysis/model/model_spec.h"

namespace attnscope::model {

std::string architecture_name(Architecture a) {
  switch (a) {
    case Architecture::Llama: return "LlamaForCausalLM";
    case Architecture::Mistral: return "MistralForCausalLM";
    case Architecture::Qwen2: return "Qwen2ForCausalLM";
    case Architecture::Qwen3: return "Qwen3ForCausalLM";
    case Architecture::Gpt2: return "GPT2LMHeadModel";
  }
  return "unknown";
}

}  // namespace attnscope::model
