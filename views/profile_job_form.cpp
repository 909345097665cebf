#include "views/profile_job_form.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <algorithm>

#include "analysis/tasks/grid_spec.h"
#include "kernels/error.h"
#include "views/time_left.h"

namespace attnscope::views {
namespace {

// Runs an engine parser; its error names the form's field.
template <typename Parse>
auto field_checked(const char* field, Parse parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw Error(field, e.problem());
  }
}

}  // namespace

profile::ProfileJobSpec profile_spec_of(const ProfileFormValues& v, const std::filesystem::path& prompts_dir) {
  profile::ProfileJobSpec s;
  s.tasks.clear();
  if (v.needle) s.tasks.push_back(profile::ProfileTask::Needle);
  if (v.passkey) s.tasks.push_back(profile::ProfileTask::Passkey);
  if (v.repeat) s.tasks.push_back(profile::ProfileTask::RepeatedTokens);
  if (s.tasks.empty()) throw Error("tasks", "choose at least one task");
  s.lengths = field_checked("lengths", [&] { return tasks::parse_lengths(v.lengths.trimmed().toStdString()); });
  s.depths = field_checked("depths", [&] { return tasks::parse_depths(v.depths.trimmed().toStdString()); });
  const QString metrics = v.metrics.trimmed();
  if (!metrics.isEmpty() && metrics != "all")
    s.metrics = field_checked("metrics", [&] { return profile::parse_job_metrics(metrics.toStdString()); });
  s.needles_file = prompts_dir / "needles.jsonl";
  s.haystack_file = prompts_dir / "haystack.txt";
  s.needle_template_file = prompts_dir / "needle.txt";
  s.passkey_template_file = prompts_dir / "passkey.txt";
  s.seed = uint64_t(std::max(v.seed, 0));
  s.pooled_maps = v.pooled_maps;
  return s;
}

ProfileJobForm::ProfileJobForm(QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  auto* tasks = new QHBoxLayout;
  needle_ = new QCheckBox(tr("needle"), this);
  passkey_ = new QCheckBox(tr("passkey"), this);
  repeat_ = new QCheckBox(tr("repeated tokens"), this);
  needle_->setObjectName("profileNeedle");
  passkey_->setObjectName("profilePasskey");
  repeat_->setObjectName("profileRepeat");
  tasks->addWidget(needle_);
  tasks->addWidget(passkey_);
  tasks->addWidget(repeat_);
  tasks->addStretch(1);
  lengths_ = new QLineEdit(this);
  lengths_->setObjectName("profileLengths");
  lengths_->setToolTip(tr("Prompt lengths in tokens: 512,1k (k = 1024)"));
  depths_ = new QLineEdit(this);
  depths_->setObjectName("profileDepths");
  depths_->setToolTip(tr("Needle depths in percent: start:stop:step (0:100:50) or a list (0,25,50)"));
  metrics_ = new QLineEdit(this);
  metrics_->setObjectName("profileMetrics");
  metrics_->setToolTip(tr("all, or metric names: sink_mass,retrieval_score,streaming_gate,pattern,density,..."));
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1 << 30);
  pooled_ = new QCheckBox(tr("store pooled maps"), this);
  pooled_->setToolTip(tr("Keep each prompt's pooled attention maps, to see them again from History"));
  run_ = new QPushButton(tr("Profile"), this);
  run_->setObjectName("profileRun");
  cancel_ = new QPushButton(tr("Cancel"), this);
  progress_ = new QProgressBar(this);
  progress_->setObjectName("profileProgress");
  message_ = new QLabel(this);
  message_->setObjectName("profileMessage");
  message_->setWordWrap(true);

  grid->addWidget(new QLabel(tr("Tasks"), this), 0, 0);
  grid->addLayout(tasks, 0, 1, 1, 3);
  grid->addWidget(new QLabel(tr("Lengths"), this), 1, 0);
  grid->addWidget(lengths_, 1, 1);
  grid->addWidget(new QLabel(tr("Depths"), this), 1, 2);
  grid->addWidget(depths_, 1, 3);
  grid->addWidget(new QLabel(tr("Metrics"), this), 2, 0);
  grid->addWidget(metrics_, 2, 1);
  grid->addWidget(new QLabel(tr("Seed"), this), 2, 2);
  grid->addWidget(seed_, 2, 3);
  auto* actions = new QHBoxLayout;
  actions->addWidget(pooled_);
  actions->addWidget(progress_, 1);
  actions->addWidget(run_);
  actions->addWidget(cancel_);
  grid->addLayout(actions, 3, 0, 1, 4);
  grid->addWidget(message_, 4, 0, 1, 4);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  connect(run_, &QPushButton::clicked, this, &ProfileJobForm::runRequested);
  connect(cancel_, &QPushButton::clicked, this, &ProfileJobForm::cancelRequested);
  setValues({});
  setRunning(false);
}

ProfileFormValues ProfileJobForm::values() const {
  ProfileFormValues v;
  v.needle = needle_->isChecked();
  v.passkey = passkey_->isChecked();
  v.repeat = repeat_->isChecked();
  v.lengths = lengths_->text();
  v.depths = depths_->text();
  v.metrics = metrics_->text();
  v.seed = seed_->value();
  v.pooled_maps = pooled_->isChecked();
  return v;
}

void ProfileJobForm::setValues(const ProfileFormValues& v) {
  needle_->setChecked(v.needle);
  passkey_->setChecked(v.passkey);
  repeat_->setChecked(v.repeat);
  lengths_->setText(v.lengths);
  depths_->setText(v.depths);
  metrics_->setText(v.metrics);
  seed_->setValue(v.seed);
  pooled_->setChecked(v.pooled_maps);
}

void ProfileJobForm::setRunEnabled(bool enabled) {
  enabled_ = enabled;
  setRunning(running_);
}

void ProfileJobForm::setRunning(bool running) {
  running_ = running;
  run_->setEnabled(enabled_ && !running);
  cancel_->setEnabled(running);
  progress_->setVisible(running);
  if (running) {
    clock_.start();
    progress_->setRange(0, 0);
    message_->setText(tr("Starting..."));
  }
}

void ProfileJobForm::showProgress(const profile::ProfileProgress& p) {
  const int scale = 1000;
  progress_->setRange(0, scale);
  const double share = p.work_total > 0 ? std::clamp(p.work_done / p.work_total, 0.0, 1.0) : 0.0;
  progress_->setValue(int(share * scale));
  progress_->setFormat(tr("unit %1 of %2").arg(std::min(p.units_done + 1, p.units_total)).arg(p.units_total));
  const double elapsed = double(clock_.elapsed()) / 1000;
  const QString eta = time_left_text(elapsed, share);
  message_->setText(QString::fromStdString(p.unit) + (eta.isEmpty() ? QString() : " - " + eta));
}

void ProfileJobForm::showMessage(const QString& message) { message_->setText(message); }

}  // namespace attnscope::views
