#include "views/profile_table_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace attnscope::views {
namespace {

constexpr int kFixedColumns = 2;  // layer, head

QString format_number(double v) {
  if (!std::isfinite(v)) return QStringLiteral("n/a");
  if (v == std::floor(v) && std::fabs(v) < 1e9) return QString::number(v, 'f', 0);
  return QString::number(v, 'f', 4);
}

}  // namespace

void ProfileTableModel::setMetrics(const std::vector<store::HeadMetric>& metrics, int layers, int heads) {
  beginResetModel();
  layers_ = std::max(layers, 0);
  heads_ = std::max(heads, 0);
  std::set<std::string> names;
  for (const auto& m : metrics) names.insert(m.name);
  names_.assign(names.begin(), names.end());
  cells_.assign(size_t(layers_) * size_t(heads_) * names_.size(), Cell{});
  for (const auto& m : metrics) {
    if (m.layer < 0 || m.layer >= layers_ || m.head < 0 || m.head >= heads_) continue;
    const auto at = std::lower_bound(names_.begin(), names_.end(), m.name) - names_.begin();
    Cell& c = cells_[(size_t(m.layer) * size_t(heads_) + size_t(m.head)) * names_.size() + size_t(at)];
    c.present = true;
    c.text = m.is_text();
    c.number = m.number();
    c.value = m.text();
  }
  endResetModel();
}

std::optional<int> ProfileTableModel::column(const std::string& metric) const {
  const auto it = std::find(names_.begin(), names_.end(), metric);
  if (it == names_.end()) return std::nullopt;
  return kFixedColumns + int(it - names_.begin());
}

const ProfileTableModel::Cell* ProfileTableModel::cell(int row, int column) const {
  const int metric = column - kFixedColumns;
  if (row < 0 || row >= rowCount() || metric < 0 || metric >= int(names_.size())) return nullptr;
  return &cells_[size_t(row) * names_.size() + size_t(metric)];
}

double ProfileTableModel::number(int row, int column) const {
  if (column == 0) return layerOf(row);
  if (column == 1) return headOf(row);
  const Cell* c = cell(row, column);
  return c && c->present && !c->text ? c->number : std::numeric_limits<double>::quiet_NaN();
}

int ProfileTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : layers_ * heads_; }

int ProfileTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || layers_ * heads_ == 0 ? 0 : kFixedColumns + int(names_.size());
}

QVariant ProfileTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const int row = index.row(), col = index.column();
  if (col < kFixedColumns) {
    const int v = col == 0 ? layerOf(row) : headOf(row);
    if (role == Qt::DisplayRole) return v;
    if (role == kSortRole) return double(v);
    if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
  }
  const Cell* c = cell(row, col);
  if (!c) return {};
  if (role == Qt::DisplayRole) {
    if (!c->present) return QString();
    return c->text ? QString::fromStdString(c->value) : format_number(c->number);
  }
  if (role == kSortRole) {
    if (c->present && c->text) return QString::fromStdString(c->value);
    return c->present ? c->number : std::numeric_limits<double>::quiet_NaN();
  }
  if (role == Qt::TextAlignmentRole && !c->text) return int(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant ProfileTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  if (section == 0) return tr("layer");
  if (section == 1) return tr("head");
  const int metric = section - kFixedColumns;
  return metric >= 0 && metric < int(names_.size()) ? QString::fromStdString(names_[size_t(metric)]) : QVariant();
}

ProfileFilterProxy::ProfileFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(ProfileTableModel::kSortRole);
}

void ProfileFilterProxy::setText(const QString& text) {
  text_ = text.trimmed();
  invalidateFilter();
}

void ProfileFilterProxy::setMinimum(std::optional<int> column, double minimum) {
  column_ = column;
  minimum_ = minimum;
  invalidateFilter();
}

bool ProfileFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  const QAbstractItemModel* m = sourceModel();
  if (column_) {
    const QVariant v = m->data(m->index(source_row, *column_, source_parent), ProfileTableModel::kSortRole);
    // A text or missing value never passes a numeric bound.
    if (v.typeId() != QMetaType::Double || !(v.toDouble() >= minimum_)) return false;
  }
  if (text_.isEmpty()) return true;
  for (int c = 0; c < m->columnCount(source_parent); ++c)
    if (m->data(m->index(source_row, c, source_parent), Qt::DisplayRole).toString().contains(text_, Qt::CaseInsensitive))
      return true;
  return false;
}

bool ProfileFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const QVariant a = left.data(sortRole()), b = right.data(sortRole());
  const bool a_number = a.typeId() == QMetaType::Double, b_number = b.typeId() == QMetaType::Double;
  if (a_number && b_number) {
    const double x = a.toDouble(), y = b.toDouble();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && !std::isnan(y);  // missing values first ascending
    return x < y;
  }
  if (a_number != b_number) return a_number;  // numbers before texts
  return QString::compare(a.toString(), b.toString(), Qt::CaseInsensitive) < 0;
}

}  // namespace attnscope::views
