#include "views/run_history_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "views/run_history_model.h"

namespace attnscope::views {
namespace {

QString number(double v, int decimals) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : "n/a"; }

QString head_list(const std::vector<store::HeadDifference>& heads, bool text) {
  QStringList parts;
  for (const auto& d : heads) {
    if (parts.size() == 3) break;
    const QString name = QString("L%1H%2").arg(d.layer).arg(d.head);
    parts << (text ? QString("%1 %2->%3").arg(name, QString::fromStdString(d.a_text), QString::fromStdString(d.b_text))
                   : QString("%1 %2").arg(name, number(d.b - d.a, 3)));
  }
  return parts.join(", ");
}

}  // namespace

RunHistoryView::RunHistoryView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  database_ = new QLabel(this);
  database_->setObjectName("historyDatabase");
  database_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  layout->addWidget(database_);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  table_ = new QTableView(splitter);
  table_->setObjectName("historyTable");
  model_ = new RunHistoryModel(this);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->verticalHeader()->setVisible(false);
  table_->verticalHeader()->setDefaultSectionSize(20);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  comparison_ = new QTableWidget(splitter);
  comparison_->setObjectName("historyComparison");
  comparison_->setColumnCount(6);
  comparison_->setHorizontalHeaderLabels(
      {tr("metric"), tr("heads"), tr("mean b-a"), tr("max |b-a|"), tr("correlation"), tr("largest differences")});
  comparison_->verticalHeader()->setVisible(false);
  comparison_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  comparison_->horizontalHeader()->setStretchLastSection(true);
  comparison_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  comparison_->setVisible(false);
  layout->addWidget(splitter, 1);

  auto* buttons = new QHBoxLayout;
  auto* refresh = new QPushButton(tr("Refresh"), this);
  open_ = new QPushButton(tr("Open"), this);
  open_->setObjectName("historyOpen");
  open_->setToolTip(tr("Show the run's head metrics and stored maps without recomputing"));
  compare_ = new QPushButton(tr("Compare"), this);
  compare_->setObjectName("historyCompare");
  compare_->setToolTip(tr("Select two runs of the same model: their differences head by head (second - first)"));
  unit_label_ = new QLabel(tr("Prompt"), this);
  units_ = new QComboBox(this);
  units_->setObjectName("historyUnits");
  units_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  units_->setMinimumContentsLength(16);
  buttons->addWidget(refresh);
  buttons->addWidget(open_);
  buttons->addWidget(compare_);
  buttons->addWidget(unit_label_);
  buttons->addWidget(units_, 1);
  layout->addLayout(buttons);
  message_ = new QLabel(this);
  message_->setObjectName("historyMessage");
  message_->setWordWrap(true);
  layout->addWidget(message_);

  connect(refresh, &QPushButton::clicked, this, &RunHistoryView::refreshRequested);
  connect(open_, &QPushButton::clicked, this, [this] {
    const auto runs = selectedRuns();
    if (runs.size() == 1) emit openRequested(qint64(runs.front()));
  });
  connect(compare_, &QPushButton::clicked, this, [this] {
    const auto runs = selectedRuns();
    if (runs.size() == 2) emit compareRequested(qint64(runs[0]), qint64(runs[1]));
  });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    emit openRequested(qint64(model_->run(index.row()).id));
  });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunHistoryView::updateButtons);
  connect(units_, &QComboBox::activated, this, &RunHistoryView::unitChosen);
  setUnits({}, -1);
  updateButtons();
}

void RunHistoryView::setDatabase(const QString& path) {
  database_->setText(tr("Store: %1").arg(path));
  database_->setToolTip(path);
}

void RunHistoryView::setRuns(std::vector<store::RunRecord> runs) {
  const auto selected = selectedRuns();
  model_->setRuns(std::move(runs));
  selectRuns(selected);
  if (model_->rowCount() == 0) setMessage(tr("No runs yet: profile runs and mask lab runs land here."));
  updateButtons();
}

void RunHistoryView::setMessage(const QString& message) { message_->setText(message); }

void RunHistoryView::selectRuns(const std::vector<store::RunId>& ids) {
  QItemSelection selection;
  for (store::RunId id : ids) {
    const int row = model_->rowOf(id);
    if (row >= 0) selection.select(model_->index(row, 0), model_->index(row, RunHistoryModel::ColumnCount - 1));
  }
  table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
  updateButtons();
}

std::vector<store::RunId> RunHistoryView::selectedRuns() const {
  std::vector<store::RunId> out;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows()) out.push_back(model_->run(index.row()).id);
  std::sort(out.begin(), out.end());  // compare older (a) with newer (b)
  return out;
}

void RunHistoryView::setUnits(const QStringList& labels, int current) {
  units_->clear();
  units_->addItems(labels);
  units_->setCurrentIndex(current);
  units_->setEnabled(!labels.isEmpty());
  unit_label_->setEnabled(!labels.isEmpty());
  units_->setToolTip(labels.isEmpty() ? tr("The opened run stored no pooled maps") : QString());
}

int RunHistoryView::currentUnit() const { return units_->currentIndex(); }

void RunHistoryView::setComparison(const QString& title, const std::vector<store::MetricComparison>& metrics) {
  message_->setText(title);
  comparison_->setRowCount(int(metrics.size()));
  for (size_t i = 0; i < metrics.size(); ++i) {
    const auto& m = metrics[i];
    const int row = int(i);
    const QString heads = m.is_text ? tr("%1 (%2 changed)").arg(m.compared).arg(m.changed) : QString::number(m.compared);
    const QStringList cells = {QString::fromStdString(m.name), heads,
                               m.is_text ? QString() : number(m.mean_difference, 4),
                               m.is_text ? QString() : number(m.max_abs_difference, 4),
                               m.is_text ? QString() : number(m.correlation, 3), head_list(m.largest, m.is_text)};
    for (int c = 0; c < cells.size(); ++c) comparison_->setItem(row, c, new QTableWidgetItem(cells[c]));
  }
  comparison_->setVisible(!metrics.empty());
}

void RunHistoryView::updateButtons() {
  const size_t n = table_->selectionModel() ? selectedRuns().size() : 0;
  open_->setEnabled(n == 1);
  compare_->setEnabled(n == 2);
}

}  // namespace attnscope::views
