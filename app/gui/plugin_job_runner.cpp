#include "app/gui/plugin_job_runner.h"

#include <QMetaObject>

#include "kernels/error.h"

namespace attnscope::gui {
namespace {

views::JobFieldKind field_kind(plugins::ParamType type) {
  switch (type) {
    case plugins::ParamType::Int: return views::JobFieldKind::Int;
    case plugins::ParamType::Float: return views::JobFieldKind::Float;
    case plugins::ParamType::String: return views::JobFieldKind::String;
    case plugins::ParamType::Bool: return views::JobFieldKind::Bool;
    case plugins::ParamType::List: return views::JobFieldKind::List;
  }
  return views::JobFieldKind::String;
}

QString text_of(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

views::JobFormSpec job_form_spec(const plugins::PluginCatalog::JobRef& job) {
  const plugins::PluginInfo& info = job.plugin->info();
  views::JobFormSpec spec;
  spec.name = text_of(job.qualified_name());
  spec.summary = text_of(job.job->summary);
  spec.plugin = text_of(info.name + " " + info.version + " (" + info.path.string() + ")");
  for (const plugins::ParameterInfo& p : job.job->parameters) {
    views::JobField f;
    f.name = text_of(p.name);
    f.kind = field_kind(p.type);
    f.type_text = text_of(p.type_text());
    f.help = text_of(p.help);
    if (p.default_text) {
      f.default_text = text_of(*p.default_text);
      // The check box shows a bool's default whichever of the accepted words the plugin used.
      if (p.type == plugins::ParamType::Bool)
        f.default_text = std::get<bool>(plugins::parse_parameter_value(p, *p.default_text, p.name)) ? "true" : "false";
    }
    spec.fields.push_back(std::move(f));
  }
  return spec;
}

views::JobFieldCheck job_field_check(const plugins::PluginCatalog::JobRef& job) {
  return [job](const views::JobField& field, const QString& text) -> QString {
    const plugins::ParameterInfo* p = job.job->find_parameter(field.name.toStdString());
    if (!p) return QObject::tr("the job has no such parameter");
    try {
      plugins::parse_parameter_value(*p, text.toStdString(), p->name);
      return {};
    } catch (const Error& e) {
      return QString::fromStdString(e.problem());
    }
  };
}

std::filesystem::path default_output_folder(const std::filesystem::path& database, const std::string& job,
                                            const QString& timestamp) {
  return database.parent_path() / "plugin-output" / (job + "-" + timestamp.toStdString());
}

std::string batch_command_line(const std::string& job, const std::vector<std::string>& assignments,
                               const plugins::JobEnvironment& environment) {
  const auto word = [](const std::string& text) {
    const bool plain = !text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                               "0123456789_./:=,+-@%") == std::string::npos;
    if (plain) return text;
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
  };
  std::string line = "attnscope-cli batch " + word(job);
  for (const std::string& a : assignments) line += " --param " + word(a);
  for (const auto& m : environment.models) line += " --model " + word(m.string());
  if (!environment.database.empty()) line += " --db " + word(environment.database.string());
  line += " --out " + word(environment.output_folder.string());
  if (environment.device.choice != host::DeviceChoice::Cpu)
    line += " --device " + std::string(host::device_choice_name(environment.device.choice));
  return line;
}

PluginJobRunner::PluginJobRunner(QObject* parent) : QObject(parent) {}

PluginJobRunner::~PluginJobRunner() {
  // Joins the worker before QObject's destructor drops the events it may still post.
  thread_.reset();
}

void PluginJobRunner::start(const plugins::PluginCatalog::JobRef& job, const std::vector<std::string>& assignments,
                            plugins::JobEnvironment environment) {
  if (thread_) throw Error(job.qualified_name(), "another plugin job (" + job_name_ + ") is running");
  plugins::JobParameters parameters = plugins::JobParameters::parse(job.qualified_name(), *job.job, assignments);
  plugins::JobCallbacks callbacks;
  callbacks.on_progress = [this](const plugins::JobProgress& p) {
    std::lock_guard lock(mutex_);
    const bool waiting = latest_.has_value();
    latest_ = p;
    if (waiting) return;  // the event already posted shows this newer report
    QMetaObject::invokeMethod(this, [this] {
      plugins::JobProgress shown;
      {
        std::lock_guard taken(mutex_);
        if (!latest_) return;
        shown = std::move(*latest_);
        latest_.reset();
      }
      emit progress(shown.fraction, text_of(shown.message), text_of(shown.detail));
    }, Qt::QueuedConnection);
  };
  callbacks.on_log = [this](plugins::LogLevel level, const std::string& message) {
    const QString name = text_of(std::string(plugins::log_level_name(level))), text = text_of(message);
    QMetaObject::invokeMethod(this, [this, name, text] { emit logLine(name, text); }, Qt::QueuedConnection);
  };
  {
    std::lock_guard lock(mutex_);
    latest_.reset();
  }
  job_name_ = job.qualified_name();
  thread_ = std::make_unique<plugins::JobThread>(
      job, std::move(parameters), std::move(environment), std::move(callbacks),
      [this] { QMetaObject::invokeMethod(this, [this] { onFinished(); }, Qt::QueuedConnection); });
}

void PluginJobRunner::cancel() {
  if (thread_) thread_->cancel();
}

void PluginJobRunner::onFinished() {
  if (!thread_) return;
  auto outcome = std::make_shared<plugins::JobOutcome>(thread_->wait());
  thread_.reset();
  {
    std::lock_guard lock(mutex_);
    latest_.reset();  // a report still waiting is older than the end
  }
  emit finished(outcome);
}

}  // namespace attnscope::gui
