// attnscope-cli end to end: exit codes, JSON shapes and error messages.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analysis/capture/capture_file.h"
#include "tests/cli/cli_runner.h"

namespace {

using attnscope::testing::cli::json_of;
using attnscope::testing::cli::Result;

// Runs the CLI with `args` (already shell-quoted by the caller where needed).
Result cli(const std::string& args, bool merge_stderr = true) {
  return attnscope::testing::cli::run_cli(args, merge_stderr);
}

// The tiny random Llama (2 layers x 4 query heads, context 256) keeps these tests fast and
// independent of which model is the bundled default.
std::string tiny_model() { return std::string("'") + ATTNSCOPE_SAMPLE_DATA_DIR + "/tiny-random-llama'"; }
const std::string kTiny = "--model " + tiny_model() + " ";

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("attnscope-cli-test-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace

TEST_CASE("run --json prints ids, continuation and one entry per layer and head", "[cli]") {
  const auto j = json_of(cli("run " + kTiny + "--prompt 'The pass key is 71432.' --generate 4 --no-stop-at-eos --json", false));
  REQUIRE(j["ids"].size() > 3);
  REQUIRE(j["continuation_ids"].size() == 4);
  REQUIRE(j["continuation"].is_string());
  REQUIRE(j["heads"].size() == 2 * 4);
  for (const auto& h : j["heads"]) {
    REQUIRE(h.contains("layer"));
    REQUIRE(h.contains("head"));
    // Prompt rows plus the decode rows of all generated tokens but the last.
    REQUIRE(h["rows"] == j["ids"].size() + 3);
    REQUIRE(h["entropy"].is_number());
    REQUIRE(h["sink_mass"].get<double>() >= 0.0);
    REQUIRE(h["sink_mass"].get<double>() <= 1.0 + 1e-9);
  }
}

TEST_CASE("run without --model uses the bundled sample model", "[cli]") {
  const auto inspected = json_of(cli("inspect --json", false));
  const auto j = json_of(cli("run --prompt 'hello' --json", false));
  REQUIRE(j["heads"].size() == inspected["num_layers"].get<size_t>() * inspected["num_heads"].get<size_t>());
}

TEST_CASE("run restricted to some layers and heads captures exactly those", "[cli]") {
  const auto j = json_of(cli("run " + kTiny + "--prompt 'hello world, hello world' --layers 1 --heads 0,2-3 --json", false));
  REQUIRE(j["heads"].size() == 3);
  for (const auto& h : j["heads"]) REQUIRE(h["layer"] == 1);
  REQUIRE(j["heads"][0]["head"] == 0);
  REQUIRE(j["heads"][1]["head"] == 2);
  REQUIRE(j["heads"][2]["head"] == 3);
}

TEST_CASE("run prints a table with a row per head", "[cli]") {
  const Result r = cli("run " + kTiny + "--prompt 'one two three four five six seven' --generate 2 --no-stop-at-eos");
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.out, Catch::Contains("layer head"));
  REQUIRE_THAT(r.out, Catch::Contains("continuation (2 tokens)"));
}

TEST_CASE("tokenize --json prints ids and token strings", "[cli]") {
  const auto j = json_of(cli("tokenize " + kTiny + "--text 'def main():' --json", false));
  REQUIRE(j["ids"].size() == j["tokens"].size());
  REQUIRE(!j["ids"].empty());
  // The same ids through --tokenizer FILE and a text file.
  const auto text = temp_file("tokenize.txt", "def main():");
  const auto k = json_of(cli("tokenize --tokenizer " + std::string(ATTNSCOPE_SAMPLE_DATA_DIR) +
                             "/tiny-random-llama/tokenizer.json --text-file '" + text.string() + "' --json", false));
  REQUIRE(k["ids"] == j["ids"]);
}

TEST_CASE("an unreadable prompt file is an error naming the file", "[cli]") {
  const Result r = cli("run " + kTiny + "--prompt-file /nonexistent/prompt.txt");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.out, Catch::Contains("/nonexistent/prompt.txt"));
}

TEST_CASE("an empty prompt is an error", "[cli]") {
  const auto path = temp_file("empty.txt", "");
  const Result r = cli("run " + kTiny + "--prompt-file '" + path.string() + "'");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.out, Catch::Contains("empty"));
}

TEST_CASE("a prompt longer than the model's context is an error", "[cli]") {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word" + std::to_string(i) + " ";
  const auto path = temp_file("long.txt", text);
  const Result r = cli("run " + kTiny + "--prompt-file '" + path.string() + "'");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.out, Catch::Contains("context of 256 tokens"));
}

TEST_CASE("a model directory without config.json is an error naming it", "[cli]") {
  const Result r = cli("inspect --model /nonexistent/model-dir");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.out, Catch::Contains("/nonexistent/model-dir"));
}

