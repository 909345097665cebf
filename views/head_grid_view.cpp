#include "views/head_grid_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "views/color_scale.h"

namespace attnscope::views {
namespace {

constexpr double kLabelMargin = 30;
constexpr double kMaxCell = 56;

QColor to_qcolor(PackedColor c) { return QColor(int(c & 0xff), int((c >> 8) & 0xff), int((c >> 16) & 0xff)); }

}  // namespace

// The painted grid; the view around it holds the metric chooser.
class HeadGridCanvas : public QWidget {
 public:
  explicit HeadGridCanvas(HeadGridView* owner) : QWidget(owner), owner_(owner) {
    setObjectName("headGridCanvas");
    setMouseTracking(true);
    setMinimumSize(160, 120);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  }

  GridGeometry geometry() const {
    const auto& m = owner_->model_;
    return GridGeometry::fit(width(), height(), m.layers(), m.heads(), kLabelMargin, kMaxCell);
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (!owner_->has_model_) {
      p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, owner_->message_);
      return;
    }
    const auto& m = owner_->model_;
    const GridGeometry g = geometry();
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1));
    p.setFont(small);
    for (int h = 0; h < m.heads(); ++h)
      p.drawText(QRectF(g.left + h * g.cell_width, 0, g.cell_width, g.top), Qt::AlignCenter, QString::number(h));
    for (int l = 0; l < m.layers(); ++l)
      p.drawText(QRectF(0, g.top + l * g.cell_height, g.left - 4, g.cell_height), Qt::AlignRight | Qt::AlignVCenter,
                 QString::number(l));
    for (int l = 0; l < m.layers(); ++l)
      for (int h = 0; h < m.heads(); ++h) {
        const QRectF cell(g.left + h * g.cell_width, g.top + l * g.cell_height, g.cell_width - 1, g.cell_height - 1);
        const HeadMetricColumn& column = m.selected();
        const double v = m.value(l, h);
        const double t = m.normalized(l, h);
        PackedColor color = kNoValueColor;
        if (column.categorical() && std::isfinite(v))
          color = category_color(int(v));
        else if (std::isfinite(t))
          color = column.diverging ? diverging_color(t) : ramp_color(t);
        const QColor fill = to_qcolor(color);
        p.fillRect(cell, fill);
        if (g.cell_width >= 34 && std::isfinite(v)) {
          p.setPen(fill.lightnessF() > 0.55 ? Qt::black : Qt::white);
          const QString text = column.categorical()
                                   ? QString::fromStdString(column.format(v)).left(int(g.cell_width / 7))
                                   : QString::number(v, 'f', std::min(column.decimals, 2));
          p.drawText(cell, Qt::AlignCenter, text);
        }
      }
    // Marked heads: a flag in the cell's top right corner, dark on light cells and light on dark.
    for (const GridCell& c : owner_->marked_) {
      if (c.layer >= m.layers() || c.head >= m.heads()) continue;
      const double x = g.left + (c.head + 1) * g.cell_width - 1, y = g.top + c.layer * g.cell_height;
      const double size = std::max(6.0, std::min(g.cell_width, g.cell_height) * 0.35);
      QPainterPath flag;
      flag.moveTo(x - size, y);
      flag.lineTo(x, y);
      flag.lineTo(x, y + size);
      flag.closeSubpath();
      p.fillPath(flag, QColor(20, 20, 20));
      p.setPen(QPen(Qt::white, 1));
      p.drawPath(flag);
    }
    if (const auto s = owner_->selected_) {
      p.setPen(QPen(Qt::white, 2));
      p.drawRect(QRectF(g.left + s->head * g.cell_width, g.top + s->layer * g.cell_height, g.cell_width - 1,
                        g.cell_height - 1));
    }
    p.setPen(palette().windowText().color());
    p.drawText(QRectF(0, 0, g.left, g.top), Qt::AlignCenter, QStringLiteral("L\\H"));
  }

  bool event(QEvent* e) override {
    if (e->type() == QEvent::ToolTip && owner_->has_model_) {
      auto* help = static_cast<QHelpEvent*>(e);
      if (const auto cell = geometry().hit(help->pos().x(), help->pos().y())) {
        QString text = QString::fromStdString(owner_->model_.describe(cell->layer, cell->head));
        const auto& marked = owner_->marked_;
        if (std::find(marked.begin(), marked.end(), *cell) != marked.end()) text += "\n" + owner_->marked_meaning_;
        QToolTip::showText(help->globalPos(), text, this);
      }
      else
        QToolTip::hideText();
      return true;
    }
    return QWidget::event(e);
  }

  void mousePressEvent(QMouseEvent* e) override {
    if (!owner_->has_model_ || e->button() != Qt::LeftButton) return;
    if (const auto cell = geometry().hit(e->position().x(), e->position().y())) {
      owner_->setSelectedHead(cell->layer, cell->head);
      emit owner_->headActivated(cell->layer, cell->head);
    }
  }

 private:
  HeadGridView* owner_;
};

