#include "views/mask_budget_editor.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSlider>
#include <algorithm>
#include <cmath>

#include "analysis/masks/mask_plan.h"
#include "kernels/error.h"

namespace attnscope::views {
namespace {

constexpr int kLabelWidth = 130;
constexpr int kBoxWidth = 96;

// Shares on a log scale reach 1e-6 (a probability); the others move in steps of 0.01.
int decimals_of(const masks::BudgetParameter& p) {
  if (p.whole) return 0;
  return p.scale == masks::BudgetScale::Log ? 6 : 4;
}

QString range_text(const masks::BudgetParameter& p, const masks::BudgetRange& r, int64_t tokens) {
  const QString low = QString::number(r.min, 'g', 6), high = QString::number(r.max, 'g', 6);
  const QString name = QString::fromUtf8(p.name.data(), int(p.name.size()));
  QString text = QObject::tr("--param %1: the slider covers %2 to %3").arg(name, low, high);
  if (p.max.per_token > 0)
    text += QObject::tr(" (%1 the prompt's %2 tokens)").arg(p.max.per_parameter.empty() ? "" : "blocks of").arg(tokens);
  if (p.scale == masks::BudgetScale::Log) text += QObject::tr(", on a log scale");
  if (p.limit > r.max && p.choices.empty()) text += QObject::tr("; up to %1 may be typed").arg(p.limit, 0, 'g', 6);
  if (p.density_knob) text += QObject::tr(". A density replaces it.");
  return text;
}

}  // namespace

std::vector<std::string> parameter_settings(const QString& text) {
  QString spaced = text;
  spaced.replace(',', ' ');
  std::vector<std::string> out;
  for (const QString& item : spaced.split(QRegularExpression("\\s+"), Qt::SkipEmptyParts))
    out.push_back(item.toStdString());
  return out;
}

MaskBudgetEditor::MaskBudgetEditor(const std::vector<std::string>& methods, QWidget* parent)
    : QWidget(parent), methods_(methods) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setColumnMinimumWidth(0, kLabelWidth);
  grid->setColumnStretch(1, 1);
  method_ = new QComboBox(this);
  method_->setObjectName("budgetMethod");
  for (const std::string& m : methods_) method_->addItem(QString::fromStdString(m));
  grid->addWidget(new QLabel(tr("Method"), this), 0, 0);
  grid->addWidget(method_, 0, 1, 1, 2);

  mode_row_ = new QWidget(this);
  auto* mode = new QHBoxLayout(mode_row_);
  mode->setContentsMargins(0, 0, 0, 0);
  by_density_ = new QRadioButton(tr("density"), mode_row_);
  by_density_->setObjectName("budgetByDensity");
  by_density_->setToolTip(tr("The method's main knob chosen per head to keep this share of its visible entries"));
  by_own_ = new QRadioButton(mode_row_);
  by_own_->setObjectName("budgetByOwn");
  mode->addWidget(by_density_);
  mode->addWidget(by_own_);
  mode->addStretch(1);
  grid->addWidget(new QLabel(tr("Budget as"), this), 1, 0);
  grid->addWidget(mode_row_, 1, 1, 1, 2);

  const masks::BudgetParameter& density = masks::density_budget();
  density_row_.parameter = &density;
  density_row_.label = new QLabel(tr("density"), this);
  density_row_.slider = new QSlider(Qt::Horizontal, this);
  density_row_.slider->setObjectName("budget:density");
  density_row_.slider->setRange(0, kSliderSteps);
  density_row_.box = new QDoubleSpinBox(this);
  density_row_.box->setObjectName("budgetValue:density");
  density_row_.box->setDecimals(4);
  density_row_.box->setSingleStep(0.01);
  density_row_.box->setKeyboardTracking(false);
  density_row_.box->setFixedWidth(kBoxWidth);
  grid->addWidget(density_row_.label, 2, 0);
  grid->addWidget(density_row_.slider, 2, 1);
  grid->addWidget(density_row_.box, 2, 2);

  grid_ = new QGridLayout;
  grid_->setContentsMargins(0, 0, 0, 0);
  grid_->setColumnMinimumWidth(0, kLabelWidth);
  grid_->setColumnStretch(1, 1);
  grid->addLayout(grid_, 3, 0, 1, 3);

