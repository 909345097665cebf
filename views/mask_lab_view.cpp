#include "views/mask_lab_view.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "analysis/masks/mask_sweep.h"
#include "analysis/masks/method_budgets.h"
#include "kernels/error.h"
#include "views/mask_budget_editor.h"
#include "views/mask_curves_view.h"

namespace attnscope::views {
namespace {

constexpr const char* kDefaultDensities = "0.05,0.1,0.2,0.3,0.5";

QString number(double v, int decimals) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : "n/a"; }

}  // namespace

masks::HeadMask head_mask_of(std::string_view family, double density, std::string_view parameters) {
  masks::PlanChoice choice;
  choice.method = std::string(family);
  choice.density = density;
  choice.params = parameter_settings(QString::fromUtf8(parameters.data(), int(parameters.size())));
  return masks::family_mask(choice, "mask lab");
}

std::vector<std::string> curve_family_names() {
  std::vector<std::string> out;
  for (std::string_view name : masks::method_names())
    if (name != "dense") out.emplace_back(name);
  return out;
}

std::vector<std::string> default_curve_families() { return {"streaming", "vertical_slash", "block_topk", "topk"}; }

std::vector<std::string> plan_method_names() {
  std::vector<std::string> out = curve_family_names();
  for (const masks::MethodBudget& m : masks::method_budgets())
    if (m.per_head_plan) out.emplace_back(m.method);
  return out;
}

std::vector<std::string> head_method_names() {
  std::vector<std::string> out;
  for (std::string_view name : masks::method_names()) out.emplace_back(name);
  return out;
}

MaskLabView::MaskLabView(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(4, 4, 4, 4);
  auto* top = new QWidget(this);
  auto* layout = new QVBoxLayout(top);
  layout->setContentsMargins(0, 0, 0, 0);

  from_family_ = new QRadioButton(tr("Method and budget"), top);
  from_family_->setChecked(true);
  layout->addWidget(from_family_);
  method_ = new MaskBudgetEditor(plan_method_names(), top);
  method_->setObjectName("maskMethod");
  method_->setMethod("streaming");
  layout->addWidget(method_);
  auto* file_row = new QHBoxLayout;
  from_file_ = new QRadioButton(tr("Plan file"), top);
  file_label_ = new QLabel(tr("no plan file loaded"), top);
  file_label_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  auto* load = new QPushButton(tr("Load..."), top);
  file_row->addWidget(from_file_);
  file_row->addWidget(file_label_, 1);
  file_row->addWidget(load);
  layout->addLayout(file_row);

  head_group_ = new QGroupBox(tr("Selected head"), top);
  head_group_->setObjectName("maskHeadGroup");
  auto* head_layout = new QVBoxLayout(head_group_);
  head_label_ = new QLabel(tr("Click a head in the overview to give it a mask of its own."), head_group_);
  head_label_->setObjectName("maskHeadLabel");
  head_label_->setWordWrap(true);
  head_layout->addWidget(head_label_);
  auto* own_row = new QHBoxLayout;
  own_mask_ = new QCheckBox(tr("Own mask"), head_group_);
  own_mask_->setObjectName("maskOwnMask");
  own_mask_->setToolTip(tr("This head takes the mask below instead of the plan's (saved with the plan)"));
  heads_count_ = new QLabel(head_group_);
  clear_heads_ = new QPushButton(tr("Clear all"), head_group_);
  clear_heads_->setToolTip(tr("Every head back to the plan's mask"));
  own_row->addWidget(own_mask_);
  own_row->addWidget(heads_count_, 1);
  own_row->addWidget(clear_heads_);
  head_layout->addLayout(own_row);
  head_editor_ = new MaskBudgetEditor(head_method_names(), head_group_);
  head_editor_->setObjectName("maskHeadEditor");
  head_editor_->setVisible(false);
  head_layout->addWidget(head_editor_);
  layout->addWidget(head_group_);

  auto* actions = new QHBoxLayout;
  live_ = new QCheckBox(tr("Live"), top);
  live_->setChecked(true);
  live_->setToolTip(tr("Evaluate as the controls move (the latest request wins)"));
  draw_ = new QCheckBox(tr("Draw on map"), top);
  draw_->setChecked(true);
  evaluate_ = new QPushButton(tr("Evaluate"), top);
  evaluate_->setObjectName("maskEvaluate");
  save_ = new QPushButton(tr("Save plan..."), top);
  actions->addWidget(live_);
  actions->addWidget(draw_);
  actions->addStretch(1);
  actions->addWidget(evaluate_);
  actions->addWidget(save_);
  layout->addLayout(actions);

  heads_result_ = new QLabel(top);
  heads_result_->setObjectName("maskHeadsResult");
  heads_result_->setWordWrap(true);
  e2e_result_ = new QLabel(top);
  e2e_result_->setObjectName("maskEndToEnd");
  e2e_result_->setWordWrap(true);
  status_ = new QLabel(top);
  status_->setWordWrap(true);
  layout->addWidget(heads_result_);
  layout->addWidget(e2e_result_);
  layout->addWidget(status_);

  auto* bottom = new QGroupBox(tr("Error against density"), this);
  auto* curves_layout = new QVBoxLayout(bottom);
  auto* boxes = new QGridLayout;
  const auto names = curve_family_names();
  const auto checked = default_curve_families();
  for (size_t i = 0; i < names.size(); ++i) {
    auto* box = new QCheckBox(QString::fromStdString(names[i]), bottom);
    box->setChecked(std::find(checked.begin(), checked.end(), names[i]) != checked.end());
    curve_boxes_.push_back(box);
    boxes->addWidget(box, int(i / 3), int(i % 3));
  }
  curves_layout->addLayout(boxes);
  auto* sweep = new QHBoxLayout;
  sweep->addWidget(new QLabel(tr("Densities"), bottom));
  curve_densities_ = new QLineEdit(kDefaultDensities, bottom);
  curve_densities_->setObjectName("curveDensities");
  sweep->addWidget(curve_densities_, 1);
  curves_button_ = new QPushButton(tr("Compute curves"), bottom);
  curves_button_->setObjectName("computeCurves");
  sweep->addWidget(curves_button_);
  curve_progress_ = new QProgressBar(bottom);
  curve_progress_->setMaximumWidth(120);
  curve_progress_->setVisible(false);
  sweep->addWidget(curve_progress_);
  curves_layout->addLayout(sweep);
  curves_ = new MaskCurvesView(bottom);
  curves_->setObjectName("maskCurves");
  curves_->setMinimumHeight(280);  // a tall panel scrolls rather than squeezing the axes
  curves_layout->addWidget(curves_, 1);
  outer->addWidget(top);
  outer->addWidget(bottom, 1);

  connect(method_, &MaskBudgetEditor::changed, this, [this] { rebuildPlan(); });
  connect(from_family_, &QRadioButton::toggled, this, [this] { rebuildPlan(); });
  connect(own_mask_, &QCheckBox::toggled, this, &MaskLabView::ownMaskToggled);
  connect(head_editor_, &MaskBudgetEditor::changed, this, &MaskLabView::headEditorChanged);
  connect(clear_heads_, &QPushButton::clicked, this, &MaskLabView::clearHeadMasks);
  connect(load, &QPushButton::clicked, this, &MaskLabView::loadPlanRequested);
  connect(evaluate_, &QPushButton::clicked, this, &MaskLabView::evaluateRequested);
  connect(save_, &QPushButton::clicked, this, &MaskLabView::savePlanRequested);
  connect(draw_, &QCheckBox::toggled, this, &MaskLabView::drawOnMapChanged);
  connect(curves_button_, &QPushButton::clicked, this, &MaskLabView::curvesRequested);
  setRunAvailable(false);
  rebuildPlan();
}

