#pragma once
// The runs of the store (store::list_runs, newest first) as a table: id, model, kind,
// task, when it started, how long it took, status and completed units.
#include <QAbstractTableModel>
#include <QString>
#include <cstdint>
#include <vector>

#include "analysis/store/run_records.h"

namespace attnscope::views {

// "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min".
QString duration_text(int64_t milliseconds);

class RunHistoryModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Id, Model, Kind, Task, Started, Duration, Status, Units, ColumnCount };

  using QAbstractTableModel::QAbstractTableModel;

  void setRuns(std::vector<store::RunRecord> runs);
  const std::vector<store::RunRecord>& runs() const { return runs_; }
  const store::RunRecord& run(int row) const { return runs_.at(size_t(row)); }
  // The row of a run id, -1 when it is not listed.
  int rowOf(store::RunId id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<store::RunRecord> runs_;
};

}  // namespace attnscope::views
