#include "views/mask_lab_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "analysis/masks/mask_sweep.h"
#include "kernels/error.h"
#include "views/mask_curves_view.h"

namespace attnscope::views {
namespace {

constexpr const char* kDefaultDensities = "0.05,0.1,0.2,0.3,0.5";

QString number(double v, int decimals) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : "n/a"; }

}  // namespace

masks::HeadMask head_mask_of(std::string_view family, double density, std::string_view parameters) {
  const std::string where = "mask lab, " + std::string(family);
  masks::HeadMask mask{masks::default_family(family, where), density};
  std::string text(parameters);
  std::replace(text.begin(), text.end(), ',', ' ');
  size_t at = 0;
  while (at < text.size()) {
    const size_t begin = text.find_first_not_of(" \t\n", at);
    if (begin == std::string::npos) break;
    const size_t end = std::min(text.find_first_of(" \t\n", begin), text.size());
    masks::apply_parameter(mask, std::string_view(text).substr(begin, end - begin), where);
    at = end;
  }
  masks::check_mask(mask, where);
  return mask;
}

std::vector<std::string> curve_family_names() {
  std::vector<std::string> out;
  for (std::string_view name : masks::method_names())
    if (name != "dense") out.emplace_back(name);
  return out;
}

std::vector<std::string> default_curve_families() { return {"streaming", "vertical_slash", "block_topk", "topk"}; }

MaskLabView::MaskLabView(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(4, 4, 4, 4);
  auto* top = new QWidget(this);
  auto* layout = new QVBoxLayout(top);
  layout->setContentsMargins(0, 0, 0, 0);

  auto* source = new QGridLayout;
  from_family_ = new QRadioButton(tr("Family"), top);
  from_family_->setChecked(true);
  from_file_ = new QRadioButton(tr("Plan file"), top);
  family_ = new QComboBox(top);
  family_->setObjectName("maskFamily");
  for (const std::string& name : curve_family_names()) family_->addItem(QString::fromStdString(name));
  family_->setCurrentText("streaming");
  density_ = new QSlider(Qt::Horizontal, top);
  density_->setObjectName("maskDensity");
  density_->setRange(1, kDensitySteps);
  density_->setValue(30);
  density_label_ = new QLabel(top);
  density_label_->setMinimumWidth(40);
  parameters_ = new QLineEdit(top);
  parameters_->setObjectName("maskParameters");
  parameters_->setPlaceholderText(tr("parameters, e.g. sink_tokens=64 (docs/mask-plans.md)"));
  file_label_ = new QLabel(tr("no plan file loaded"), top);
  file_label_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  auto* load = new QPushButton(tr("Load..."), top);
  source->addWidget(from_family_, 0, 0);
  source->addWidget(family_, 0, 1, 1, 2);
  source->addWidget(new QLabel(tr("Density"), top), 1, 0);
  source->addWidget(density_, 1, 1);
  source->addWidget(density_label_, 1, 2);
  source->addWidget(new QLabel(tr("Parameters"), top), 2, 0);
  source->addWidget(parameters_, 2, 1, 1, 2);
  source->addWidget(from_file_, 3, 0);
  source->addWidget(file_label_, 3, 1);
  source->addWidget(load, 3, 2);
  source->setColumnStretch(1, 1);
  layout->addLayout(source);

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
  curves_layout->addWidget(curves_, 1);
  outer->addWidget(top);
  outer->addWidget(bottom, 1);

  const auto changed = [this] { rebuildPlan(); };
  connect(family_, &QComboBox::currentIndexChanged, this, changed);
  connect(density_, &QSlider::valueChanged, this, changed);
  connect(parameters_, &QLineEdit::editingFinished, this, changed);
  connect(from_family_, &QRadioButton::toggled, this, changed);
  connect(load, &QPushButton::clicked, this, &MaskLabView::loadPlanRequested);
  connect(evaluate_, &QPushButton::clicked, this, &MaskLabView::evaluateRequested);
  connect(save_, &QPushButton::clicked, this, &MaskLabView::savePlanRequested);
  connect(draw_, &QCheckBox::toggled, this, &MaskLabView::drawOnMapChanged);
  connect(curves_button_, &QPushButton::clicked, this, &MaskLabView::curvesRequested);
  setRunAvailable(false);
  rebuildPlan();
}

void MaskLabView::setShape(int layers, int heads) {
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
  evaluate_->setEnabled(available && plan_ != nullptr);
  curves_button_->setEnabled(available);
  if (!available) {
    heads_result_->setText(tr("Run a prompt: the mask lab evaluates on its tokens."));
    e2e_result_->clear();
  }
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

void MaskLabView::rebuildPlan() {
  density_label_->setText(QString("%1 %").arg(density_->value()));
  const bool file = from_file_->isChecked();
  family_->setEnabled(!file);
  density_->setEnabled(!file);
  parameters_->setEnabled(!file);
  std::shared_ptr<const masks::MaskPlan> plan;
  if (file) {
    plan = file_plan_;
    if (!plan) status_->setText(tr("Load a plan file (docs/mask-plans.md)."));
  } else if (layers_ > 0 && heads_ > 0) {
    try {
      const masks::HeadMask mask = head_mask_of(family().toStdString(), density(), parameters().toStdString());
      auto built = std::make_shared<masks::MaskPlan>(layers_, heads_, mask);
      built->name = masks::describe(mask);
      plan = built;
      status_->clear();
    } catch (const Error& e) {
      status_->setText(QString::fromStdString(e.what()));
    }
  }
  plan_ = plan;
  evaluate_->setEnabled(run_available_ && plan_ != nullptr);
  save_->setEnabled(plan_ != nullptr);
  if (plan_) emit planChanged();
}

QString MaskLabView::family() const { return family_->currentText(); }
void MaskLabView::setFamily(const QString& name) {
  if (family_->findText(name) >= 0) family_->setCurrentText(name);
}
double MaskLabView::density() const { return double(density_->value()) / kDensitySteps; }
void MaskLabView::setDensity(double density) {
  density_->setValue(int(std::lround(std::clamp(density, 0.0, 1.0) * kDensitySteps)));
}
QString MaskLabView::parameters() const { return parameters_->text(); }
void MaskLabView::setParameters(const QString& text) {
  parameters_->setText(text);
  rebuildPlan();
}
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