void MaskLabView::setShape(int layers, int heads) {
  if (layers != layers_ || heads != heads_) {
    head_masks_.clear();
    selected_.reset();
  }
  layers_ = layers;
  heads_ = heads;
  if (file_plan_ && (file_plan_->num_layers() != layers || file_plan_->num_heads() != heads)) {
    file_plan_.reset();
    file_label_->setText(tr("no plan file loaded"));
    from_family_->setChecked(true);
  }
  rebuildPlan();
}

void MaskLabView::setRunAvailable(bool available) {
  run_available_ = available;
  evaluate_->setEnabled(available && (plan_ != nullptr || per_head_choice_));
  curves_button_->setEnabled(available);
  if (!available) {
    heads_result_->setText(tr("Run a prompt: the mask lab evaluates on its tokens."));
    e2e_result_->clear();
  }
}

void MaskLabView::setSequenceLength(int64_t tokens) {
  method_->setSequenceLength(tokens);
  head_editor_->setSequenceLength(tokens);
}

bool MaskLabView::usesPlanFile() const { return from_file_->isChecked(); }

void MaskLabView::setLoadedPlan(std::shared_ptr<const masks::MaskPlan> plan, const QString& path) {
  file_plan_ = std::move(plan);
  file_label_->setText(QFileInfo(path).fileName());
  file_label_->setToolTip(path);
  if (from_file_->isChecked())
    rebuildPlan();
  else
    from_file_->setChecked(true);  // rebuilds through the toggle
}

void MaskLabView::setBuiltPlan(const masks::PlanChoice& choice, std::shared_ptr<const masks::MaskPlan> plan) {
  if (!per_head_choice_ || !(*per_head_choice_ == choice) || !plan) return;
  built_.emplace(choice, plan);
  plan_ = std::move(plan);
  save_->setEnabled(true);
  status_->clear();
  showSelectedHead();
}

