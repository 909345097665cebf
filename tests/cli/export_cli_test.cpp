// attnscope-cli export / import end to end: a short profile of the bundled sample model
// exported in every format and imported back as a plan; published profiles imported for
// their models and refused for the sample model; a plan exported again byte for byte;
// usage mistakes and impossible requests refused.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analysis/export/format_text.h"
#include "tests/cli/cli_runner.h"
#include "tests/unit/io/test_files.h"

using attnscope::testing::TempDir;
using attnscope::testing::cli::json_of;
using attnscope::testing::cli::Result;
using Catch::Contains;

namespace {

std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";  // appended: GCC 12 warns falsely on "'" + std::string
  out += p.string();
  out += "'";
  return out;
}

Result cli(const std::string& args) { return attnscope::testing::cli::run_cli(args); }

std::filesystem::path export_data() { return std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / "export_data"; }
std::filesystem::path sample_model() { return std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama"; }

// One profile of the sample model for every test of this file (a few seconds): needle
// prompts of 256 and 512 tokens (retrieval scores, pattern classes, span_90 at two
// lengths), repeated tokens (echo and induction), the streaming probe (gates).
struct ProfiledStore {
  TempDir dir;
  std::filesystem::path db = dir / "profile.db";
  ProfiledStore() {
    const Result r = cli("profile --threads 1 --task needle,repeat --lengths 256,512 --depths 50 --metrics "
                         "streaming_gate,retrieval_score,induction_score,echo_score,pattern,span_90,sink_mass "
                         "--streaming-length 256 --db " + quoted(db));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
  }
};

const ProfiledStore& profiled() {
  static const ProfiledStore store;
  return store;
}

std::string export_args(const std::string& format, const std::filesystem::path& out) {
  return "export --format " + format + " --run 1 --db " + quoted(profiled().db) + " --out " + quoted(out);
}

nlohmann::json import_json(const std::string& format, const std::filesystem::path& file, const std::filesystem::path& model,
                           const std::string& extra = "") {
  return json_of(cli("import --format " + format + " " + quoted(file) + " --model " + quoted(model) + " --json " + extra));
}

int64_t plan_heads(const nlohmann::json& j) {
  int64_t n = 0;
  for (const auto& h : j["plan_heads"]) n += h["heads"].get<int64_t>();
  return n;
}

}  // namespace

TEST_CASE("export writes every format from a profile run and import reads each back as a plan", "[cli][export]") {
  TempDir out;
  for (const std::string format : {"duo", "moa", "minference", "retrieval-head", "razor"}) {
    INFO(format);
    const Result r = cli(export_args(format, out / format));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("wrote") && Contains("from run 1"));
    const nlohmann::json j = import_json(format, out / format, sample_model(), "--out " + quoted(out / (format + ".plan.json")));
    CHECK(j["model"]["num_layers"] == 8);
    CHECK(plan_heads(j) == 64);
    CHECK(std::filesystem::exists(out / (format + ".plan.json")));
  }
}

TEST_CASE("export --format duo writes the gates per KV head and the probe's window", "[cli][export]") {
  TempDir out;
  REQUIRE(cli(export_args("duo", out / "duo")).exit_code == 0);
  const std::string tsv = attnscope::exports::read_text_file(out / "duo" / "full_attention_heads.tsv");
  CHECK(std::count(tsv.begin(), tsv.end(), '\n') == 8);    // layers
  CHECK(std::count(tsv.begin(), tsv.end(), '\t') == 8);    // 2 KV heads: one tab per row
  const auto config = nlohmann::json::parse(attnscope::exports::read_text_file(out / "duo" / "config.json"));
  CHECK(config["sink_size"] == 128);
  CHECK(config["recent_size"] == 256);
  CHECK(config["attnscope_run"] == 1);
}

TEST_CASE("export --format json and csv read back with import", "[cli][export]") {
  TempDir out;
  REQUIRE(cli(export_args("json", out / "p.json")).exit_code == 0);
  REQUIRE(cli(export_args("csv", out / "p.csv")).exit_code == 0);
  const nlohmann::json j = import_json("json", out / "p.json", sample_model());
  CHECK(std::find(j["details"]["metrics"].begin(), j["details"]["metrics"].end(), "span_90") != j["details"]["metrics"].end());
  const nlohmann::json c = import_json("csv", out / "p.csv", sample_model(), "--plan-as razor --out " + quoted(out / "r.plan"));
  CHECK(plan_heads(c) == 64);
}

