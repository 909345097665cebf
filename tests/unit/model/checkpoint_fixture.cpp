#include "tests/unit/model/checkpoint_fixture.h"

#include <fstream>

#include "analysis/io/safetensors.h"
#include "analysis/model/architecture.h"
#include "analysis/model/config.h"

namespace attnscope::testing {

nlohmann::json tiny_config(model::Architecture architecture) {
  using model::Architecture;
  if (architecture == Architecture::Gpt2)
    return {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"vocab_size", 40}, {"n_embd", 16},
            {"n_layer", 2}, {"n_head", 4}, {"n_positions", 32}, {"n_inner", nullptr},
            {"activation_function", "gelu_new"}, {"layer_norm_epsilon", 1e-5}, {"bos_token_id", 1},
            {"eos_token_id", 2}, {"torch_dtype", "float32"}};
  nlohmann::json c = {{"vocab_size", 40}, {"hidden_size", 16}, {"intermediate_size", 24},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
                      {"hidden_act", "silu"}, {"bos_token_id", 1}, {"eos_token_id", 2},
                      {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"}};
  switch (architecture) {
    case Architecture::Llama:
      c["architectures"] = {"LlamaForCausalLM"};
      c["model_type"] = "llama";
      c["attention_bias"] = false;
      c["mlp_bias"] = false;
      c["rope_scaling"] = nullptr;
      break;
    case Architecture::Mistral:
      c["architectures"] = {"MistralForCausalLM"};
      c["model_type"] = "mistral";
      c["sliding_window"] = 8;
      break;
    case Architecture::Qwen2:
      c["architectures"] = {"Qwen2ForCausalLM"};
      c["model_type"] = "qwen2";
      c["use_sliding_window"] = false;
      c["sliding_window"] = 4096;
      c["tie_word_embeddings"] = true;
      break;
    case Architecture::Qwen3:
      c["architectures"] = {"Qwen3ForCausalLM"};
      c["model_type"] = "qwen3";
      c["head_dim"] = 8;  // wider than hidden_size / heads, as in real Qwen3 models
      c["attention_bias"] = false;
      c["use_sliding_window"] = false;
      c["tie_word_embeddings"] = true;
      break;
    case Architecture::Gpt2:
      break;
  }
  return c;
}

void write_checkpoint(const std::filesystem::path& dir, const nlohmann::json& config, const FixtureOptions& options) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2);
  const model::ModelSpec spec = model::parse_config(config, "config.json");

  struct Planned {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
    kernels::DType dtype;
  };
  std::vector<Planned> planned;
  const auto expected = model::adapter_for(spec.architecture).expected_tensors(spec);
  for (std::size_t t = 0; t < expected.size(); ++t) {
    const auto& e = expected[t];
    if (options.skip.count(e.name)) continue;
    const auto reshaped = options.reshape.find(e.name);
    const std::vector<int64_t> shape = reshaped != options.reshape.end() ? reshaped->second : e.shape;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> values(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = fixture_value(t, i);
    planned.push_back({options.prefix + e.name, shape, std::move(values), options.dtype});
  }
  for (const auto& [name, shape] : options.extra) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    planned.push_back({name, shape, std::vector<float>(static_cast<std::size_t>(n), 0.5f), kernels::DType::F32});
  }

  const int shards = std::max(options.shards, 1);
  std::vector<io::SafetensorsWriter> writers(static_cast<std::size_t>(shards));
  nlohmann::json weight_map = nlohmann::json::object();
  for (std::size_t i = 0; i < planned.size(); ++i) {
    const std::size_t shard = i % std::size_t(shards);
    writers[shard].add(planned[i].name, planned[i].shape, planned[i].values, planned[i].dtype);
    char file[64];
    std::snprintf(file, sizeof file, "model-%05zu-of-%05d.safetensors", shard + 1, shards);
    weight_map[planned[i].name] = file;
  }
  for (auto& w : writers) w.set_metadata("format", "pt");
  if (shards == 1) {
    writers[0].write(dir / "model.safetensors");
    return;
  }
  for (std::size_t s = 0; s < writers.size(); ++s) {
    char file[64];
    std::snprintf(file, sizeof file, "model-%05zu-of-%05d.safetensors", s + 1, shards);
    writers[s].write(dir / file);
  }
  std::ofstream(dir / "model.safetensors.index.json")
      << nlohmann::json({{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}).dump(2);
}

void rewrite_safetensors(const std::filesystem::path& path, const std::set<std::string>& drop,
                         const std::function<void(io::SafetensorsWriter&)>& add) {
  const auto file = io::SafetensorsFile::open(path);  // its mapping outlives the write below
  io::SafetensorsWriter writer;
  for (const auto& e : file.tensors())
    if (!drop.count(e.name)) writer.add_raw(e.name, e.dtype_name, e.shape, file.bytes(e.name));
  for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
  if (add) add(writer);
  writer.write(path);
}

}  // namespace attnscope::testing
