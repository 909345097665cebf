#pragma once
// A one-line label that ends in "…" when its text does not fit, instead of being cut
// mid-word behind its neighbours; text() and the tooltip keep the whole text.
#include <QLabel>

namespace attnscope::views {

class ElidedLabel : public QLabel {
 public:
  using QLabel::QLabel;

 protected:
  void paintEvent(QPaintEvent* event) override;
};

}  // namespace attnscope::views