TEST_CASE("A published DuoAttention pattern imports for its model and is refused for the sample model", "[cli][export]") {
  const auto pattern = export_data() / "reference" / "duo-attention" / "Meta-Llama-3.1-8B-Instruct";
  const nlohmann::json j = import_json("duo", pattern, export_data() / "models" / "Meta-Llama-3.1-8B-Instruct", "--sparsity 0.5");
  CHECK(j["details"]["full_kv_heads"] == 128);  // ceil(255 x 0.5) = 128 of 256 streaming
  const Result r = cli("import --format duo " + quoted(pattern) + " --model " + quoted(sample_model()));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("full_attention_heads.tsv: line 1 has 8 columns but the model") && Contains("2 KV heads"));
}

TEST_CASE("A published MoA plan imported as a plan exports again byte for byte", "[cli][export]") {
  TempDir out;
  const auto file = export_data() / "reference" / "moa" / "Llama-3.2-1B-Instruct_moa_alpha_beta.json";
  const auto model = export_data() / "models" / "Llama-3.2-1B-Instruct";
  REQUIRE(cli("import --format moa " + quoted(file) + " --model " + quoted(model) + " --out " + quoted(out / "moa.plan")).exit_code == 0);
  const Result r = cli("export --format moa --plan " + quoted(out / "moa.plan") + " --model " + quoted(model) +
                       " --out " + quoted(out / "again.json"));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(attnscope::exports::read_text_file(out / "again.json") == attnscope::exports::read_text_file(file));
}

TEST_CASE("import names the file when what it holds is refused", "[cli][export]") {
  TempDir out;
  const auto published = export_data() / "reference" / "moa" / "Llama-3.2-1B-Instruct_moa_alpha_beta.json";
  const auto model = export_data() / "models" / "Llama-3.2-1B-Instruct";
  auto doc = nlohmann::json::parse(attnscope::exports::read_text_file(published));
  doc["alphas"][0][0] = 10.0;  // beta 0: no window past MoA's 64-token sink
  doc["betas"][0][0] = 0.0;
  const auto file = out / "bad_moa.json";
  std::ofstream(file) << doc.dump();
  const Result r = cli("import --format moa " + quoted(file) + " --model " + quoted(model));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains(file.string() + ": MoA plan: layer 0 head 0: alpha 10.0 with beta 0"));
}

TEST_CASE("MoA rules from one run need prompts of two lengths", "[cli][export]") {
  TempDir dir;
  REQUIRE(cli("profile --threads 1 --lengths 256 --depths 50 --metrics span_90 --db " + quoted(dir / "one.db")).exit_code == 0);
  const Result r = cli("export --format moa --run 1 --db " + quoted(dir / "one.db") + " --out " + quoted(dir / "m.json"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("at one length (") && Contains("two or more"));
}

TEST_CASE("export and import refuse usage mistakes with exit code 2", "[cli][export]") {
  CHECK(cli("export --run 1 --out x").exit_code == 2);                                  // no --format
  CHECK_THAT(cli("export --format duo --run 1 --run 2 --out x").out, Contains("only for --format moa"));
  CHECK_THAT(cli("export --format duo --out x").out, Contains("give --run ID"));
  CHECK_THAT(cli("export --format xml --run 1 --out x").out, Contains("'xml' is not one of"));
  CHECK_THAT(cli("export --format razor --plan p.json --model m --out x").out, Contains("--format razor exports a profile run"));
  CHECK(cli("import --format moa --model m").exit_code == 2);                            // no FILE
  CHECK_THAT(cli("import --format moa f.json").out, Contains("--model DIR is needed"));
}

TEST_CASE("A plan imported from an exported RazorAttention file runs in the mask lab", "[cli][export]") {
  TempDir out;
  REQUIRE(cli(export_args("razor", out / "razor.json")).exit_code == 0);
  REQUIRE(cli("import --format razor " + quoted(out / "razor.json") + " --model " + quoted(sample_model()) + " --out " +
              quoted(out / "razor.plan")).exit_code == 0);
  const nlohmann::json j = json_of(cli("masks eval --plan " + quoted(out / "razor.plan") +
                                       " --task needle --length 256 --no-store --threads 1 --json"));
  CHECK(j["density"].get<double>() > 0.0);
  CHECK(j["density"].get<double>() <= 1.0);
  CHECK(j["recall"].get<double>() > 0.0);
}
