#pragma once
// A store holding one profile run of tiny_shape()'s model, made through the store's own
// API: the known profile as the run-level values, and four units whose per-test values
// the per-test formats read (Retrieval_Head's lists, span_90 at two lengths).
#include <filesystem>
#include <string>

#include "analysis/profile/profile_aggregate.h"
#include "analysis/store/database.h"
#include "analysis/store/head_metric_records.h"
#include "analysis/store/model_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/sha256.h"
#include "analysis/store/unit_records.h"
#include "export_test_support.h"

namespace attnscope::exports::testing {

struct TinyStore {
  std::filesystem::path dir;
  std::filesystem::path model_dir;  // holds tiny_shape()'s config.json
  store::Database db;
  store::RunId run{};
};

// span_90 of head i (layer-major) in a unit of `length` tokens: 100 + 10 i + length / 8.
inline double tiny_span(int index, int64_t length) { return 100.0 + 10.0 * index + double(length) / 8; }

inline TinyStore make_tiny_store(const std::string& name) {
  const std::filesystem::path dir = temp_dir(name);
  const std::filesystem::path model_dir = dir / "tiny-gqa";
  write_text_file(model_dir / "config.json",
                  R"({"_name_or_path": "test/tiny-gqa", "architectures": ["LlamaForCausalLM"], "model_type": "llama", )"
                  R"("num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2})");
  TinyStore s{dir, model_dir, store::Database::open(dir / "profile.db"), {}};
  store::ModelIdentity m;
  m.content_hash = store::sha256_hex("tiny-gqa");
  m.path = model_dir.string();
  m.architecture = "LlamaForCausalLM";
  m.model_type = "llama";
  m.num_layers = 3;
  m.num_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 8;
  store::NewRun run;
  run.model = store::register_model(s.db, m);
  run.task = "needle+repeat";
  run.parameters = {{"lengths", {512, 1024}}, {"streaming", {{"sink_tokens", 128}, {"recent_tokens", 256}}}};
  run.backend = "cpu";
  run.tool_version = "test";
  s.run = store::begin_run(s.db, run);

  // Units 0 and 1: counted needle tests; unit 2: a needle answered wrong (no retrieval
  // score); unit 3: repeated tokens. Retrieval score of head i in unit u: (i + u) / 16.
  const int64_t lengths[3] = {512, 1024, 1024};
  for (int64_t u = 0; u < 4; ++u) {
    store::NewUnit unit;
    unit.ordinal = u;
    unit.task = u < 3 ? "needle" : "repeated_tokens";
    unit.prompt_tokens = u < 3 ? lengths[u] : 801;
    unit.outcome = {{"correct", u < 2}};
    std::vector<store::HeadMetric> metrics;
    for (int i = 0; i < 12; ++i) {
      const int layer = i / 4, head = i % 4;
      if (u < 2) metrics.push_back({layer, head, "retrieval_score", double(i + u) / 16});
      if (u < 3) metrics.push_back({layer, head, "span_90", tiny_span(i, lengths[u])});
      if (u == 3) metrics.push_back({layer, head, "echo_score", 0.01 * i});
    }
    store::commit_unit(s.db, s.run, unit, metrics);
  }
  store::record_run_metrics(s.db, s.run, profile::head_metric_records(known_profile()));
  store::finish_run(s.db, s.run, store::RunStatus::Complete);
  return s;
}

}  // namespace attnscope::exports::testing
