#pragma once
// The overview: a layer x head grid coloured by a chosen metric (HeadGridModel).
// Hover shows every metric of a head; a click opens the head. Marked heads (the mask
// lab's heads with masks of their own) carry a corner flag.
#include <QWidget>
#include <optional>
#include <vector>

#include "views/head_grid_model.h"

class QComboBox;
class QLabel;

namespace attnscope::views {

class HeadGridCanvas;

class HeadGridView : public QWidget {
  Q_OBJECT

 public:
  explicit HeadGridView(QWidget* parent = nullptr);

  // Keeps the chosen metric when the new model has one of the same name.
  void setModel(HeadGridModel model);
  void clear(const QString& message);
  const HeadGridModel& model() const { return model_; }
  bool hasModel() const { return has_model_; }

  void setSelectedHead(int layer, int head);
  std::optional<GridCell> selectedHead() const { return selected_; }
  // Flags these heads; `meaning` joins their hover text ("own mask").
  void setMarkedHeads(std::vector<GridCell> heads, const QString& meaning);
  const std::vector<GridCell>& markedHeads() const { return marked_; }
  // Chooses the metric by name; false when the model has none of that name.
  bool selectMetric(const QString& name);
  QString metricName() const;

 signals:
  void headActivated(int layer, int head);
  void metricChanged(const QString& name);

 private:
  friend class HeadGridCanvas;
  void chooseMetric(int index);

  HeadGridModel model_;
  bool has_model_ = false;
  QString message_;
  std::optional<GridCell> selected_;
  std::vector<GridCell> marked_;
  QString marked_meaning_;
  QComboBox* metric_ = nullptr;
  QLabel* range_ = nullptr;
  HeadGridCanvas* canvas_ = nullptr;
};

}  // namespace attnscope::views