  other_label_ = new QLabel(tr("Other parameters"), this);
  other_ = new QLineEdit(this);
  other_->setObjectName("budgetOther");
  other_->setPlaceholderText(tr("key=value as --param takes them (docs/mask-plans.md)"));
  grid->addWidget(other_label_, 4, 0);
  grid->addWidget(other_, 4, 1, 1, 2);

  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    rebuildRows();
    if (!quiet_) emit changed();
  });
  connect(by_density_, &QRadioButton::toggled, this, [this](bool on) {
    if (quiet_) return;
    density_mode_ = on;
    refresh();
    emit changed();
  });
  connect(density_row_.slider, &QSlider::valueChanged, this, [this](int position) {
    if (quiet_) return;
    const masks::BudgetRange r{masks::density_budget().min.fixed, masks::density_budget().max.fixed};
    setValueFromControl(masks::density_budget(),
                        masks::budget_at_position(masks::density_budget(), r, double(position) / kSliderSteps));
  });
  connect(density_row_.box, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!quiet_) setValueFromControl(masks::density_budget(), v);
  });
  connect(other_, &QLineEdit::editingFinished, this, [this] {
    refresh();
    emit changed();
  });
  rebuildRows();
}

const masks::MethodBudget& MaskBudgetEditor::budget() const {
  return masks::method_budget(method_->currentText().toStdString(), "mask lab");
}

QString MaskBudgetEditor::method() const { return method_->currentText(); }

void MaskBudgetEditor::setMethod(const QString& name) {
  if (method_->findText(name) >= 0) method_->setCurrentText(name);
}

bool MaskBudgetEditor::densityMode() const { return density_mode_; }

bool MaskBudgetEditor::usesDensity() const {
  const masks::DensityUse use = budget().density;
  return use == masks::DensityUse::Required || (use == masks::DensityUse::Optional && density_mode_);
}

void MaskBudgetEditor::setDensityMode(bool density) {
  if (density_mode_ == density) return;
  density_mode_ = density;
  refresh();
  if (!quiet_) emit changed();
}

double MaskBudgetEditor::density() const { return density_; }

void MaskBudgetEditor::setDensity(double density) { setValueFromControl(masks::density_budget(), density); }

double MaskBudgetEditor::value(std::string_view name) const {
  const masks::BudgetParameter* p = budget().find(name);
  if (!p) return std::nan("");
  const auto values = values_.find(method_->currentText().toStdString());
  if (values == values_.end()) return p->default_value;
  const auto it = values->second.find(name);
  return it == values->second.end() ? p->default_value : it->second;
}

void MaskBudgetEditor::setValue(std::string_view name, double value) {
  if (const masks::BudgetParameter* p = budget().find(name)) setValueFromControl(*p, value);
}

QString MaskBudgetEditor::otherParameters() const { return other_->text(); }

void MaskBudgetEditor::setOtherParameters(const QString& text) {
  other_->setText(text);
  refresh();
  if (!quiet_) emit changed();
}

void MaskBudgetEditor::setSequenceLength(int64_t tokens) {
  const QString before = settings();
  sequence_length_ = std::max<int64_t>(tokens, 1);
  refresh();
  if (settings() != before && !quiet_) emit changed();  // a value raised to a new minimum
}

masks::BudgetRange MaskBudgetEditor::range(std::string_view name) const {
  if (name == "density") return {masks::density_budget().min.fixed, masks::density_budget().max.fixed};
  const masks::BudgetParameter* p = budget().find(name);
  if (!p) throw Error("mask lab", method().toStdString() + " has no budget parameter " + std::string(name));
  return masks::budget_range(budget(), *p, sequence_length_, referenceValues());
}

masks::BudgetValues MaskBudgetEditor::referenceValues() const {
  masks::BudgetValues values;
  for (const std::string& s : parameter_settings(other_->text())) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) continue;
    char* end = nullptr;
    const double v = std::strtod(s.c_str() + eq + 1, &end);
    if (end && *end == '\0' && std::isfinite(v)) values[s.substr(0, eq)] = v;
  }
  if (const auto it = values_.find(method_->currentText().toStdString()); it != values_.end())
    for (const auto& [name, v] : it->second) values[name] = v;
  return values;
}

