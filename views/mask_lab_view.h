#pragma once
// The mask lab panel: a method with its budget (MaskBudgetEditor: a slider per budget
// parameter of the engine's table, a density or the method's own budget, other --param
// text), or a plan file; masks of their own for single heads (the head shown in the
// overview: its family and budget in a second editor, over whatever the plan gives it);
// the plan's per-head results summed up (density used, recall, output error) and its
// end-to-end KL and top-1 agreement as they arrive; save the plan; draw the mask of the
// shown head on the map; and error-against-density curves of several families
// (MaskCurvesView). Per-head recall and error go to the overview grid (the window adds
// them as metrics) and so do the heads with masks of their own. With "live" on, every
// move of a control asks for a new evaluation; the session keeps only the latest. Duo,
// moa and minference are built from the run's recorded heads on the session's worker: the
// panel gives their choice, and holds the plan once the window hands it back.
#include <QWidget>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/masks/plan_choice.h"
#include "views/head_grid_model.h"

class QButtonGroup;
class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;

namespace attnscope::views {

class MaskBudgetEditor;
class MaskCurvesView;

// The mask the controls give: `family` (a method name, not dense) at `density`, with
// `parameters` ("sink_tokens=64 window=256": space or comma separated) applied.
// attnscope::Error naming the parameter or value that is wrong.
masks::HeadMask head_mask_of(std::string_view family, double density, std::string_view parameters);

// The families the curves may compare, and those checked at first.
std::vector<std::string> curve_family_names();
std::vector<std::string> default_curve_families();
// The methods of the panel's plan (the families and duo, moa, minference), and those a
// single head may have of its own (dense and the families).
std::vector<std::string> plan_method_names();
std::vector<std::string> head_method_names();

class MaskLabView : public QWidget {
  Q_OBJECT

 public:
  explicit MaskLabView(QWidget* parent = nullptr);

  // The model's layers and query heads (plans are built for them; heads' own masks of
  // another shape are dropped) and whether a run is there to evaluate on.
  void setShape(int layers, int heads);
  void setRunAvailable(bool available);
  // The run's tokens: the sliders' ranges follow them.
  void setSequenceLength(int64_t tokens);

  // The plan of the controls (family or loaded file, with the heads' own masks), or the
  // per-head plan built for the current choice; null when the parameters are wrong (the
  // reason is shown), no model shape is known, or a per-head plan is not built yet.
  std::shared_ptr<const masks::MaskPlan> plan() const { return plan_; }
  // The choice of a per-head plan (duo, moa, minference with the heads' own masks) for
  // the session to build; empty for a family or a plan file.
  const std::optional<masks::PlanChoice>& perHeadChoice() const { return per_head_choice_; }
  // The plan built for `choice`; kept (and plan() returns it) while the controls still
  // give that choice.
  void setBuiltPlan(const masks::PlanChoice& choice, std::shared_ptr<const masks::MaskPlan> plan);
  void setLoadedPlan(std::shared_ptr<const masks::MaskPlan> plan, const QString& path);
  bool usesPlanFile() const;

  MaskBudgetEditor* methodEditor() const { return method_; }
  MaskBudgetEditor* headEditor() const { return head_editor_; }

  // The method of the plan, its density (setDensity also makes the density the budget)
  // and all its settings as text ("density=0.3 sink_tokens=4 window=1024": the form
  // remembered between runs; setParameters takes it back).
  QString family() const;
  void setFamily(const QString& name);
  double density() const;
  void setDensity(double density);
  QString parameters() const;
  void setParameters(const QString& text);

  // The head shown: the head group edits its own mask.
  void setSelectedHead(int layer, int head);
  // Masks of their own for single heads (checked when the plan is built).
  void setHeadMask(int layer, int head, const masks::HeadMask& mask);
  void clearHeadMask(int layer, int head);
  void clearHeadMasks();
  std::vector<GridCell> headsWithOwnMasks() const;
  // The shown head's numbers of the last evaluation.
  void showHeadResult(const masks::HeadResult& result);
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
  void planChanged();          // a new plan (or per-head choice): the controls moved or a file was loaded
  void evaluateRequested();
  void loadPlanRequested();
  void savePlanRequested();
  void drawOnMapChanged(bool draw);
  void curvesRequested();

 private:
  void rebuildPlan();
  void showSelectedHead();  // the head group for the selected head
  void ownMaskToggled(bool own);
  void headEditorChanged();

  int layers_ = 0, heads_ = 0;
  bool run_available_ = false;
  std::shared_ptr<const masks::MaskPlan> plan_;
  std::shared_ptr<const masks::MaskPlan> file_plan_;
  std::optional<masks::PlanChoice> per_head_choice_;
  std::optional<std::pair<masks::PlanChoice, std::shared_ptr<const masks::MaskPlan>>> built_;
  std::map<std::pair<int, int>, masks::HeadMask> head_masks_;  // (layer, head): its own mask
  std::optional<GridCell> selected_;
  bool showing_head_ = false;  // the head editor is being set from a mask: not an edit
  QRadioButton* from_family_ = nullptr;
  QRadioButton* from_file_ = nullptr;
  MaskBudgetEditor* method_ = nullptr;
  QLabel* file_label_ = nullptr;
  QGroupBox* head_group_ = nullptr;
  QLabel* head_label_ = nullptr;
  QCheckBox* own_mask_ = nullptr;
  QPushButton* clear_heads_ = nullptr;
  QLabel* heads_count_ = nullptr;
  MaskBudgetEditor* head_editor_ = nullptr;
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
