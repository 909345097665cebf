// The mask lab's budget sliders: one per budget parameter of the engine's table, the plan
// they give equal to the plan of the same --param values, ranges that follow the prompt,
// density or own budget, and the heads with masks of their own.
#include <catch2/catch.hpp>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QSlider>

#include "analysis/masks/method_budgets.h"
#include "analysis/masks/plan_choice.h"
#include "kernels/error.h"
#include "views/mask_budget_editor.h"
#include "views/mask_lab_view.h"

using namespace attnscope;
using namespace attnscope::views;

namespace {

model::ModelSpec spec_8x8() {
  model::ModelSpec spec;
  spec.num_layers = 8;
  spec.num_heads = 8;
  spec.num_kv_heads = 2;
  spec.head_dim = 32;
  spec.max_position_embeddings = 2048;
  return spec;
}

// The plan the CLI's masks eval builds for --method, --density and --param (a family needs
// no recorded heads).
masks::MaskPlan cli_plan(const std::string& method, std::optional<double> density, std::vector<std::string> params) {
  masks::PlanChoice choice;
  choice.method = method;
  choice.density = density;
  choice.params = std::move(params);
  return masks::build_plan(choice, masks::MaskLab(std::vector<masks::RecordedHead>{}), spec_8x8(), "--method");
}

QSlider* slider(QWidget& view, const QString& name) {
  auto* s = view.findChild<QSlider*>("budget:" + name);
  REQUIRE(s);
  return s;
}

std::string setting(const MaskBudgetEditor& e, std::string_view name) {
  return masks::budget_setting(*masks::method_budget(e.method().toStdString(), "test").find(name), e.value(name));
}

}  // namespace

TEST_CASE("each budget parameter of the chosen method gets its own control", "[gui][masks]") {
  MaskBudgetEditor editor(plan_method_names());
  editor.setMethod("snapkv");
  for (const char* name : {"observation_window", "capacity", "kernel"})
    REQUIRE(editor.findChild<QSlider*>(QString("budget:") + name));
  REQUIRE_FALSE(editor.findChild<QSlider*>("budget:window"));
  editor.setMethod("block_topk");
  REQUIRE(editor.findChild<QComboBox*>("budget:block_size"));  // a choice of 64 or 128
  REQUIRE(editor.findChild<QSlider*>("budget:blocks"));
  REQUIRE_FALSE(editor.findChild<QSlider*>("budget:capacity"));  // the previous method's are gone
}

TEST_CASE("moving the sliders gives the plan that the same --param values give", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  view.setSequenceLength(1900);
  MaskBudgetEditor& e = *view.methodEditor();
  e.setMethod("streaming");
  e.setDensityMode(false);
  slider(view, "sink_tokens")->setValue(300);
  slider(view, "window")->setValue(700);
  const masks::BudgetParameter& window = *masks::method_budget("streaming", "test").find("window");
  REQUIRE(e.value("window") == masks::budget_at_position(window, {1, 1900}, 0.7));  // exactly: the same function
  REQUIRE(view.plan());
  REQUIRE(*view.plan() == cli_plan("streaming", std::nullopt, {setting(e, "sink_tokens"), setting(e, "window")}));
}

TEST_CASE("in density mode the density replaces the main knob and the other sliders still count", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  view.setSequenceLength(1900);
  view.setFamily("snapkv");
  view.setDensity(0.15);
  REQUIRE_FALSE(slider(view, "capacity")->isVisibleTo(&view));  // the density sets it per head
  slider(view, "kernel")->setValue(500);
  slider(view, "observation_window")->setValue(400);
  const MaskBudgetEditor& e = *view.methodEditor();
  REQUIRE(int64_t(e.value("kernel")) % 2 == 1);  // pooling kernels are odd
  REQUIRE(view.plan());
  REQUIRE(*view.plan() == cli_plan("snapkv", 0.15, {setting(e, "observation_window"), setting(e, "kernel")}));
}

TEST_CASE("a family's share budget and a block size choice give the same plan as --param", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  view.setFamily("block_threshold");
  MaskBudgetEditor& e = *view.methodEditor();
  e.setDensityMode(false);
  view.findChild<QComboBox*>("budget:block_size")->setCurrentText("128");
  slider(view, "mass")->setValue(950);
  REQUIRE(e.value("block_size") == 128);
  REQUIRE(*view.plan() == cli_plan("block_threshold", std::nullopt, {"block_size=128", setting(e, "mass")}));
}

TEST_CASE("slider ranges follow the prompt's length", "[gui][masks]") {
  MaskBudgetEditor e(plan_method_names());
  e.setMethod("topk");
  e.setDensityMode(false);
  e.setSequenceLength(500);
  REQUIRE(e.range("keys") == masks::BudgetRange{1, 500});
  slider(e, "keys")->setValue(MaskBudgetEditor::kSliderSteps);
  REQUIRE(e.value("keys") == 500);
  e.setSequenceLength(1900);
  REQUIRE(e.range("keys") == masks::BudgetRange{1, 1900});
  REQUIRE(e.value("keys") == 500);  // the value stays; the slider moves under it
  REQUIRE(slider(e, "keys")->value() < MaskBudgetEditor::kSliderSteps);
  e.setMethod("block_topk");
  e.setValue("block_size", 128);
  REQUIRE(e.range("blocks") == masks::BudgetRange{2, 15});  // ceil(1900 / 128)
}

