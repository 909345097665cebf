#pragma once
// The run history: the store's runs (model, task, date, status), reopened without
// recomputing (the window shows their head metrics on the grid and in the profiles
// table, and a prompt's stored pooled maps on the map), or two of them compared head by
// head (as `attnscope-cli runs compare`: per metric how many heads compare, the mean and
// largest difference b - a, the correlation; the differences go to the grid).
#include <QWidget>
#include <vector>

#include "analysis/store/metric_comparison.h"
#include "analysis/store/run_records.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;
class QTableWidget;

namespace attnscope::views {

class RunHistoryModel;

class RunHistoryView : public QWidget {
  Q_OBJECT

 public:
  explicit RunHistoryView(QWidget* parent = nullptr);

  void setDatabase(const QString& path);
  void setRuns(std::vector<store::RunRecord> runs);
  void setMessage(const QString& message);
  RunHistoryModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  // Selects these runs (for Open: one; for Compare: two).
  void selectRuns(const std::vector<store::RunId>& ids);
  std::vector<store::RunId> selectedRuns() const;

  // The units of the opened run that have pooled maps to show, and the one shown.
  void setUnits(const QStringList& labels, int current);
  int currentUnit() const;
  void setComparison(const QString& title, const std::vector<store::MetricComparison>& metrics);

 signals:
  void refreshRequested();
  // Run ids as numbers (store::RunId): Qt's signals want a plain integer.
  void openRequested(qint64 run);
  void compareRequested(qint64 a, qint64 b);
  void unitChosen(int index);

 private:
  void updateButtons();

  QLabel* database_ = nullptr;
  QTableView* table_ = nullptr;
  RunHistoryModel* model_ = nullptr;
  QPushButton* open_ = nullptr;
  QPushButton* compare_ = nullptr;
  QLabel* unit_label_ = nullptr;
  QComboBox* units_ = nullptr;
  QLabel* message_ = nullptr;
  QTableWidget* comparison_ = nullptr;
};

}  // namespace attnscope::views
