#pragma once
// The profiles table: every metric per head of a run, sortable by any column (click its
// header) and filtered by a text and a lower bound on one metric; a double click opens the
// head. Which run it shows is written above it.
#include <QWidget>
#include <vector>

#include "analysis/store/head_metric_records.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace attnscope::views {

class ProfileFilterProxy;
class ProfileTableModel;

class ProfileTableView : public QWidget {
  Q_OBJECT

 public:
  explicit ProfileTableView(QWidget* parent = nullptr);

  void setMetrics(const QString& title, const std::vector<store::HeadMetric>& metrics, int layers, int heads);
  void clear(const QString& message);
  QTableView* table() const { return table_; }
  ProfileTableModel* model() const { return model_; }
  ProfileFilterProxy* proxy() const { return proxy_; }
  int shownRows() const;

  void setFilterText(const QString& text);
  // Rows whose `metric` is at least `minimum` ("" : no bound).
  void setMinimum(const QString& metric, double minimum);

 signals:
  void headActivated(int layer, int head);

 private:
  void applyFilter();

  QLabel* title_ = nullptr;
  QLineEdit* filter_ = nullptr;
  QComboBox* bound_metric_ = nullptr;
  QDoubleSpinBox* bound_ = nullptr;
  QLabel* count_ = nullptr;
  QTableView* table_ = nullptr;
  ProfileTableModel* model_ = nullptr;
  ProfileFilterProxy* proxy_ = nullptr;
};

}  // namespace attnscope::views
