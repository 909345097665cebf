#include "views/profile_table_view.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

#include "views/profile_table_model.h"

namespace attnscope::views {

ProfileTableView::ProfileTableView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  title_ = new QLabel(this);
  title_->setObjectName("profileTitle");
  title_->setWordWrap(true);
  layout->addWidget(title_);
  auto* filters = new QHBoxLayout;
  filter_ = new QLineEdit(this);
  filter_->setObjectName("profileFilter");
  filter_->setPlaceholderText(tr("Filter: text in any column (e.g. vertical_slash)"));
  filter_->setClearButtonEnabled(true);
  filters->addWidget(filter_, 2);
  bound_metric_ = new QComboBox(this);
  bound_metric_->setObjectName("profileBoundMetric");
  filters->addWidget(bound_metric_, 1);
  filters->addWidget(new QLabel(QStringLiteral(">="), this));
  bound_ = new QDoubleSpinBox(this);
  bound_->setObjectName("profileBound");
  bound_->setRange(-1e9, 1e9);
  bound_->setDecimals(3);
  bound_->setSingleStep(0.05);
  filters->addWidget(bound_);
  count_ = new QLabel(this);
  filters->addWidget(count_);
  layout->addLayout(filters);
  table_ = new QTableView(this);
  table_->setObjectName("profileTable");
  model_ = new ProfileTableModel(this);
  proxy_ = new ProfileFilterProxy(this);
  proxy_->setSourceModel(model_);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // layer, head order until a header is clicked
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->verticalHeader()->setDefaultSectionSize(20);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  layout->addWidget(table_, 1);

  connect(filter_, &QLineEdit::textChanged, this, &ProfileTableView::applyFilter);
  connect(bound_metric_, &QComboBox::currentIndexChanged, this, &ProfileTableView::applyFilter);
  connect(bound_, &QDoubleSpinBox::valueChanged, this, &ProfileTableView::applyFilter);
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    const int row = proxy_->mapToSource(index).row();
    emit headActivated(model_->layerOf(row), model_->headOf(row));
  });
  clear(tr("No profile yet: run one below, or open a run in History."));
}

void ProfileTableView::setMetrics(const QString& title, const std::vector<store::HeadMetric>& metrics, int layers,
                                  int heads) {
  const QString bound = bound_metric_->currentText();
  title_->setText(title);
  model_->setMetrics(metrics, layers, heads);
  {
    const QSignalBlocker block(bound_metric_);
    bound_metric_->clear();
    bound_metric_->addItem(tr("(no bound)"));
    for (const std::string& name : model_->metricNames()) bound_metric_->addItem(QString::fromStdString(name));
    const int keep = bound_metric_->findText(bound);
    bound_metric_->setCurrentIndex(keep >= 0 ? keep : 0);
  }
  applyFilter();
}

void ProfileTableView::clear(const QString& message) {
  title_->setText(message);
  model_->setMetrics({}, 0, 0);
  applyFilter();
}

int ProfileTableView::shownRows() const { return proxy_->rowCount(); }

void ProfileTableView::setFilterText(const QString& text) { filter_->setText(text); }

void ProfileTableView::setMinimum(const QString& metric, double minimum) {
  const int index = metric.isEmpty() ? 0 : bound_metric_->findText(metric);
  bound_metric_->setCurrentIndex(std::max(index, 0));
  bound_->setValue(minimum);
  applyFilter();
}

void ProfileTableView::applyFilter() {
  proxy_->setText(filter_->text());
  const std::optional<int> column =
      bound_metric_->currentIndex() > 0 ? model_->column(bound_metric_->currentText().toStdString()) : std::nullopt;
  bound_->setEnabled(column.has_value());
  proxy_->setMinimum(column, bound_->value());
  count_->setText(tr("%1 of %2 heads").arg(proxy_->rowCount()).arg(model_->rowCount()));
}

}  // namespace attnscope::views
