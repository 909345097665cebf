#include "views/prompt_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "views/task_prompt_form.h"
#include "views/token_table_model.h"

namespace attnscope::views {

PromptView::PromptView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  task_form_ = new TaskPromptForm(this);
  task_form_->setObjectName("taskForm");
  layout->addWidget(task_form_);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* text_box = new QWidget(splitter);
  auto* text_layout = new QVBoxLayout(text_box);
  text_layout->setContentsMargins(0, 0, 0, 0);
  editor_ = new QPlainTextEdit(text_box);
  editor_->setObjectName("promptText");
  editor_->setPlaceholderText(tr("Type a prompt, open a text file, or generate a task."));
  text_layout->addWidget(editor_, 1);
  task_label_ = new QLabel(text_box);
  task_label_->setObjectName("taskDescription");
  task_label_->setWordWrap(true);
  task_label_->setVisible(false);
  text_layout->addWidget(task_label_);
  auto* tokens_box = new QWidget(splitter);
  auto* tokens_layout = new QVBoxLayout(tokens_box);
  tokens_layout->setContentsMargins(0, 0, 0, 0);
  count_ = new QLabel(tokens_box);
  count_->setObjectName("tokenCount");
  tokens_layout->addWidget(count_);
  table_ = new QTableView(tokens_box);
  tokens_ = new TokenTableModel(table_);
  table_->setModel(tokens_);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->setDefaultSectionSize(18);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  tokens_layout->addWidget(table_);
  splitter->addWidget(text_box);
  splitter->addWidget(tokens_box);
  layout->addWidget(splitter, 1);

  auto* options = new QHBoxLayout;
  auto* open = new QPushButton(tr("Open text file..."), this);
  options->addWidget(new QLabel(tr("Generate"), this));
  generate_ = new QSpinBox(this);
  generate_->setObjectName("generateTokens");
  generate_->setRange(0, 4096);
  generate_->setSuffix(tr(" tokens"));
  options->addWidget(generate_);
  options->addWidget(new QLabel(tr("Exact rows"), this));
  exact_ = new QSpinBox(this);
  exact_->setObjectName("exactLimit");
  exact_->setRange(0, 1 << 20);
  exact_->setSpecialValueText(tr("auto"));
  exact_->setToolTip(tr("Query rows whose exact probabilities the capture keeps; rows past them are recomputed "
                        "when you zoom in. Auto keeps as many as fit in 512 MiB over all heads."));
  options->addWidget(exact_);
  options->addStretch(1);
  layout->addLayout(options);
  auto* actions = new QHBoxLayout;
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("runButton");
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName("cancelButton");
  actions->addWidget(open);
  actions->addStretch(1);
  actions->addWidget(run_);
  actions->addWidget(cancel_);
  layout->addLayout(actions);

  settle_.setSingleShot(true);
  settle_.setInterval(250);
  connect(&settle_, &QTimer::timeout, this, [this] { emit textChanged(text()); });
  connect(editor_, &QPlainTextEdit::textChanged, this, [this] {
    if (has_task_ && editor_->toPlainText() != task_text_) dropTask();
    settle_.start();
  });
  connect(open, &QPushButton::clicked, this, &PromptView::openFileRequested);
  connect(generate_, &QSpinBox::valueChanged, this, &PromptView::runSettingsChanged);
  connect(exact_, &QSpinBox::valueChanged, this, &PromptView::runSettingsChanged);
  connect(run_, &QPushButton::clicked, this, &PromptView::runRequested);
  connect(cancel_, &QPushButton::clicked, this, &PromptView::cancelRequested);
  setRunning(false);
  setTokens({});
}

QString PromptView::text() const { return editor_->toPlainText(); }

void PromptView::setText(const QString& text) {
  editor_->setPlainText(text);  // drops a task whose text this is not
  settle_.stop();
  emit textChanged(text);
}

void PromptView::setTaskPrompt(const QString& text, const QString& description) {
  task_text_ = text;
  has_task_ = true;
  task_label_->setText(description);
  task_label_->setStyleSheet({});
  task_label_->setVisible(true);
  editor_->setPlainText(text);
  settle_.stop();
  emit textChanged(text);
}

void PromptView::setTaskMessage(const QString& message) {
  task_label_->setText(message);
  task_label_->setStyleSheet(QStringLiteral("color: #c0392b"));
  task_label_->setVisible(!message.isEmpty());
}

void PromptView::dropTask() {
  has_task_ = false;
  task_text_.clear();
  task_label_->setVisible(false);
  emit taskDropped();
}

int64_t PromptView::generateTokens() const { return generate_->value(); }
void PromptView::setGenerateTokens(int64_t count) { generate_->setValue(int(count)); }
int64_t PromptView::exactLimit() const { return exact_->value(); }
void PromptView::setExactLimit(int64_t rows) { exact_->setValue(int(rows)); }

void PromptView::setTokens(std::vector<PromptToken> tokens) {
  count_->setText(tr("%n token(s)", nullptr, int(tokens.size())));
  tokens_->setTokens(std::move(tokens));
}

void PromptView::setTokenError(const QString& message) {
  count_->setText(message);
  tokens_->setTokens({});
}

int64_t PromptView::tokenCount() const { return int64_t(tokens_->tokens().size()); }

void PromptView::setRunning(bool running) {
  running_ = running;
  run_->setEnabled(!running && run_enabled_);
  cancel_->setEnabled(running);
  task_form_->setGenerateEnabled(run_enabled_);
}

void PromptView::setRunEnabled(bool enabled) {
  run_enabled_ = enabled;
  setRunning(running_);
}

}  // namespace attnscope::views
