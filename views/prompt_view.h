#pragma once
// The prompt panel: free text, a text file's contents or a generated task (needle,
// passkey, repeated tokens: TaskPromptForm), the run's options (tokens to generate, exact
// rows kept), Run and Cancel, and the prompt's tokens (count, ids and texts). A generated
// prompt stays the task (its ids run as they are) until its text is edited.
#include <QString>
#include <QTimer>
#include <QWidget>
#include <cstdint>
#include <string>
#include <vector>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace attnscope::views {

class TaskPromptForm;
class TokenTableModel;

struct PromptToken {
  int32_t id = 0;
  std::string text;  // the token decoded on its own
};

class PromptView : public QWidget {
  Q_OBJECT

 public:
  explicit PromptView(QWidget* parent = nullptr);

  QString text() const;
  void setText(const QString& text);
  int64_t generateTokens() const;
  void setGenerateTokens(int64_t count);
  // Exact probability rows the capture keeps (0: automatic, by the memory they take).
  int64_t exactLimit() const;
  void setExactLimit(int64_t rows);

  void setTokens(std::vector<PromptToken> tokens);
  void setTokenError(const QString& message);
  int64_t tokenCount() const;
  void setRunning(bool running);
  void setRunEnabled(bool enabled);

  TaskPromptForm* taskForm() const { return task_form_; }
  // Shows a generated prompt: its text in the editor and `description` below it.
  void setTaskPrompt(const QString& text, const QString& description);
  bool hasTaskPrompt() const { return has_task_; }
  void setTaskMessage(const QString& message);

 signals:
  // The text settled after an edit (debounced), or was replaced.
  void textChanged(const QString& text);
  void runRequested();
  // Tokens to generate or exact rows changed.
  void runSettingsChanged();
  void cancelRequested();
  void openFileRequested();
  // The text no longer is the generated task's (edited or replaced).
  void taskDropped();

 private:
  void dropTask();

  QPlainTextEdit* editor_ = nullptr;
  TaskPromptForm* task_form_ = nullptr;
  QLabel* task_label_ = nullptr;
  QString task_text_;
  bool has_task_ = false;
  QSpinBox* generate_ = nullptr;
  QSpinBox* exact_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QLabel* count_ = nullptr;
  QTableView* table_ = nullptr;
  TokenTableModel* tokens_ = nullptr;
  QTimer settle_;
  bool running_ = false;
  bool run_enabled_ = false;
};

}  // namespace attnscope::views
