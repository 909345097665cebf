#include "analysis/model/checkpoint_files.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::model {
namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// The index may only point at files inside the checkpoint directory.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index) {
  const nlohmann::json json = io::read_json_file(index);
  const std::string where = index.string();
  if (!json.is_object()) throw Error(where, "is " + io::json_kind(json) + ", not a JSON object");
  const auto it = json.find("weight_map");
  if (it == json.end() || !it->is_object())
    throw Error(where, "has no \"weight_map\" object mapping tensor names to shard files");
  std::map<std::string, std::string> map;
  for (const auto& [tensor, file] : it->items()) {
    if (!file.is_string())
      throw Error(where + ": tensor " + tensor, "\"weight_map\" maps it to " + io::json_kind(file) + ", not a file name");
    const std::string name = file.get<std::string>();
    if (!is_plain_file_name(name))
      throw Error(where + ": tensor " + tensor,
                  "\"weight_map\" maps it to \"" + name + "\", which is not a file name in this directory");
    map.emplace(tensor, name);
  }
  if (map.empty()) throw Error(where, "its \"weight_map\" is empty");
  return map;
}

CheckpointFiles open_shards(const std::filesystem::path& directory, const std::filesystem::path& index) {
  const auto weight_map = read_weight_map(index);
  std::set<std::string> names;
  for (const auto& [tensor, file] : weight_map) names.insert(file);

  CheckpointFiles out;
  out.index = index;
  std::map<std::string, const io::SafetensorsFile*> by_name;
  out.files.reserve(names.size());
  for (const std::string& name : names) {
    const std::filesystem::path path = directory / name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      throw Error(path.string(), "is listed in " + std::string(kIndexFile) + " but the file is missing");
    out.files.push_back(io::SafetensorsFile::open(path));
    by_name[name] = &out.files.back();
  }
  for (const auto& [tensor, file] : weight_map)
    if (by_name.at(file)->find(tensor) == nullptr)
      throw Error(by_name.at(file)->where(tensor),
                  std::string(kIndexFile) + " places it in this file, but the file does not contain it");
  // The other direction: a tensor the index does not place here means index and shards disagree.
  for (const auto& [name, file] : by_name)
    for (const io::SafetensorsEntry& e : file->tensors()) {
      const auto it = weight_map.find(e.name);
      if (it == weight_map.end())
        throw Error(file->where(e.name), "is not listed in " + std::string(kIndexFile));
      if (it->second != name)
        throw Error(file->where(e.name), "is also stored here, but " + std::string(kIndexFile) + " places it in " +
                                             it->second + " (a tensor must be stored once)");
    }
  return out;
}

// The first weights file in pickle format in `directory` (sorted by name), if any.
std::optional<std::string> first_pickle_file(const std::filesystem::path& directory) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec))
    if (is_pickle_file_name(entry.path())) names.push_back(entry.path().filename().string());
  if (names.empty()) return std::nullopt;
  return *std::min_element(names.begin(), names.end());
}

}  // namespace

CheckpointFiles open_checkpoint_files(const std::filesystem::path& directory) {
  std::error_code ec;
  // As transformers does: a single file wins over an index.
  if (std::filesystem::exists(directory / kSingleFile, ec)) {
    CheckpointFiles out;
    out.files.push_back(io::SafetensorsFile::open(directory / kSingleFile));
    return out;
  }
  if (std::filesystem::exists(directory / kIndexFile, ec)) return open_shards(directory, directory / kIndexFile);
  if (const auto pickle = first_pickle_file(directory))
    throw Error(directory.string(), "holds PyTorch pickle weights (" + *pickle + ") only; " + kSafetensorsOnly);
  throw Error(directory.string(), std::string("has no ") + kSingleFile + " and no " + kIndexFile);
}

bool is_pickle_file_name(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  if (name.ends_with(".bin.index.json")) return true;  // the index of pytorch_model-0000i-of-0000n.bin shards
  for (const char* suffix : {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"})
    if (name.ends_with(suffix)) return true;
  return false;
}

}  // namespace attnscope::model
