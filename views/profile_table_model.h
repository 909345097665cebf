#pragma once
// Every metric of every head of a profile run (store::run_head_values) as a table: one
// row per (layer, query head), the layer and head first, then one column per metric in
// name order. Numbers sort as numbers (a head without a value below every number), texts ("pattern") as
// text. ProfileFilterProxy filters rows by a text (any column contains it) and by a
// lower bound on one metric.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <optional>
#include <string>
#include <vector>

#include "analysis/store/head_metric_records.h"

namespace attnscope::views {

class ProfileTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  static constexpr int kSortRole = Qt::UserRole + 1;  // double (NaN when missing) or QString

  using QAbstractTableModel::QAbstractTableModel;

  // `metrics` of a model of `layers` x `heads` (values outside are ignored).
  void setMetrics(const std::vector<store::HeadMetric>& metrics, int layers, int heads);
  const std::vector<std::string>& metricNames() const { return names_; }
  // Column of a metric; std::nullopt when the table has none of that name.
  std::optional<int> column(const std::string& metric) const;
  int layerOf(int row) const { return row / std::max(heads_, 1); }
  int headOf(int row) const { return row % std::max(heads_, 1); }
  // A cell's number (NaN for text or missing).
  double number(int row, int column) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  struct Cell {
    bool present = false;
    bool text = false;
    double number = 0;
    std::string value;
  };
  const Cell* cell(int row, int column) const;

  int layers_ = 0, heads_ = 0;
  std::vector<std::string> names_;
  std::vector<Cell> cells_;  // [row * names + metric]
};

class ProfileFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit ProfileFilterProxy(QObject* parent = nullptr);

  // Rows with a cell containing `text` (case-insensitive); empty: every row.
  void setText(const QString& text);
  // Rows whose `column` holds a number of at least `minimum`; nullopt: no bound.
  void setMinimum(std::optional<int> column, double minimum);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  QString text_;
  std::optional<int> column_;
  double minimum_ = 0;
};

}  // namespace attnscope::views
