#include "views/mask_curves_view.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

namespace attnscope::views {
namespace {

// The chart and its two axes, made once: series come and go, the axes only change range
// (axes removed and added again leave stale labels behind in QtCharts 6.4).
QChartView* make_chart_view(QWidget* parent, const QString& name, const QString& y_title) {
  auto* chart = new QChart;
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* x = new QValueAxis;
  x->setTitleText(QObject::tr("density"));
  x->setLabelFormat("%.2g");
  x->setTickType(QValueAxis::TicksDynamic);
  x->setTickAnchor(0);
  auto* y = new QValueAxis;
  y->setTitleText(y_title);
  y->setLabelFormat("%.2g");
  y->setTickType(QValueAxis::TicksDynamic);
  y->setTickAnchor(0);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto* view = new QChartView(chart, parent);
  view->setObjectName(name);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(200, 180);
  return view;
}

QValueAxis* axis_of(QChart* chart, Qt::Orientation orientation) {
  return qobject_cast<QValueAxis*>(chart->axes(orientation).value(0));
}

}  // namespace

double curve_axis_max(const std::vector<DensityCurve>& curves, bool recall) {
  if (recall) return 1.0;
  double top = 0;
  for (const auto& c : curves)
    for (double v : c.output_error)
      if (std::isfinite(v)) top = std::max(top, v);
  const double step = 0.05;
  return std::max(step, std::ceil(top / step - 1e-9) * step);
}

double curve_density_max(const std::vector<DensityCurve>& curves) {
  double top = 0;
  for (const auto& c : curves)
    for (double v : c.density)
      if (std::isfinite(v)) top = std::max(top, v);
  return std::clamp(std::ceil(top * 10 - 1e-9) / 10, 0.1, 1.0);
}

double curve_tick_interval(double max) {
  if (!(max > 0)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(max)) - 1);
  for (double scale : {1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0})
    if (max / (scale * power) <= 6 + 1e-9) return scale * power;
  return 100 * power;
}

MaskCurvesView::MaskCurvesView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  layout->addWidget(message_);
  auto* charts = new QHBoxLayout;
  error_view_ = make_chart_view(this, "maskErrorChart", tr("output relative L2"));
  recall_view_ = make_chart_view(this, "maskRecallChart", tr("recall"));
  error_view_->chart()->setTitle(tr("Output error against density"));
  recall_view_->chart()->setTitle(tr("Recall against density"));
  charts->addWidget(error_view_, 1);
  charts->addWidget(recall_view_, 1);
  layout->addLayout(charts, 1);
  clear(tr("Compute curves to compare families over their budgets."));
}

void MaskCurvesView::clear(const QString& message) {
  curves_.clear();
  message_->setText(message);
  fill(error_view_, false);
  fill(recall_view_, true);
}

void MaskCurvesView::setCurves(std::vector<DensityCurve> curves) {
  curves_ = std::move(curves);
  message_->setText(tr("Mean over every head; x: the density each family really kept."));
  fill(error_view_, false);
  fill(recall_view_, true);
}

void MaskCurvesView::fill(QChartView* view, bool recall) {
  QChart* chart = view->chart();
  chart->removeAllSeries();
  QValueAxis* x = axis_of(chart, Qt::Horizontal);
  QValueAxis* y = axis_of(chart, Qt::Vertical);
  const double x_max = curve_density_max(curves_);
  const double y_max = curve_axis_max(curves_, recall);
  x->setRange(0, x_max);
  x->setTickInterval(curve_tick_interval(x_max));
  y->setRange(0, y_max);
  y->setTickInterval(curve_tick_interval(y_max));
  for (const DensityCurve& c : curves_) {
    auto* series = new QLineSeries;
    series->setName(QString::fromStdString(c.family));
    series->setPointsVisible(true);
    const auto& values = recall ? c.recall : c.output_error;
    for (size_t i = 0; i < c.density.size() && i < values.size(); ++i)
      if (std::isfinite(c.density[i]) && std::isfinite(values[i])) series->append(c.density[i], values[i]);
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
  }
  chart->legend()->setVisible(!curves_.empty());
}

}  // namespace attnscope::views
