#pragma once
// Shared by the tokenizer tests: the committed corpus and reference ids, the cached real
// tokenizer.json files, and small temporary files.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/tokenizer/tokenizer.h"

namespace attnscope::testing::tokenizer {

inline std::filesystem::path data_dir() { return std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / "tokenizer_data"; }

inline std::filesystem::path cached_tokenizer_path(const std::string& name) {
  return std::filesystem::path(ATTNSCOPE_TEST_CACHE_DIR) / "tokenizers" / name / "tokenizer.json";
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct CorpusItem {
  std::string name;
  std::string text;
};

// tests/tokenizer_data/corpus.jsonl: one {"name", "text"} object per line.
inline const std::vector<CorpusItem>& corpus() {
  static const std::vector<CorpusItem> items = [] {
    std::vector<CorpusItem> out;
    std::istringstream lines(read_text(data_dir() / "corpus.jsonl"));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      out.push_back({j.at("name").get<std::string>(), j.at("text").get<std::string>()});
    }
    return out;
  }();
  return items;
}

// What Hugging Face tokenizers gives for one corpus item (generate_reference.mjs).
struct ReferenceItem {
  std::string name;
  std::vector<int32_t> ids;             // encode(text, add_special_tokens=true)
  std::vector<int32_t> ids_no_special;  // encode(text, add_special_tokens=false)
  std::string decoded;                  // decode(ids, skip_special_tokens=false)
  std::string decoded_skip_special;     // decode(ids, skip_special_tokens=true)
};

inline std::vector<ReferenceItem> reference(const std::string& tokenizer_name) {
  auto j = nlohmann::json::parse(read_text(data_dir() / "reference" / (tokenizer_name + ".json")));
  std::vector<ReferenceItem> out;
  for (const auto& item : j.at("items")) {
    out.push_back({item.at("name").get<std::string>(), item.at("ids").get<std::vector<int32_t>>(),
                   item.at("ids_no_special").get<std::vector<int32_t>>(), item.at("decoded").get<std::string>(),
                   item.at("decoded_skip_special").get<std::string>()});
  }
  return out;
}

// tests/tokenizer_data/synthetic/: small hand-made tokenizer.json files and what tokenizers gives
// for each case of them (generate_synthetic.mjs). A decode case has no text, only decode_ids.
struct SyntheticCase {
  std::string fixture;
  std::string name;
  std::string text;
  std::vector<int32_t> ids;             // encode(text, true), or the ids a decode case decodes
  std::vector<int32_t> ids_no_special;  // encode(text, false); empty for a decode case
  std::string decoded;                  // decode(ids, false)
  std::string decoded_skip_special;     // decode(ids, true)
  bool decode_only = false;
};

inline std::filesystem::path synthetic_path(const std::string& fixture) {
  return data_dir() / "synthetic" / (fixture + ".json");
}

inline const std::vector<SyntheticCase>& synthetic_cases() {
  static const std::vector<SyntheticCase> cases = [] {
    auto j = nlohmann::json::parse(read_text(data_dir() / "synthetic" / "reference.json"));
    std::vector<SyntheticCase> out;
    for (const auto& item : j.at("items")) {
      SyntheticCase c;
      c.fixture = item.at("fixture").get<std::string>();
      c.name = item.at("case").get<std::string>();
      c.decode_only = item.contains("decode_ids");
      if (c.decode_only) {
        c.ids = item.at("decode_ids").get<std::vector<int32_t>>();
      } else {
        c.text = item.at("text").get<std::string>();
        c.ids = item.at("ids").get<std::vector<int32_t>>();
        c.ids_no_special = item.at("ids_no_special").get<std::vector<int32_t>>();
      }
      c.decoded = item.at("decoded").get<std::string>();
      c.decoded_skip_special = item.at("decoded_skip_special").get<std::string>();
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

inline const SyntheticCase& synthetic_case(const std::string& fixture, const std::string& name) {
  for (const auto& c : synthetic_cases()) {
    if (c.fixture == fixture && c.name == name) return c;
  }
  throw std::runtime_error("no synthetic case " + fixture + "/" + name + ": rerun generate_synthetic.mjs");
}

// Each real tokenizer is loaded once per test run (Llama 3's file alone is 9 MB).
inline const attnscope::tokenizer::Tokenizer* cached_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<attnscope::tokenizer::Tokenizer>> loaded;
  auto it = loaded.find(name);
  if (it != loaded.end()) return it->second.get();
  std::filesystem::path path = cached_tokenizer_path(name);
  if (!std::filesystem::exists(path)) return nullptr;
  auto tokenizer = std::make_unique<attnscope::tokenizer::Tokenizer>(attnscope::tokenizer::Tokenizer::from_file(path));
  return loaded.emplace(name, std::move(tokenizer)).first->second.get();
}

// A file under the system temp folder, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "attnscope-tok-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    std::ofstream(pattern, std::ios::binary) << contents;
    path_ = pattern;
    ::close(fd);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace attnscope::testing::tokenizer
