// One export from the store or a plan to a file, as the CLI and the desktop app both
// write it: the options of a format, MoA over several runs, plans of another shape and
// profile formats asked of a plan refused.
#include <catch2/catch.hpp>

#include "analysis/export/duo_attention.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_export.h"
#include "export_store_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

TEST_CASE("A DuoAttention export takes the probe's window from the run unless the options give one", "[export][store]") {
  const TinyStore s = make_tiny_store("export_duo_window");
  const std::vector<ex::StoredProfile> runs{ex::read_stored_profile(s.db, s.run, tiny_shape())};
  ex::export_profile_runs(s.db, runs, tiny_shape(), ex::ExportFormat::Duo, {}, s.dir / "duo");
  const ex::DuoPattern probe = ex::read_duo_directory(s.dir / "duo", tiny_shape());
  CHECK(probe.sink_size == 128);  // the run's streaming parameters
  CHECK(probe.recent_size == 256);
  CHECK(probe.config["kv_reduction"] == "max");
  ex::ExportOptions options;
  options.duo_sink = 64;
  options.duo_recent = 512;
  options.duo_kv_reduction = attnscope::profile::KvReduction::Mean;
  ex::export_profile_runs(s.db, runs, tiny_shape(), ex::ExportFormat::Duo, options, s.dir / "duo_mean");
  const ex::DuoPattern chosen = ex::read_duo_directory(s.dir / "duo_mean", tiny_shape());
  CHECK(chosen.sink_size == 64);
  CHECK(chosen.recent_size == 512);
  CHECK(chosen.config["kv_reduction"] == "mean");
}

TEST_CASE("An export of no run is refused", "[export][store]") {
  const TinyStore s = make_tiny_store("export_no_run");
  CHECK_THROWS_WITH(ex::export_profile_runs(s.db, {}, tiny_shape(), ex::ExportFormat::Csv, {}, s.dir / "x.csv"),
                    Contains("no run to export"));
}

TEST_CASE("A plan is written only in the formats that describe plans, and only for its model's shape", "[export]") {
  const std::filesystem::path dir = temp_dir("export_plan");
  const am::MaskPlan plan(3, 4, am::HeadMask{am::StreamingMask{64, {256, 0}}, std::nullopt});
  ex::export_plan(plan, tiny_shape(), ex::ExportFormat::Moa, dir / "moa.json", "plan.json");
  CHECK(ex::parse_moa(ex::read_text_file(dir / "moa.json"), tiny_shape(), "moa.json").alphas.size() == 3);
  CHECK(ex::describes_plans(ex::ExportFormat::Minference));
  CHECK_FALSE(ex::describes_plans(ex::ExportFormat::Razor));
  CHECK_THROWS_WITH(ex::export_plan(plan, tiny_shape(), ex::ExportFormat::Csv, dir / "x.csv", "plan.json"),
                    Contains("plan.json: plans are written as DuoAttention, MoA or MInference files"));
  const am::MaskPlan other(2, 4, am::HeadMask{am::DenseMask{}, std::nullopt});
  CHECK_THROWS_WITH(ex::export_plan(other, tiny_shape(), ex::ExportFormat::Moa, dir / "y.json", "plan.json"),
                    Contains("plan.json: the plan has 2 layers and 4 heads"));
}
