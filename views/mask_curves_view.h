#pragma once
// Error against density for several mask families side by side (QtCharts): the output
// error (relative L2 of the sparse attention output, mean over heads) and the recall
// (share of the attention kept) of each family at the densities a sweep measured, one
// line per family in both charts.
#include <QWidget>
#include <string>
#include <vector>

class QLabel;
QT_BEGIN_NAMESPACE
class QChartView;
class QValueAxis;
QT_END_NAMESPACE

namespace attnscope::views {

struct DensityCurve {
  std::string family;
  std::vector<double> density;       // used (kept / visible entries), ascending as measured
  std::vector<double> output_error;  // mean output relative L2 over heads
  std::vector<double> recall;        // mean recall over heads
};

// The charts' y range: 0 to the largest value rounded up to a "nice" step (at least 0.05).
double curve_axis_max(const std::vector<DensityCurve>& curves, bool recall);
// The x range: 0 to the largest density used rounded up to 0.1 (at least 0.1, at most 1).
double curve_density_max(const std::vector<DensityCurve>& curves);
// A tick interval of 1, 2, 2.5 or 5 times a power of ten giving at most six intervals up to `max`.
double curve_tick_interval(double max);

class MaskCurvesView : public QWidget {
  Q_OBJECT

 public:
  explicit MaskCurvesView(QWidget* parent = nullptr);

  void setCurves(std::vector<DensityCurve> curves);
  const std::vector<DensityCurve>& curves() const { return curves_; }
  void clear(const QString& message);
  QChartView* errorChart() const { return error_view_; }
  QChartView* recallChart() const { return recall_view_; }

 private:
  void fill(QChartView* view, bool recall);

  std::vector<DensityCurve> curves_;
  QChartView* error_view_ = nullptr;
  QChartView* recall_view_ = nullptr;
  QLabel* message_ = nullptr;
};

}  // namespace attnscope::views