masks::PlanChoice MaskBudgetEditor::choice() const {
  const masks::MethodBudget& b = budget();
  const std::string where = "mask lab, " + std::string(b.method);
  masks::PlanChoice c;
  c.method = std::string(b.method);
  const bool by_density = usesDensity();
  if (by_density) c.density = density_;
  for (const masks::BudgetParameter& p : b.parameters)
    if (!(by_density && p.density_knob)) c.params.push_back(masks::budget_setting(p, value(p.name)));
  for (const std::string& s : parameter_settings(other_->text())) {
    const std::string key = s.substr(0, s.find('='));
    if (key == "density") throw Error(where, "set the density with its slider, not as a parameter");
    if (b.find(key)) throw Error(where, "'" + key + "' has its slider; set it there, not as a parameter");
    c.params.push_back(s);
  }
  return c;
}

QString MaskBudgetEditor::settings() const {
  QStringList items;
  const masks::MethodBudget& b = budget();
  if (usesDensity())
    items << QString::fromStdString(masks::budget_setting(masks::density_budget(), density_));
  for (const masks::BudgetParameter& p : b.parameters)
    items << QString::fromStdString(masks::budget_setting(p, value(p.name)));
  const QString other = other_->text().trimmed();
  if (!other.isEmpty()) items << other;
  return items.join(' ');
}

void MaskBudgetEditor::setSettings(const QString& text) {
  const masks::MethodBudget& b = budget();
  QStringList other;
  bool density_given = false;
  quiet_ = true;
  for (const std::string& s : parameter_settings(text)) {
    const auto eq = s.find('=');
    const std::string key = s.substr(0, eq);
    char* end = nullptr;
    const double v = eq == std::string::npos ? std::nan("") : std::strtod(s.c_str() + eq + 1, &end);
    const bool number = end && *end == '\0' && std::isfinite(v);
    if (key == "density" && number) {
      density_given = true;
      setValueFromControl(masks::density_budget(), v);
    } else if (b.find(key) && number) {
      setValueFromControl(*b.find(key), v);
    } else {
      other << QString::fromStdString(s);
    }
  }
  density_mode_ = density_given || b.density == masks::DensityUse::Required;
  other_->setText(other.join(' '));
  refresh();
  quiet_ = false;
  emit changed();
}

