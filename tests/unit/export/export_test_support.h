#pragma once
// Shared pieces of the export tests: the fixture folders (tests/export_data), a small
// GQA model shape with a known profile, golden-file comparison, and shapes of the real
// models whose published profiles the readers must take.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "analysis/export/format_text.h"
#include "analysis/export/model_shape.h"
#include "analysis/profile/head_profile.h"

namespace attnscope::exports::testing {

inline std::filesystem::path data_dir() { return std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / "export_data"; }
inline std::filesystem::path reference_dir() { return data_dir() / "reference"; }
inline std::filesystem::path golden_dir() { return data_dir() / "golden"; }
// The config.json fixtures of the published profiles' models (tests/export_data/models).
inline ModelShape real_model(const std::string& name) { return read_model_shape(data_dir() / "models" / name); }

// 3 layers, 4 query heads in 2 KV groups.
inline ModelShape tiny_shape() {
  ModelShape shape;
  shape.layers = 3;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.name = "test/tiny-gqa";
  shape.architecture = "LlamaForCausalLM";
  shape.model_type = "llama";
  shape.config_file = "tiny/config.json";
  return shape;
}

// Every metric of every head of tiny_shape(), each a simple function of (layer, head) so
// that the golden files can be checked by eye.
inline profile::HeadProfile known_profile() {
  namespace metric = profile::metric;
  profile::HeadProfile p(3, 4);
  const char* patterns[3][4] = {{"local", "a_shape", "vertical_slash", "dense"},
                                {"block_sparse", "local", "vertical_slash", "a_shape"},
                                {"dense", "dense", "local", "block_sparse"}};
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 4; ++h) {
      const double x = double(l * 4 + h);  // 0 .. 11
      p.set(metric::streaming_gate, l, h, x / 11.0);
      p.set(metric::streaming_change, l, h, 0.02 * x);
      p.set(metric::sink_mass, l, h, 0.5 + 0.03125 * double(h));
      p.set(metric::local_mass, l, h, 0.25);
      p.set(metric::entropy, l, h, 1.5 + 0.125 * x);
      p.set(metric::retrieval_score, l, h, x == 6 ? 0.75 : 0.0625 * double(h));
      p.set(metric::echo_score, l, h, x == 9 ? 0.5 : 0.001 * x);
      p.set(metric::induction_score, l, h, (x == 5 || x == 7) ? 0.4 : 0.002 * x);
      p.set(metric::pattern, l, h, std::string(patterns[l][h]));
      p.set(metric::density_90, l, h, 0.05 + 0.01 * x);
      p.set(metric::density_95, l, h, 0.1 + 0.01 * x);
      p.set(metric::density_99, l, h, 0.2 + 0.01 * x);
    }
  return p;
}

// Compares `text` with the golden file byte for byte. ATTNSCOPE_UPDATE_GOLDEN=1 rewrites
// the file instead (then read the diff before committing it).
inline void check_golden(const std::string& name, const std::string& text) {
  const std::filesystem::path path = golden_dir() / name;
  if (const char* update = std::getenv("ATTNSCOPE_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    write_text_file(path, text);
    WARN("rewrote " << path.string());
    return;
  }
  INFO("golden file " << path.string());
  CHECK(read_text_file(path) == text);
}

inline std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("attnscope_export_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace attnscope::exports::testing