HeadGridView::HeadGridView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Colour by"), this));
  metric_ = new QComboBox(this);
  metric_->setObjectName("overviewMetric");
  top->addWidget(metric_, 1);
  layout->addLayout(top);
  canvas_ = new HeadGridCanvas(this);
  layout->addWidget(canvas_, 1);
  range_ = new QLabel(this);
  range_->setWordWrap(true);
  layout->addWidget(range_);
  connect(metric_, &QComboBox::currentIndexChanged, this, &HeadGridView::chooseMetric);
  setMinimumWidth(240);
  clear(tr("No run yet."));
}

void HeadGridView::setModel(HeadGridModel model) {
  const QString previous = metricName();
  model_ = std::move(model);
  has_model_ = true;
  {
    const QSignalBlocker block(metric_);
    metric_->clear();
    for (int i = 0; i < model_.metric_count(); ++i) metric_->addItem(QString::fromStdString(model_.metric(i).name));
  }
  if (!selectMetric(previous)) chooseMetric(0);
  if (selected_ && (selected_->layer >= model_.layers() || selected_->head >= model_.heads())) selected_.reset();
  canvas_->update();
}

void HeadGridView::clear(const QString& message) {
  has_model_ = false;
  message_ = message;
  range_->clear();
  canvas_->update();
}

void HeadGridView::setMarkedHeads(std::vector<GridCell> heads, const QString& meaning) {
  marked_ = std::move(heads);
  marked_meaning_ = meaning;
  canvas_->update();
}

void HeadGridView::setSelectedHead(int layer, int head) {
  selected_ = GridCell{layer, head};
  canvas_->update();
}

bool HeadGridView::selectMetric(const QString& name) {
  const auto index = model_.find_metric(name.toStdString());
  if (!index) return false;
  metric_->setCurrentIndex(*index);  // chooseMetric through the signal, or directly when unchanged
  chooseMetric(*index);
  return true;
}

QString HeadGridView::metricName() const { return metric_->currentText(); }

void HeadGridView::chooseMetric(int index) {
  if (index < 0 || index >= model_.metric_count()) return;
  const bool changed = index != model_.selected_metric();
  model_.select_metric(index);
  const auto& m = model_.metric(index);
  QString range;
  if (m.categorical()) {
    QStringList names;
    for (const auto& c : m.categories) names << QString::fromStdString(c);
    range = tr(" (classes: %1)").arg(names.join(", "));
  } else {
    range = tr(" (colour from %1 to %2)").arg(m.domain_min, 0, 'g', 3).arg(m.domain_max, 0, 'g', 3);
  }
  range_->setText(QString::fromStdString(m.description) + range);
  canvas_->update();
  if (changed) emit metricChanged(QString::fromStdString(m.name));
}

}  // namespace attnscope::views
