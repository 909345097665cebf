#include "views/run_history_model.h"

#include <QDateTime>
#include <QFileInfo>

namespace attnscope::views {

QString duration_text(int64_t ms) {
  if (ms < 0) return QStringLiteral("-");
  if (ms < 1000) return QString("%1 ms").arg(ms);
  const double s = double(ms) / 1000;
  if (s < 60) return QString("%1 s").arg(s, 0, 'f', 1);
  const int64_t total = ms / 1000;
  if (total < 3600) return QString("%1 min %2 s").arg(total / 60).arg(total % 60, 2, 10, QChar('0'));
  return QString("%1 h %2 min").arg(total / 3600).arg((total / 60) % 60, 2, 10, QChar('0'));
}

void RunHistoryModel::setRuns(std::vector<store::RunRecord> runs) {
  beginResetModel();
  runs_ = std::move(runs);
  endResetModel();
}

int RunHistoryModel::rowOf(store::RunId id) const {
  for (size_t i = 0; i < runs_.size(); ++i)
    if (runs_[i].id == id) return int(i);
  return -1;
}

int RunHistoryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(runs_.size()); }
int RunHistoryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunHistoryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(runs_.size())) return {};
  const store::RunRecord& r = runs_[size_t(index.row())];
  if (role == Qt::ToolTipRole) {
    QString tip = QString::fromStdString(r.model.identity.path);
    if (!r.error.empty()) tip += "\n" + QString::fromStdString(r.error);
    return tip;
  }
  if (role == Qt::TextAlignmentRole && (index.column() == Id || index.column() == Units))
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (Column(index.column())) {
    case Id: return qlonglong(r.id);
    case Model: {
      const QString name = QFileInfo(QString::fromStdString(r.model.identity.path)).fileName();
      return name.isEmpty() ? QString::fromStdString(r.model.identity.path) : name;
    }
    case Kind: return QString::fromStdString(r.kind);
    case Task: return QString::fromStdString(r.task);
    case Started: return QDateTime::fromMSecsSinceEpoch(r.started_ms).toString("yyyy-MM-dd hh:mm:ss");
    case Duration:
      if (r.ended_ms) return duration_text(*r.ended_ms - r.started_ms);
      return r.last_unit_ms ? ">= " + duration_text(*r.last_unit_ms - r.started_ms) : QStringLiteral("-");
    case Status: return QString::fromUtf8(store::status_name(r.status).data(), int(store::status_name(r.status).size()));
    case Units: return qlonglong(r.unit_count);
    case ColumnCount: break;
  }
  return {};
}

QVariant RunHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  switch (Column(section)) {
    case Id: return tr("run");
    case Model: return tr("model");
    case Kind: return tr("kind");
    case Task: return tr("task");
    case Started: return tr("started");
    case Duration: return tr("duration");
    case Status: return tr("status");
    case Units: return tr("units");
    case ColumnCount: break;
  }
  return {};
}

}  // namespace attnscope::views
