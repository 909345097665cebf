#pragma once
// A method and its budget as controls: the method (a mask family, or a per-head plan where
// offered), the budget as a density or as the method's own (tokens, mass, probability,
// sparsity: as the method allows), a slider with its value beside it for each budget
// parameter of the engine's table (analysis/masks/method_budgets.h; log scales where the
// table says, ranges following the prompt's length), and the method's other parameters as
// --param text. What the controls give is a masks::PlanChoice: the same method, density and
// `key=value` settings the CLI's --method, --density and --param would give.
#include <QString>
#include <QWidget>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/masks/method_budgets.h"
#include "analysis/masks/plan_choice.h"

class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSlider;

namespace attnscope::views {

class MaskBudgetEditor : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kSliderSteps = 1000;
  // Before a run: ranges for a prompt of the sample model's trained context.
  static constexpr int64_t kDefaultSequenceLength = 2048;

  // `methods`: names of the budget table, in the order offered.
  explicit MaskBudgetEditor(const std::vector<std::string>& methods, QWidget* parent = nullptr);

  QString method() const;
  void setMethod(const QString& name);  // unknown names are ignored
  bool densityMode() const;             // the density replaces the method's main knob
  void setDensityMode(bool density);
  double density() const;
  void setDensity(double density);
  // A budget parameter's value (NaN for a parameter the method has not).
  double value(std::string_view name) const;
  void setValue(std::string_view name, double value);
  QString otherParameters() const;
  void setOtherParameters(const QString& text);
  int64_t sequenceLength() const { return sequence_length_; }
  void setSequenceLength(int64_t tokens);
  // The range a parameter's slider covers now.
  masks::BudgetRange range(std::string_view name) const;

  // The controls as a choice (no plan file, no head masks); attnscope::Error naming the
  // parameter for --param text that does not parse or names a parameter with a slider.
  masks::PlanChoice choice() const;
  // All of it as text ("density=0.3 sink_tokens=64 last_queries=32": the density only in
  // density mode), for settings; setSettings takes it back (density= picks density mode).
  QString settings() const;
  void setSettings(const QString& text);
  // Shows `mask` (a family): its method, its density or own budget, its sliders, and its
  // other parameters where they differ from the family's defaults.
  void setMask(const masks::HeadMask& mask);

 signals:
  void changed();  // any control moved; choice() is the new one

 private:
  struct Row {
    const masks::BudgetParameter* parameter = nullptr;
    QLabel* label = nullptr;
    QSlider* slider = nullptr;
    QComboBox* choices = nullptr;
    QDoubleSpinBox* box = nullptr;
  };

  const masks::MethodBudget& budget() const;
  bool usesDensity() const;  // the method takes the density now (its mode, or always)
  void rebuildRows();
  void refresh();  // ranges, positions, shown rows
  void showValue(Row& row, double value);
  void setValueFromControl(const masks::BudgetParameter& parameter, double value);
  masks::BudgetValues referenceValues() const;

  std::vector<std::string> methods_;
  int64_t sequence_length_ = kDefaultSequenceLength;
  // Values per method, so that going back to a method finds its sliders as they were.
  std::map<std::string, masks::BudgetValues, std::less<>> values_;
  double density_ = 0.3;
  bool density_mode_ = true;
  bool quiet_ = false;  // controls set by code: no signals

  QComboBox* method_ = nullptr;
  QRadioButton* by_density_ = nullptr;
  QRadioButton* by_own_ = nullptr;
  QWidget* mode_row_ = nullptr;
  Row density_row_;
  QGridLayout* grid_ = nullptr;
  std::vector<Row> rows_;
  QLabel* other_label_ = nullptr;
  QLineEdit* other_ = nullptr;
};

// --param text ("sink_tokens=64, window=256": space or comma separated) into settings.
std::vector<std::string> parameter_settings(const QString& text);

}  // namespace attnscope::views