TEST_CASE("a budget typed beyond the prompt is kept with its slider at the end", "[gui][masks]") {
  MaskBudgetEditor e(plan_method_names());
  e.setMethod("window");
  e.setDensityMode(false);
  e.setSequenceLength(300);
  REQUIRE(e.value("window") == 1024);  // the family's default, as the CLI has it
  REQUIRE(slider(e, "window")->value() == MaskBudgetEditor::kSliderSteps);
  e.findChild<QDoubleSpinBox*>("budgetValue:window")->setValue(4000);
  REQUIRE(e.value("window") == 4000);
}

TEST_CASE("a parameter with a slider is refused as --param text", "[gui][masks]") {
  MaskLabView view;
  view.setShape(2, 2);
  view.setFamily("streaming");
  view.methodEditor()->setOtherParameters("window=5");
  REQUIRE_FALSE(view.plan());
  REQUIRE_THROWS_WITH(view.methodEditor()->choice(), Catch::Contains("'window' has its slider"));
  view.methodEditor()->setOtherParameters("");
  REQUIRE(view.plan());
}

TEST_CASE("the settings text brings back the method's sliders, mode and other parameters", "[gui][masks]") {
  MaskBudgetEditor a(plan_method_names()), b(plan_method_names());
  a.setMethod("vertical_slash");
  a.setDensityMode(false);
  a.setValue("vertical", 200);
  a.setOtherParameters("last_queries=32");
  b.setMethod("vertical_slash");
  b.setSettings(a.settings());
  REQUIRE(b.choice() == a.choice());
  REQUIRE_FALSE(b.densityMode());
  a.setDensityMode(true);
  b.setSettings(a.settings());
  REQUIRE(b.densityMode());
  REQUIRE(b.choice() == a.choice());
}

TEST_CASE("a per-head plan method gives its choice for the worker, then holds the plan built for it", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  QSignalSpy changed(&view, &MaskLabView::planChanged);
  view.setFamily("duo");
  view.methodEditor()->setDensityMode(false);
  REQUIRE_FALSE(view.plan());
  REQUIRE(view.perHeadChoice());
  const masks::PlanChoice choice = *view.perHeadChoice();
  REQUIRE(choice.params == std::vector<std::string>{"sink_tokens=64", "window=256", "sparsity=0.5"});
  REQUIRE_FALSE(choice.density);
  REQUIRE(changed.size() >= 1);
  auto built = std::make_shared<masks::MaskPlan>(8, 8, masks::HeadMask{masks::DenseMask{}, std::nullopt});
  view.setBuiltPlan(choice, built);
  REQUIRE(view.plan() == built);
  view.methodEditor()->setValue("sparsity", 0.25);
  REQUIRE_FALSE(view.plan());  // built for the choice before
  view.setBuiltPlan(choice, built);
  REQUIRE_FALSE(view.plan());
}

TEST_CASE("a head given its own mask keeps it over the plan's and the plan file lists it", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  view.setFamily("streaming");
  view.setDensity(0.3);
  view.setSelectedHead(7, 2);
  view.findChild<QCheckBox*>("maskOwnMask")->setChecked(true);
  REQUIRE(view.plan()->at({7, 2}) == view.plan()->at({0, 0}));  // it starts from the plan's mask
  view.headEditor()->setMethod("dense");
  REQUIRE(std::holds_alternative<masks::DenseMask>(view.plan()->at({7, 2}).family));
  REQUIRE(std::holds_alternative<masks::StreamingMask>(view.plan()->at({7, 3}).family));
  REQUIRE(view.headsWithOwnMasks() == std::vector<GridCell>{{7, 2}});
  const nlohmann::json file = masks::plan_to_json(*view.plan());
  REQUIRE(file["heads"].size() == 1);
  REQUIRE(file["heads"][0]["layer"] == 7);
  REQUIRE(file["heads"][0]["method"] == "dense");
  // Moving the plan's slider leaves the head's own mask alone.
  view.setDensity(0.5);
  REQUIRE(std::holds_alternative<masks::DenseMask>(view.plan()->at({7, 2}).family));
  view.findChild<QCheckBox*>("maskOwnMask")->setChecked(false);
  REQUIRE(view.headsWithOwnMasks().empty());
  REQUIRE(std::holds_alternative<masks::StreamingMask>(view.plan()->at({7, 2}).family));
}

TEST_CASE("a head's own budget slider changes only that head", "[gui][masks]") {
  MaskLabView view;
  view.setShape(4, 4);
  view.setSequenceLength(800);
  view.setSelectedHead(1, 3);
  view.setHeadMask(1, 3, {masks::TopKMask{}, std::nullopt});
  MaskBudgetEditor& head = *view.headEditor();
  REQUIRE(head.method() == "topk");
  REQUIRE_FALSE(head.densityMode());
  head.findChild<QSlider*>("budget:keys")->setValue(MaskBudgetEditor::kSliderSteps);
  REQUIRE(std::get<masks::TopKMask>(view.plan()->at({1, 3}).family).keys == 800);
  REQUIRE(std::holds_alternative<masks::StreamingMask>(view.plan()->at({1, 2}).family));
}

TEST_CASE("heads' own masks of another model's shape are dropped", "[gui][masks]") {
  MaskLabView view;
  view.setShape(8, 8);
  view.setHeadMask(7, 7, {masks::DenseMask{}, std::nullopt});
  view.setShape(4, 4);
  REQUIRE(view.headsWithOwnMasks().empty());
  REQUIRE(view.plan());
}
