// The Export menu's work without its dialogs: a stored profile run in the other projects'
// formats, the mask lab's plan as a MoA file, and views as SVG and PNG.
#include <catch2/catch.hpp>

#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>

#include "analysis/export/format_text.h"
#include "app/gui/profile_export.h"
#include "app/gui/session.h"
#include "app/gui/view_export.h"
#include "kernels/error.h"
#include "views/head_grid_view.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const std::filesystem::path kModel = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";
constexpr int kWaitMs = 300000;

// A complete profile run of the sample model (needle and repeated tokens, 300 tokens,
// every metric: Razor needs the repeat task's echo and induction scores; the two prompts'
// lengths differ by a few tokens, enough for MoA's span fit) in a throwaway store, made once.
struct StoredProfileRun {
  QTemporaryDir dir;
  std::filesystem::path database = dir.filePath("store.db").toStdString();
  store::RunId run{};
  StoredProfileRun() {
    Session session(DeviceChoice::Cpu);
    QSignalSpy opened(&session, &Session::modelOpened);
    session.openModel(QString::fromStdString(kModel.string()));
    REQUIRE(opened.wait(kWaitMs));
    profile::ProfileJobSpec spec =
        task_spec(TaskChoice{profile::ProfileTask::Needle, 300, 0.5, 0, 0, 4}, kModel.parent_path() / "prompts");
    spec.tasks.push_back(profile::ProfileTask::RepeatedTokens);
    spec.lengths = {300, 600};  // MoA's span rule needs lengths at least 1.25x apart
    QSignalSpy finished(&session, &Session::profileFinished);
    session.runProfile(spec, QString::fromStdString(database.string()));
    REQUIRE(finished.wait(kWaitMs));
    run = *finished.front().front().value<std::shared_ptr<const ProfileOutcome>>()->result.run;
  }
};

StoredProfileRun& stored() {
  static StoredProfileRun r;
  return r;
}

}  // namespace

TEST_CASE("a stored run exports in every profile format", "[gui][export]") {
  QTemporaryDir out;
  for (const ProfileExportFormat& f : profile_export_formats()) {
    const std::filesystem::path path = out.filePath(QString::fromStdString(f.file_name)).toStdString();
    export_stored_run(stored().database, stored().run, f.format, path, std::nullopt);
    const std::filesystem::path file = f.format == ProfileExport::Duo ? path / "full_attention_heads.tsv" : path;
    REQUIRE(std::filesystem::file_size(file) > 0);
  }
  const std::string tsv = exports::read_text_file(out.filePath("duo_attention/full_attention_heads.tsv").toStdString());
  REQUIRE(std::count(tsv.begin(), tsv.end(), '\n') == 8);  // a row per layer of the sample model
}

TEST_CASE("the mask lab's streaming plan exports as a MoA file and not as a CSV", "[gui][export]") {
  QTemporaryDir out;
  masks::MaskPlan plan(8, 8, masks::HeadMask{masks::StreamingMask{64, {192, 0}}, std::nullopt});
  export_plan(plan, ProfileExport::Moa, kModel, out.filePath("moa.json").toStdString());
  const std::string text = exports::read_text_file(out.filePath("moa.json").toStdString());
  REQUIRE(text.find("alphas") != std::string::npos);
  REQUIRE_THROWS_AS(export_plan(plan, ProfileExport::Csv, kModel, out.filePath("x.csv").toStdString()), Error);
  masks::MaskPlan other(4, 8, masks::HeadMask{masks::StreamingMask{}, std::nullopt});
  REQUIRE_THROWS_AS(export_plan(other, ProfileExport::Moa, kModel, out.filePath("y.json").toStdString()), Error);
}

TEST_CASE("a view exports as an SVG and as a PNG of its size", "[gui][export]") {
  QTemporaryDir out;
  views::HeadGridView grid;
  grid.resize(400, 300);
  grid.clear("no run");
  export_widget(&grid, out.filePath("grid.svg"), "overview");
  QFile svg(out.filePath("grid.svg"));
  REQUIRE(svg.open(QIODevice::ReadOnly));
  REQUIRE(svg.readAll().contains("<svg"));
  export_widget(&grid, out.filePath("grid.png"), "overview");
  const QImage png(out.filePath("grid.png"));
  REQUIRE(png.width() == 400);
  REQUIRE(png.height() == 300);
  REQUIRE_THROWS_AS(export_widget(&grid, out.filePath("grid.bmp"), "overview"), Error);
}
