#include "analysis/export/model_shape.h"

#include "analysis/io/json_file.h"
#include "analysis/model/config_reader.h"
#include "kernels/error.h"

namespace attnscope::exports {

std::string ModelShape::describe() const {
  return (name.empty() ? std::string("the model") : name) + " (" + config_file + "): " + std::to_string(layers) +
         " layers, " + std::to_string(heads) + " query heads, " + std::to_string(kv_heads) + " KV heads";
}

ModelShape model_shape_from_config(const nlohmann::json& config, const std::string& config_file,
                                   const std::string& fallback_name) {
  if (!config.is_object()) throw Error(config_file, "must hold a JSON object, not " + io::json_kind(config));
  const model::ConfigReader reader(config, config_file);
  ModelShape shape;
  shape.config_file = config_file;
  // GPT-2 style configs name the counts n_layer and n_head.
  shape.layers = reader.has("num_hidden_layers") || !reader.has("n_layer") ? reader.count("num_hidden_layers")
                                                                           : reader.count("n_layer");
  shape.heads = reader.has("num_attention_heads") || !reader.has("n_head") ? reader.count("num_attention_heads")
                                                                           : reader.count("n_head");
  shape.kv_heads = reader.optional_count("num_key_value_heads").value_or(shape.heads);
  if (shape.heads % shape.kv_heads != 0)
    reader.fail("num_key_value_heads", "(" + std::to_string(shape.kv_heads) + ") does not divide the " +
                                           std::to_string(shape.heads) + " attention heads into equal groups");
  shape.name = reader.string_or("_name_or_path", fallback_name);
  if (shape.name.empty()) shape.name = fallback_name;
  shape.model_type = reader.string_or("model_type", "");
  if (const nlohmann::json* a = reader.find("architectures"); a != nullptr && a->is_array() && !a->empty() &&
                                                               a->front().is_string())
    shape.architecture = a->front().get<std::string>();
  return shape;
}

ModelShape read_model_shape(const std::filesystem::path& path) {
  std::error_code ec;
  const bool directory = std::filesystem::is_directory(path, ec);
  const std::filesystem::path file = directory ? path / "config.json" : path;
  const std::filesystem::path dir = directory ? path : path.parent_path();
  std::string name = std::filesystem::weakly_canonical(dir, ec).filename().string();
  if (name.empty()) name = dir.filename().string();
  return model_shape_from_config(io::read_json_file(file), file.string(), name);
}

void check_dimension(const std::string& file, int64_t found, const std::string& what, int64_t expected,
                     const std::string& dimension, const ModelShape& shape) {
  if (found == expected) return;
  throw Error(file, std::to_string(found) + " " + what + " but the model (" + shape.config_file + ") has " +
                        std::to_string(expected) + " " + dimension);
}

}  // namespace attnscope::exports
