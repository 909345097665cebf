#pragma once
// A profiling job from the app: the task grid (tasks, lengths, depths), the metrics, the
// seed and whether to store pooled maps, as `attnscope-cli profile` takes them
// (docs/profiling.md); Run and Cancel, and the job's progress (units, the unit under
// way, an estimate of the time left). The spec it gives is the engine's ProfileJobSpec.
#include <QElapsedTimer>
#include <QWidget>
#include <filesystem>

#include "analysis/profile/profile_job.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace attnscope::views {

struct ProfileFormValues {
  bool needle = true, passkey = false, repeat = false;
  QString lengths = "512";
  QString depths = "0:100:50";
  QString metrics = "all";
  int seed = 0;
  bool pooled_maps = true;
};

// The job of `values` with the bundled needles, haystack and templates of `prompts_dir`
// (the CLI's defaults). attnscope::Error naming the field ("lengths", "depths", "metrics",
// "tasks") that is wrong.
profile::ProfileJobSpec profile_spec_of(const ProfileFormValues& values, const std::filesystem::path& prompts_dir);

class ProfileJobForm : public QWidget {
  Q_OBJECT

 public:
  explicit ProfileJobForm(QWidget* parent = nullptr);

  ProfileFormValues values() const;
  void setValues(const ProfileFormValues& values);
  void setRunEnabled(bool enabled);
  void setRunning(bool running);
  void showProgress(const profile::ProfileProgress& progress);
  void showMessage(const QString& message);

 signals:
  void runRequested();
  void cancelRequested();

 private:
  QCheckBox* needle_ = nullptr;
  QCheckBox* passkey_ = nullptr;
  QCheckBox* repeat_ = nullptr;
  QLineEdit* lengths_ = nullptr;
  QLineEdit* depths_ = nullptr;
  QLineEdit* metrics_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QCheckBox* pooled_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* message_ = nullptr;
  QElapsedTimer clock_;
  bool enabled_ = false;
  bool running_ = false;
};

}  // namespace attnscope::views