void MaskLabView::rebuildPlan() {
  const bool file = from_file_->isChecked();
  method_->setEnabled(!file);
  std::shared_ptr<const masks::MaskPlan> plan;
  per_head_choice_.reset();
  status_->clear();
  try {
    masks::PlanChoice heads;
    for (const auto& [at, mask] : head_masks_) heads.head_masks.push_back({{at.first, at.second}, mask});
    if (file) {
      if (file_plan_) {
        auto built = std::make_shared<masks::MaskPlan>(*file_plan_);
        masks::apply_head_masks(*built, heads, "mask lab");
        plan = built;
      } else {
        status_->setText(tr("Load a plan file (docs/mask-plans.md)."));
      }
    } else if (layers_ > 0 && heads_ > 0) {
      masks::PlanChoice choice = method_->choice();
      choice.head_masks = heads.head_masks;
      if (masks::is_per_head_plan(choice.method)) {
        per_head_choice_ = choice;
        if (built_ && built_->first == choice)
          plan = built_->second;
        else
          status_->setText(tr("%1 is built from every recorded head of the run when it is evaluated.")
                               .arg(QString::fromStdString(choice.method)));
      } else {
        const masks::HeadMask mask = masks::family_mask(choice, "mask lab");
        auto built = std::make_shared<masks::MaskPlan>(layers_, heads_, mask);
        built->name = masks::describe(mask);
        masks::apply_head_masks(*built, choice, "mask lab");
        plan = built;
      }
    }
  } catch (const Error& e) {
    status_->setText(QString::fromStdString(e.what()));
    per_head_choice_.reset();
  }
  plan_ = plan;
  evaluate_->setEnabled(run_available_ && (plan_ != nullptr || per_head_choice_));
  save_->setEnabled(plan_ != nullptr);
  showSelectedHead();
  if (plan_ || per_head_choice_) emit planChanged();
}

QString MaskLabView::family() const { return method_->method(); }
void MaskLabView::setFamily(const QString& name) { method_->setMethod(name); }
double MaskLabView::density() const { return method_->density(); }
void MaskLabView::setDensity(double density) {
  method_->setDensity(density);
  method_->setDensityMode(true);
}
QString MaskLabView::parameters() const { return method_->settings(); }
void MaskLabView::setParameters(const QString& text) { method_->setSettings(text); }
bool MaskLabView::live() const { return live_->isChecked(); }
void MaskLabView::setLive(bool live) { live_->setChecked(live); }
bool MaskLabView::drawOnMap() const { return draw_->isChecked(); }
void MaskLabView::setDrawOnMap(bool draw) { draw_->setChecked(draw); }

void MaskLabView::showEvaluation(const masks::PlanSummary& s, double seconds) {
  heads_result_->setText(tr("<b>%1</b>: density %2, recall %3 (worst row %4), output error %5 "
                            "(relative L2, mean over heads); %6 s")
                             .arg(plan_ && !plan_->name.empty() ? QString::fromStdString(plan_->name).toHtmlEscaped()
                                                                : tr("plan"))
                             .arg(number(s.density, 3), number(s.recall, 4), number(s.min_recall, 3),
                                  number(s.output_rel_l2, 4), number(seconds, 2)));
  e2e_result_->setText(tr("End to end: computing..."));
  status_->clear();
}

void MaskLabView::showEndToEnd(const masks::EndToEnd& e) {
  e2e_result_->setText(tr("End to end over %1 positions: KL mean %2, p95 %3, max %4 nats; top-1 agreement %5 %; "
                          "perplexity %6 -> %7")
                           .arg(e.positions)
                           .arg(number(e.kl_mean, 5), number(e.kl_p95, 5), number(e.kl_max, 4),
                                number(100 * e.top1_agreement, 1), number(e.ppl_full, 2), number(e.ppl_sparse, 2)));
}

void MaskLabView::showBusy(const QString& what) { status_->setText(what); }

void MaskLabView::showError(const QString& message) {
  status_->setText(message);
  curve_progress_->setVisible(false);
}

std::vector<masks::HeadMask> MaskLabView::curveFamilies() const {
  std::vector<masks::HeadMask> out;
  for (QCheckBox* box : curve_boxes_)
    if (box->isChecked()) out.push_back({masks::default_family(box->text().toStdString(), "curves"), std::nullopt});
  if (out.empty()) throw Error("curves", "check at least one family");
  return out;
}

std::vector<double> MaskLabView::curveDensities() const {
  try {
    return masks::parse_densities(curve_densities_->text().remove(' ').toStdString());
  } catch (const Error& e) {
    throw Error("curve densities", e.problem());
  }
}

void MaskLabView::setCurveFamilies(const QStringList& names) {
  for (QCheckBox* box : curve_boxes_) box->setChecked(names.contains(box->text()));
}

QStringList MaskLabView::checkedCurveFamilies() const {
  QStringList out;
  for (QCheckBox* box : curve_boxes_)
    if (box->isChecked()) out << box->text();
  return out;
}

void MaskLabView::setCurveProgress(int done, int total) {
  curve_progress_->setVisible(done < total);
  curve_progress_->setRange(0, total);
  curve_progress_->setValue(done);
}

}  // namespace attnscope::views
