#include "views/plugin_parameter_fields.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QVBoxLayout>

namespace attnscope::views {
namespace {

const char* const kProblemStyle = "color: #c0392b";
const char* const kRefusedStyle = "QLineEdit { border: 1px solid #c0392b; }";

QString tooltip_of(const JobField& f) {
  QString tip = f.help.isEmpty() ? f.name : f.help;
  tip += "\n" + QObject::tr("type: %1").arg(f.type_text);
  if (f.kind == JobFieldKind::List) tip += QObject::tr(" (comma-separated; empty: an empty list)");
  if (f.kind == JobFieldKind::Int) tip += QObject::tr(" (k = x1024: 4k)");
  tip += "\n" + (f.default_text ? QObject::tr("default: %1").arg(f.default_text->isEmpty() ? "\"\"" : *f.default_text)
                                : QObject::tr("required"));
  return tip;
}

QString placeholder_of(const JobField& f) {
  if (!f.default_text) return QObject::tr("required");
  if (f.default_text->isEmpty()) return f.kind == JobFieldKind::List ? QObject::tr("empty list") : QObject::tr("empty");
  return {};
}

}  // namespace

PluginParameterFields::PluginParameterFields(QWidget* parent) : QWidget(parent) {
  layout_ = new QFormLayout(this);
  layout_->setContentsMargins(0, 0, 0, 0);
  layout_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  empty_ = new QLabel(tr("This job has no parameters."), this);
  layout_->addRow(empty_);
}

void PluginParameterFields::setFields(std::vector<JobField> fields, JobFieldCheck check) {
  while (layout_->rowCount() > 1) layout_->removeRow(1);  // row 0: the "no parameters" note
  rows_.clear();
  fields_ = std::move(fields);
  check_ = std::move(check);
  empty_->setVisible(fields_.empty());
  for (size_t i = 0; i < fields_.size(); ++i) {
    const JobField& f = fields_[i];
    Row row;
    row.label = new QLabel(QStringLiteral("%1 <span style=\"color: gray\">(%2)</span>").arg(f.name, f.type_text), this);
    row.label->setToolTip(tooltip_of(f));
    QWidget* editor = nullptr;
    if (f.kind == JobFieldKind::Bool) {
      row.box = new QCheckBox(f.help, this);
      row.box->setTristate(!f.default_text);  // required: "not given" until chosen
      connect(row.box, &QCheckBox::stateChanged, this, [this, i] {
        checkRow(i);
        emit edited();
      });
      editor = row.box;
    } else {
      row.line = new QLineEdit(this);
      row.line->setPlaceholderText(placeholder_of(f));
      connect(row.line, &QLineEdit::textChanged, this, [this, i] {
        checkRow(i);
        emit edited();
      });
      editor = row.line;
    }
    editor->setObjectName("param_" + f.name);
    editor->setToolTip(tooltip_of(f));
    row.problem = new QLabel(this);
    row.problem->setObjectName("problem_" + f.name);
    row.problem->setStyleSheet(kProblemStyle);
    row.problem->setWordWrap(true);
    row.problem->setVisible(false);
    auto* cell = new QWidget(this);
    auto* cell_layout = new QVBoxLayout(cell);
    cell_layout->setContentsMargins(0, 0, 0, 0);
    cell_layout->setSpacing(1);
    cell_layout->addWidget(editor);
    cell_layout->addWidget(row.problem);
    layout_->addRow(row.label, cell);
    rows_.push_back(row);
  }
  resetToDefaults();
}

QWidget* PluginParameterFields::editor(const QString& name) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return rows_[i].box ? static_cast<QWidget*>(rows_[i].box) : rows_[i].line;
  return nullptr;
}

void PluginParameterFields::setText(const QString& name, const QString& text) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != name) continue;
    if (rows_[i].box)
      rows_[i].box->setCheckState(text == "true" ? Qt::Checked : text == "false" ? Qt::Unchecked : Qt::PartiallyChecked);
    else
      rows_[i].line->setText(text);
    checkRow(i);
  }
}

QString PluginParameterFields::text(const QString& name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != name) continue;
    if (!rows_[i].box) return rows_[i].line->text();
    const Qt::CheckState state = rows_[i].box->checkState();
    return state == Qt::Checked ? "true" : state == Qt::Unchecked ? "false" : QString();
  }
  return {};
}

void PluginParameterFields::resetToDefaults() {
  for (const JobField& f : fields_) setText(f.name, f.default_text.value_or(QString()));
}

std::vector<QString> PluginParameterFields::assignments() const {
  std::vector<QString> out;
  for (const JobField& f : fields_) {
    const QString value = text(f.name);
    if (value.isEmpty() && !f.default_text) continue;
    out.push_back(f.name + "=" + value);
  }
  return out;
}

QStringList PluginParameterFields::problems() const {
  QStringList out;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const QString value = text(fields_[i].name);
    if (value.isEmpty() && !fields_[i].default_text) {
      out << tr("%1: required").arg(fields_[i].name);
      continue;
    }
    const QString why = check_ ? check_(fields_[i], value) : QString();
    if (!why.isEmpty()) out << fields_[i].name + ": " + why;
  }
  return out;
}

void PluginParameterFields::checkRow(size_t index) {
  Row& row = rows_[index];
  const JobField& f = fields_[index];
  const QString value = text(f.name);
  // A required field not given yet is not an error until Run: the placeholder says so.
  const QString why = value.isEmpty() && !f.default_text ? QString() : check_ ? check_(f, value) : QString();
  row.problem->setText(why);
  row.problem->setVisible(!why.isEmpty());
  if (row.line) row.line->setStyleSheet(why.isEmpty() ? QString() : QString(kRefusedStyle));
}

}  // namespace attnscope::views