void MaskBudgetEditor::setMask(const masks::HeadMask& mask) {
  quiet_ = true;
  const std::string_view name = masks::method_name(mask.family);
  setMethod(QString::fromUtf8(name.data(), int(name.size())));  // rebuilds the rows, quietly
  const masks::MethodBudget& b = budget();
  const nlohmann::json given = masks::mask_to_json(mask);
  const nlohmann::json defaults = masks::mask_to_json({masks::default_family(b.method, "mask lab"), std::nullopt});
  QStringList other;
  for (const auto& [key, v] : given.items()) {
    if (key == "method" || key == "density") continue;
    if (const masks::BudgetParameter* p = b.find(key); p && v.is_number())
      setValueFromControl(*p, v.get<double>());
    else if (!b.find(key) && defaults.value(key, nlohmann::json()) != v)
      other << QString::fromStdString(key + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  }
  density_mode_ = mask.density.has_value();
  if (mask.density) setValueFromControl(masks::density_budget(), *mask.density);
  other_->setText(other.join(' '));
  refresh();
  quiet_ = false;
  emit changed();
}

void MaskBudgetEditor::setValueFromControl(const masks::BudgetParameter& p, double v) {
  if (&p == &masks::density_budget()) {
    density_ = masks::snap_budget(p, range("density"), v);
  } else {
    auto& values = values_[method_->currentText().toStdString()];
    const masks::BudgetRange r = masks::budget_range(budget(), p, sequence_length_, referenceValues());
    values[std::string(p.name)] = masks::snap_budget(p, r, v);
  }
  refresh();
  if (!quiet_) emit changed();
}

void MaskBudgetEditor::rebuildRows() {
  for (Row& row : rows_) {
    delete row.label;
    delete row.slider;
    delete row.choices;
    delete row.box;
  }
  rows_.clear();
  const masks::MethodBudget& b = budget();
  by_own_->setText(QString::fromUtf8(b.own_budget.data(), int(b.own_budget.size())));
  int line = 0;
  for (const masks::BudgetParameter& p : b.parameters) {
    Row row;
    row.parameter = &p;
    const QString name = QString::fromUtf8(p.name.data(), int(p.name.size()));
    row.label = new QLabel(QString::fromUtf8(p.label.data(), int(p.label.size())), this);
    grid_->addWidget(row.label, line, 0);
    if (!p.choices.empty()) {
      row.choices = new QComboBox(this);
      row.choices->setObjectName("budget:" + name);
      for (double c : p.choices) row.choices->addItem(QString::number(c, 'g', 6));
      grid_->addWidget(row.choices, line, 1, 1, 2);
      connect(row.choices, &QComboBox::currentIndexChanged, this, [this, &p](int i) {
        if (!quiet_ && i >= 0) setValueFromControl(p, p.choices.at(size_t(i)));
      });
    } else {
      row.slider = new QSlider(Qt::Horizontal, this);
      row.slider->setObjectName("budget:" + name);
      row.slider->setRange(0, kSliderSteps);
      row.box = new QDoubleSpinBox(this);
      row.box->setObjectName("budgetValue:" + name);
      row.box->setDecimals(decimals_of(p));
      row.box->setSingleStep(p.whole ? p.step : 0.01);
      row.box->setKeyboardTracking(false);
      row.box->setFixedWidth(kBoxWidth);
      grid_->addWidget(row.slider, line, 1);
      grid_->addWidget(row.box, line, 2);
      connect(row.slider, &QSlider::valueChanged, this, [this, &p](int position) {
        if (quiet_) return;
        setValueFromControl(p, masks::budget_at_position(p, range(p.name), double(position) / kSliderSteps));
      });
      connect(row.box, &QDoubleSpinBox::valueChanged, this, [this, &p](double v) {
        if (!quiet_) setValueFromControl(p, v);
      });
    }
    rows_.push_back(row);
    ++line;
  }
  refresh();
}

void MaskBudgetEditor::showValue(Row& row, double v) {
  const masks::BudgetParameter& p = *row.parameter;
  const masks::BudgetRange r = range(p.name);
  const QString tip = range_text(p, r, sequence_length_);
  row.label->setToolTip(tip);
  if (row.choices) {
    const auto it = std::find(p.choices.begin(), p.choices.end(), v);
    row.choices->setCurrentIndex(it == p.choices.end() ? -1 : int(it - p.choices.begin()));
    row.choices->setToolTip(tip);
    return;
  }
  // A slider being dragged stays where the hand holds it; its value follows.
  if (!row.slider->isSliderDown())
    row.slider->setValue(int(std::lround(masks::budget_position(p, r, v) * kSliderSteps)));
  row.slider->setToolTip(tip);
  row.box->setRange(r.min, std::max(p.limit, r.min));
  row.box->setValue(v);
  row.box->setToolTip(tip);
}

void MaskBudgetEditor::refresh() {
  const bool was_quiet = quiet_;
  quiet_ = true;
  const masks::MethodBudget& b = budget();
  const bool by_density = usesDensity();
  mode_row_->setVisible(b.density == masks::DensityUse::Optional);
  (density_mode_ ? by_density_ : by_own_)->setChecked(true);
  for (QWidget* w : {static_cast<QWidget*>(density_row_.label), static_cast<QWidget*>(density_row_.slider),
                     static_cast<QWidget*>(density_row_.box)})
    w->setVisible(by_density);
  density_row_.label->setToolTip(range_text(masks::density_budget(), range("density"), sequence_length_));
  const double at = masks::budget_position(masks::density_budget(), range("density"), density_);
  if (!density_row_.slider->isSliderDown()) density_row_.slider->setValue(int(std::lround(at * kSliderSteps)));
  density_row_.box->setRange(range("density").min, 1);
  density_row_.box->setValue(density_);
  auto& values = values_[std::string(b.method)];
  for (Row& row : rows_) {
    const masks::BudgetParameter& p = *row.parameter;
    // A value below a minimum that moved (a capacity below its new window) is raised to it.
    const double v = masks::snap_budget(p, range(p.name), value(p.name));
    values[std::string(p.name)] = v;
    showValue(row, v);
    const bool shown = !(by_density && p.density_knob);
    for (QWidget* w : {static_cast<QWidget*>(row.label), static_cast<QWidget*>(row.slider),
                       static_cast<QWidget*>(row.choices), static_cast<QWidget*>(row.box)})
      if (w) w->setVisible(shown);
  }
  const bool other = !b.per_head_plan && b.method != "dense";
  other_label_->setVisible(other);
  other_->setVisible(other);
  quiet_ = was_quiet;
}

}  // namespace attnscope::views
