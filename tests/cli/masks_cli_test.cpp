// attnscope-cli masks eval | sweep | search on the bundled sample model: the --json keys
// the issue names, the store's evaluations, and clear errors for unknown methods and
// impossible budgets (exit 1) and usage mistakes (exit 2).
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analysis/masks/mask_plan.h"
#include "analysis/store/mask_evaluation_records.h"
#include "analysis/store/run_records.h"
#include "tests/cli/cli_runner.h"
#include "tests/unit/io/test_files.h"

namespace t = attnscope::testing;
using Catch::Contains;

namespace {

using attnscope::testing::cli::Result;

Result masks_cli(const std::string& args, bool merge_stderr = true) {
  return attnscope::testing::cli::run_cli("masks " + args, merge_stderr);
}

// A 256-token passkey prompt of the bundled prompts: a few seconds on the CPU.
const std::string kTask = "--task passkey --length 256 --generate 8 --threads 2 ";

std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";
  out += p.string();
  out += "'";
  return out;
}

}  // namespace

TEST_CASE("masks eval --json prints the issue's keys and stores the evaluation", "[cli][masks]") {
  t::TempDir dir;
  const auto db = dir / "s.db";
  const Result r = masks_cli("eval " + kTask + "--method streaming --param sink_tokens=4 --param window=32 --json --db " + quoted(db), false);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"density", "recall", "kl_mean", "kl_max", "top1_agreement", "ppl_full", "ppl_sparse", "heads"})
    CHECK(j.contains(key));
  REQUIRE(j["heads"].size() == 64);  // 8 layers x 8 heads
  for (const char* key : {"layer", "head", "density", "recall", "output_rel_l2"}) CHECK(j["heads"][0].contains(key));
  CHECK(j["density"].get<double>() < 0.3);
  CHECK(j["recall"].get<double>() < 1.0);
  const auto store = attnscope::store::Database::open(db, attnscope::store::OpenMode::ReadOnly);
  const auto runs = attnscope::store::list_runs(store);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].kind == "masks");
  const auto evaluations = attnscope::store::list_mask_evaluations(store, runs[0].id);
  REQUIRE(evaluations.size() == 1);
  CHECK(evaluations[0].recall == Approx(j["recall"].get<double>()).epsilon(1e-12));
  CHECK(evaluations[0].heads.size() == 64);
}

TEST_CASE("masks search writes a plan that masks eval reads back with the same density", "[cli][masks]") {
  t::TempDir dir;
  const auto plan = dir / "plan.json";
  const Result search = masks_cli("search " + kTask + "--target-recall 0.9 --out " + quoted(plan) + " --no-store --no-end-to-end --json", false);
  INFO(search.out);
  REQUIRE(search.exit_code == 0);
  const auto s = nlohmann::json::parse(search.out);
  CHECK(s["recall"].get<double>() >= 0.9 - 1e-6);  // every head reaches it unless no candidate does
  const Result eval = masks_cli("eval " + kTask + "--plan " + quoted(plan) + " --no-store --no-end-to-end --json", false);
  REQUIRE(eval.exit_code == 0);
  CHECK(nlohmann::json::parse(eval.out)["density"].get<double>() == Approx(s["density"].get<double>()).epsilon(1e-12));
  CHECK(attnscope::masks::read_plan_file(plan).num_layers() == 8);
}

TEST_CASE("masks sweep reports each density with the Pareto front", "[cli][masks]") {
  const Result r = masks_cli("sweep " + kTask + "--method topk --densities 0.05,0.2 --no-store --json", false);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["points"].size() == 2);
  CHECK(j["points"][0]["recall"].get<double>() < j["points"][1]["recall"].get<double>());
  CHECK(j["points"][0]["pareto"] == true);
}

TEST_CASE("An unknown method and an impossible budget are errors that say why", "[cli][masks]") {
  const Result unknown = masks_cli("eval --prompt 'a b c d' --method bigbird --no-store");
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.out, Contains("unknown method \"bigbird\"") && Contains("vertical_slash"));
  const Result budget = masks_cli("eval --prompt 'a b c d' --method topp --density 1.5 --no-store");
  CHECK(budget.exit_code == 1);
  CHECK_THAT(budget.out, Contains("--density: \"1.5\" is not a number in (0, 1]"));
  const Result param = masks_cli("eval --prompt 'a b c d' --method snapkv --param capacity=8 --no-store");
  CHECK(param.exit_code == 1);
  CHECK_THAT(param.out, Contains("capacity"));
  const Result usage = masks_cli("eval --prompt 'a b c d' --no-store");
  CHECK(usage.exit_code == 2);
  CHECK_THAT(usage.out, Contains("give --plan FILE or --method NAME"));
  const Result no_prompt = masks_cli("sweep --method streaming --densities 0.1 --no-store");
  CHECK(no_prompt.exit_code == 2);
  CHECK_THAT(no_prompt.out, Contains("--prompt TEXT, --prompt-file F or --task needle|passkey"));
}