TEST_CASE("a truncated checkpoint is an error naming the file, not a crash", "[cli]") {
  const auto dir = std::filesystem::temp_directory_path() / "attnscope-cli-test-truncated";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(std::string(ATTNSCOPE_SAMPLE_DATA_DIR) + "/tiny-random-llama", dir);
  const auto weights = dir / "model.safetensors";
  std::filesystem::resize_file(weights, std::filesystem::file_size(weights) / 2);
  for (const std::string command : {"inspect", "run --prompt hello"}) {
    const Result r = cli(command + " --model '" + dir.string() + "'");
    INFO(command << ": " << r.out);
    REQUIRE(r.exit_code == 1);
    REQUIRE_THAT(r.out, Catch::Contains("model.safetensors"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("unknown options and commands are usage errors", "[cli]") {
  REQUIRE(cli("run --prompt x --no-such-option").exit_code == 2);
  REQUIRE(cli("frobnicate").exit_code == 2);
  REQUIRE(cli("run --prompt").exit_code == 2);
  const Result r = cli("run " + kTiny + "--layers 7 --prompt 'a b c'");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.out, Catch::Contains("--layers"));
}

TEST_CASE("COMMAND --help prints that command's usage; --version the version", "[cli]") {
  const Result run = cli("run --help", false);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("  run      [--model DIR]") && Catch::Contains("--no-stop-at-eos"));
  CHECK_THAT(run.out, !Catch::Contains("  runs     list") && !Catch::Contains("  inspect"));
  const Result masks = cli("masks sweep -h", false);
  CHECK(masks.exit_code == 0);
  CHECK_THAT(masks.out, Catch::Contains("sweep --method NAME") && !Catch::Contains("  export"));
  CHECK(cli("frobnicate --help").exit_code == 2);  // still an unknown command
  CHECK_THAT(cli("--version", false).out, Catch::StartsWith("attnscope-cli "));
  // Free text that happens to read --help is text, not a request for help.
  const Result text = cli("tokenize " + kTiny + "--json --text --help", false);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("{"));
}

TEST_CASE("inspect prints architecture, parameters and memory", "[cli]") {
  const auto j = json_of(cli("inspect " + kTiny + "--context 128 --json", false));
  REQUIRE(j["architecture"] == "LlamaForCausalLM");
  REQUIRE(j["num_layers"] == 2);
  REQUIRE(j["num_heads"] == 4);
  REQUIRE(j["num_kv_heads"] == 1);
  REQUIRE(j["stored_dtype"] == "BF16");
  // vocab 512 x hidden 64 (tied) + 2 layers x (q 64x64, k and v 64x16, o 64x64,
  // MLP 3 x 64x128, 2 norms of 64) + final norm 64.
  const int64_t per_layer = 64 * 64 * 2 + 64 * 16 * 2 + 3 * 64 * 128 + 2 * 64;
  REQUIRE(j["parameters"].get<int64_t>() == 512 * 64 + 2 * per_layer + 64);
  // KV cache: 2 (k, v) x 2 layers x 1 KV head x 16 x 128 tokens x 4 bytes.
  REQUIRE(j["memory"]["kv_cache_bytes"] == 2 * 2 * 16 * 128 * 4);
  REQUIRE(j["memory_bf16"]["kv_cache_bytes"] == 2 * 2 * 16 * 128 * 2);
  REQUIRE(j["memory"]["total_bytes"].get<int64_t>() > j["memory"]["weights_bytes"].get<int64_t>());
  const Result text = cli("inspect " + kTiny);
  REQUIRE(text.exit_code == 0);
  REQUIRE_THAT(text.out, Catch::Contains("LlamaForCausalLM") && Catch::Contains("total"));
}

TEST_CASE("run --save-capture writes a capture file with every head and the ids", "[cli]") {
  const auto path = std::filesystem::temp_directory_path() / "attnscope-cli-test-capture.safetensors";
  std::filesystem::remove(path);
  const auto j = json_of(cli("run " + kTiny + "--prompt 'abc abc abc' --generate 2 --no-stop-at-eos --layers 0 "
                             "--save-capture '" + path.string() + "' --json", false));
  const auto file = attnscope::capture::load_capture(path);
  REQUIRE(file.heads.size() == 4);
  REQUIRE(file.prompt_ids == j["ids"].get<std::vector<int32_t>>());
  REQUIRE(file.continuation_ids == j["continuation_ids"].get<std::vector<int32_t>>());
  for (const auto& head : file.heads) {
    REQUIRE(head.layer == 0);
    REQUIRE(head.rows == int64_t(file.prompt_ids.size()) + 1);
    // Exact maps are kept when saving (the context is below the default limit).
    REQUIRE(head.exact_rows == head.rows);
  }
  std::filesystem::remove(path);
}

TEST_CASE("--device picks the backend; cuda without a usable GPU says why", "[cli]") {
  const Result unknown = cli("run " + kTiny + "--prompt hello --device tpu");
  REQUIRE(unknown.exit_code == 1);
  REQUIRE_THAT(unknown.out, Catch::Contains("'tpu' is not a device"));
  const auto cpu = json_of(cli("run " + kTiny + "--prompt hello --device cpu --json", false));
  REQUIRE(cpu["heads"].size() == 8);
  const Result cuda = cli("run " + kTiny + "--prompt hello --device cuda");
  if (cuda.exit_code == 0) {
    // A GPU: the same run in bf16, with its table of every head.
    REQUIRE_THAT(cuda.out, Catch::Contains("attention per head"));
  } else {
    INFO(cuda.out);
    REQUIRE(cuda.exit_code == 1);
    REQUIRE_THAT(cuda.out, Catch::Contains("--device cuda"));
  }
}
