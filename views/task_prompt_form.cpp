#include "views/task_prompt_form.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <algorithm>

namespace attnscope::views {

TaskPromptForm::TaskPromptForm(QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  task_ = new QComboBox(this);
  task_->setObjectName("taskKind");
  task_->addItem(tr("Needle in a haystack"), int(profile::ProfileTask::Needle));
  task_->addItem(tr("Passkey"), int(profile::ProfileTask::Passkey));
  task_->addItem(tr("Repeated random tokens"), int(profile::ProfileTask::RepeatedTokens));
  length_ = new QSpinBox(this);
  length_->setObjectName("taskLength");
  length_->setRange(16, 1 << 20);
  length_->setSingleStep(256);
  length_->setValue(1024);
  length_->setSuffix(tr(" tokens"));
  depth_ = new QDoubleSpinBox(this);
  depth_->setObjectName("taskDepth");
  depth_->setRange(0, 100);
  depth_->setDecimals(0);
  depth_->setSingleStep(10);
  depth_->setValue(50);
  depth_->setSuffix(tr(" %"));
  depth_->setToolTip(tr("Share of the haystack before the needle"));
  needle_ = new QSpinBox(this);
  needle_->setObjectName("taskNeedle");
  needle_->setRange(1, 1 << 16);
  needle_->setToolTip(tr("Which needle of needles.jsonl"));
  copies_ = new QSpinBox(this);
  copies_->setObjectName("taskCopies");
  copies_->setRange(2, 1024);
  copies_->setValue(4);
  copies_->setToolTip(tr("Copies of the random sequence (RazorAttention repeats it 4 times)"));
  seed_ = new QSpinBox(this);
  seed_->setObjectName("taskSeed");
  seed_->setRange(0, 1 << 30);
  seed_->setToolTip(tr("The profile job's seed: start paragraph, passkey, random tokens"));
  generate_ = new QPushButton(tr("Generate"), this);
  generate_->setObjectName("generateTask");

  depth_label_ = new QLabel(tr("Depth"), this);
  needle_label_ = new QLabel(tr("Needle"), this);
  copies_label_ = new QLabel(tr("Copies"), this);
  grid->addWidget(new QLabel(tr("Task"), this), 0, 0);
  grid->addWidget(task_, 0, 1, 1, 3);
  grid->addWidget(generate_, 0, 4);
  grid->addWidget(new QLabel(tr("Length"), this), 1, 0);
  grid->addWidget(length_, 1, 1);
  grid->addWidget(depth_label_, 1, 2);
  grid->addWidget(depth_, 1, 3);
  grid->addWidget(new QLabel(tr("Seed"), this), 2, 0);
  grid->addWidget(seed_, 2, 1);
  grid->addWidget(needle_label_, 2, 2);
  grid->addWidget(needle_, 2, 3);
  grid->addWidget(copies_label_, 2, 2);
  grid->addWidget(copies_, 2, 3);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);

  connect(task_, &QComboBox::currentIndexChanged, this,
          [this] { showFieldsOf(profile::ProfileTask(task_->currentData().toInt())); });
  connect(generate_, &QPushButton::clicked, this, &TaskPromptForm::generateRequested);
  showFieldsOf(profile::ProfileTask::Needle);
}

void TaskPromptForm::showFieldsOf(profile::ProfileTask task) {
  const bool needle = task == profile::ProfileTask::Needle;
  const bool placed = needle || task == profile::ProfileTask::Passkey;
  const bool repeated = task == profile::ProfileTask::RepeatedTokens;
  depth_label_->setVisible(placed);
  depth_->setVisible(placed);
  needle_label_->setVisible(needle);
  needle_->setVisible(needle);
  copies_label_->setVisible(repeated);
  copies_->setVisible(repeated);
}

TaskFormValues TaskPromptForm::values() const {
  TaskFormValues v;
  v.task = profile::ProfileTask(task_->currentData().toInt());
  v.length = length_->value();
  v.depth = depth_->value() / 100.0;
  v.seed = uint64_t(seed_->value());
  v.needle = needle_->value() - 1;
  v.copies = copies_->value();
  return v;
}

void TaskPromptForm::setValues(const TaskFormValues& v) {
  const int index = task_->findData(int(v.task));
  if (index >= 0) task_->setCurrentIndex(index);
  length_->setValue(int(std::min<int64_t>(v.length, length_->maximum())));
  depth_->setValue(v.depth * 100.0);
  seed_->setValue(int(std::min<uint64_t>(v.seed, uint64_t(seed_->maximum()))));
  needle_->setValue(int(v.needle + 1));
  copies_->setValue(int(v.copies));
}

void TaskPromptForm::setMaxLength(int64_t tokens) {
  length_->setMaximum(int(std::clamp<int64_t>(tokens, 16, 1 << 30)));
}

void TaskPromptForm::setGenerateEnabled(bool enabled) { generate_->setEnabled(enabled); }

}  // namespace attnscope::views
