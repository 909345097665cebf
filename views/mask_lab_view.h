#pragma once
// The mask lab panel: a family with a density budget (a slider) and optional parameters
// (`key=value` as the CLI's --param takes them), or a plan file; the plan's per-head
// results summed up (density used, recall, output error) and its end-to-end KL and top-1
// agreement as they arrive; save the plan; draw the mask of the shown head on the map;
// and error-against-density curves of several families (MaskCurvesView). Per-head recall
// and error go to the overview grid (the window adds them as metrics). With "live" on,
// every move of a control asks for a new evaluation; the session keeps only the latest.
#include <QWidget>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSlider;

namespace attnscope::views {

class MaskCurvesView;

// The mask the controls give: `family` (a method name, not dense) at `density`, with
// `parameters` ("sink_tokens=64 window=256": space or comma separated) applied.
// attnscope::Error naming the parameter or value that is wrong.
masks::HeadMask head_mask_of(std::string_view family, double density, std::string_view parameters);

// The families the curves may compare, and those checked at first.
std::vector<std::string> curve_family_names();
std::vector<std::string> default_curve_families();

class MaskLabView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kDensitySteps = 100;  // the slider moves in percent

  explicit MaskLabView(QWidget* parent = nullptr);

  // The model's layers and query heads (plans are built for them) and whether a run is
  // there to evaluate on.
  void setShape(int layers, int heads);
  void setRunAvailable(bool available);

  // The plan of the controls (family or loaded file); null when the parameters are wrong
  // (the reason is shown) or no model shape is known.
  std::shared_ptr<const masks::MaskPlan> plan() const { return plan_; }
  void setLoadedPlan(std::shared_ptr<const masks::MaskPlan> plan, const QString& path);
  bool usesPlanFile() const;

  QString family() const;
  void setFamily(const QString& name);
  double density() const;
  void setDensity(double density);
  QString parameters() const;
  void setParameters(const QString& text);
  bool live() const;
  void setLive(bool live);
  bool drawOnMap() const;
  void setDrawOnMap(bool draw);

  void showEvaluation(const masks::PlanSummary& summary, double seconds);
  void showEndToEnd(const masks::EndToEnd& e2e);
  void showBusy(const QString& what);
  void showError(const QString& message);

  MaskCurvesView* curves() const { return curves_; }
  // The checked families with their default parameters, and the densities to sweep;
  // attnscope::Error for a malformed density list or no family.
  std::vector<masks::HeadMask> curveFamilies() const;
  std::vector<double> curveDensities() const;
  void setCurveFamilies(const QStringList& names);
  QStringList checkedCurveFamilies() const;
  void setCurveProgress(int done, int total);

 signals:
  void planChanged();          // a new plan: the controls moved or a file was loaded
  void evaluateRequested();
  void loadPlanRequested();
  void savePlanRequested();
  void drawOnMapChanged(bool draw);
  void curvesRequested();

 private:
  void rebuildPlan();

  int layers_ = 0, heads_ = 0;
  bool run_available_ = false;
  std::shared_ptr<const masks::MaskPlan> plan_;
  std::shared_ptr<const masks::MaskPlan> file_plan_;
  QRadioButton* from_family_ = nullptr;
  QRadioButton* from_file_ = nullptr;
  QComboBox* family_ = nullptr;
  QSlider* density_ = nullptr;
  QLabel* density_label_ = nullptr;
  QLineEdit* parameters_ = nullptr;
  QLabel* file_label_ = nullptr;
  QCheckBox* live_ = nullptr;
  QCheckBox* draw_ = nullptr;
  QPushButton* evaluate_ = nullptr;
  QPushButton* save_ = nullptr;
  QLabel* heads_result_ = nullptr;
  QLabel* e2e_result_ = nullptr;
  QLabel* status_ = nullptr;
  std::vector<QCheckBox*> curve_boxes_;
  QLineEdit* curve_densities_ = nullptr;
  QPushButton* curves_button_ = nullptr;
  QProgressBar* curve_progress_ = nullptr;
  MaskCurvesView* curves_ = nullptr;
};

}  // namespace attnscope::views
