#pragma once
// The prompt panel's generated tasks: a needle in a haystack at a length and depth, the
// passkey, or repeated random tokens, with the settings `attnscope-cli profile` takes for
// them (length, depth, seed, which needle, copies). Only the fields the chosen task uses
// are shown. Emits generateRequested; the session makes the prompt.
#include <QWidget>
#include <cstdint>

#include "analysis/profile/profile_job_spec.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace attnscope::views {

struct TaskFormValues {
  profile::ProfileTask task = profile::ProfileTask::Needle;
  int64_t length = 1024;
  double depth = 0.5;   // fraction 0..1
  uint64_t seed = 0;
  int64_t needle = 0;   // 0-based
  int64_t copies = 4;
  bool operator==(const TaskFormValues&) const = default;
};

class TaskPromptForm : public QWidget {
  Q_OBJECT

 public:
  explicit TaskPromptForm(QWidget* parent = nullptr);

  TaskFormValues values() const;
  void setValues(const TaskFormValues& values);
  // The longest prompt the model takes (its context).
  void setMaxLength(int64_t tokens);
  void setGenerateEnabled(bool enabled);

 signals:
  void generateRequested();

 private:
  void showFieldsOf(profile::ProfileTask task);

  QComboBox* task_ = nullptr;
  QSpinBox* length_ = nullptr;
  QDoubleSpinBox* depth_ = nullptr;
  QSpinBox* needle_ = nullptr;
  QSpinBox* copies_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QLabel* depth_label_ = nullptr;
  QLabel* needle_label_ = nullptr;
  QLabel* copies_label_ = nullptr;
  QPushButton* generate_ = nullptr;
};

}  // namespace attnscope::views
