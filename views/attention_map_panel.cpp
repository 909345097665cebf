#include "views/attention_map_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>

#include "views/elided_label.h"

namespace attnscope::views {

AttentionMapPanel::AttentionMapPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(6, 4, 6, 0);
  title_ = new ElidedLabel(tr("No head selected"), this);
  title_->setObjectName("mapTitle");
  // Long titles end in "…" (the tooltip has them whole) rather than widening the window.
  title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  bar->addWidget(title_, 1);
  bar->addWidget(new QLabel(tr("Scale"), this));
  scale_ = new QComboBox(this);
  scale_->setObjectName("mapScale");
  for (ScaleKind k : {ScaleKind::Linear, ScaleKind::Log, ScaleKind::Rank})
    scale_->addItem(QString::fromStdString(scale_name(k)), int(k));
  bar->addWidget(scale_);
  auto* fit = new QPushButton(tr("Whole map"), this);
  fit->setToolTip(tr("Show the whole context (Home; double-click the map)"));
  bar->addWidget(fit);
  auto* end = new QPushButton(tr("Last tokens"), this);
  end->setToolTip(tr("Zoom to the last 48 queries and keys, one token each"));
  bar->addWidget(end);
  layout->addLayout(bar);
  canvas_in_window_ = ImGuiCanvas::openGlAvailable();
  canvas_ = new AttentionMapCanvas(canvas_in_window_ ? this : nullptr);
  canvas_->setObjectName("attentionMap");
  if (canvas_in_window_) {
    layout->addWidget(canvas_, 1);
  } else {
    auto* note = new QLabel(tr("The attention map needs OpenGL, which this display does not offer."), this);
    note->setAlignment(Qt::AlignCenter);
    layout->addWidget(note, 1);
  }

  scale_->setCurrentIndex(scale_->findData(int(canvas_->scaleKind())));
  connect(scale_, &QComboBox::currentIndexChanged, this, [this] {
    const auto kind = ScaleKind(scale_->currentData().toInt());
    canvas_->setScaleKind(kind);
    emit scaleKindChanged(kind);
  });
  connect(fit, &QPushButton::clicked, canvas_, &AttentionMapCanvas::fitMap);
  connect(end, &QPushButton::clicked, this, [this] {
    const double n = double(canvas_->viewport().tokens());
    const double from = std::max(0.0, n - 48);
    canvas_->showWindow(from, n, from, n);
  });
}

AttentionMapPanel::~AttentionMapPanel() {
  if (!canvas_in_window_) delete canvas_;
}

void AttentionMapPanel::setHeadTitle(const QString& title) {
  title_->setText(title);
  title_->setToolTip(title);
}

void AttentionMapPanel::setScaleKind(ScaleKind kind) { scale_->setCurrentIndex(scale_->findData(int(kind))); }

}  // namespace attnscope::views
