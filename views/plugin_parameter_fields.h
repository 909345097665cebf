#pragma once
// The typed parameters of a plugin job as form fields: one row per parameter with its
// name and type, a check box for a bool and a line of text for the others (an int may be
// "4k", a list is comma-separated, as on the command line), the default filled in, the
// plugin's help as the tooltip. A required bool starts neither checked nor unchecked
// (not given) until the user chooses. Each text is checked as it is edited by the check the app
// gives (the plugin host's own parser), so the form refuses exactly what
// `attnscope-cli batch --param` refuses; a refused field is marked and says why.
#include <QString>
#include <QWidget>
#include <functional>
#include <optional>
#include <vector>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;

namespace attnscope::views {

enum class JobFieldKind { Int, Float, String, Bool, List };

// One parameter as the plugin declares it (docs/plugins.md).
struct JobField {
  QString name;
  JobFieldKind kind = JobFieldKind::String;
  QString type_text;                    // "int", "list of float": the host's words
  std::optional<QString> default_text;  // none: the parameter is required; a bool's is "true" or "false"
  QString help;
};

// Why `text` is not a value of `field`, in the host's words; empty when it is one.
using JobFieldCheck = std::function<QString(const JobField& field, const QString& text)>;

class PluginParameterFields : public QWidget {
  Q_OBJECT

 public:
  explicit PluginParameterFields(QWidget* parent = nullptr);

  // Replaces the rows with `fields`, each at its default.
  void setFields(std::vector<JobField> fields, JobFieldCheck check);
  const std::vector<JobField>& fields() const { return fields_; }

  // The field's editor (objectName "param_NAME"): a QCheckBox for a bool, else a QLineEdit.
  QWidget* editor(const QString& name) const;
  // Sets a field from text ("true"/"false" for a bool) and checks it.
  void setText(const QString& name, const QString& text);
  QString text(const QString& name) const;
  // Every field back at its default.
  void resetToDefaults();

  // The fields as "name=value", as --param takes them: every field with a text, and an
  // empty one only where the parameter has a default (an empty list, an empty string);
  // a required field left empty is left out, so that the host names it as missing.
  std::vector<QString> assignments() const;
  // The problems of the fields (each "name: why"); empty when every field checks.
  QStringList problems() const;

 signals:
  void edited();  // a field changed (its check shown)

 private:
  struct Row {
    QLabel* label = nullptr;
    QLineEdit* line = nullptr;  // every kind but Bool
    QCheckBox* box = nullptr;   // Bool
    QLabel* problem = nullptr;
  };
  void checkRow(size_t index);

  QFormLayout* layout_ = nullptr;
  QLabel* empty_ = nullptr;
  std::vector<JobField> fields_;
  std::vector<Row> rows_;
  JobFieldCheck check_;
};

}  // namespace attnscope::views
