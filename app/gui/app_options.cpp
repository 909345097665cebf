#include "app/gui/app_options.h"

#include <QCommandLineParser>

#include "kernels/error.h"

namespace attnscope::gui {
namespace {

int64_t parse_count(const QString& text, const char* option) {
  bool ok = false;
  const qlonglong v = text.toLongLong(&ok);
  if (!ok || v < 0) throw Error(std::string("--") + option, "'" + text.toStdString() + "' is not a count (0 or more)");
  return v;
}

}  // namespace

AppOptions parse_app_options(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "AttnScope: explore the attention of language models. Without a display, use attnscope-cli.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({
      {"model", "Open the checkpoint directory DIR.", "DIR"},
      {"device", "Compute on auto (a GPU when one can be used), cpu or cuda.", "DEVICE"},
      {"run-prompt", "Set the prompt to TEXT and run it once the model is open.", "TEXT"},
      {"run-prompt-file", "Set the prompt to the text of FILE and run it once the model is open.", "FILE"},
      {"generate", "Tokens to generate after the prompt.", "N"},
      {"exact-limit", "Exact probability rows the capture keeps (0: automatic).", "N"},
      {"head", "Show layer L, head H after the run.", "L,H"},
      {"screenshot", "After the run, save PNG screenshots of the views into DIR and quit.", "DIR"},
      {"size", "Window size in pixels.", "WxH"},
      {"fresh", "Start from the default layout and settings."},
      {"db", "The store profile runs go to and History reads (default: the user's store).", "FILE"},
  });
  parser.process(arguments);

  AppOptions o;
  o.model = parser.value("model");
  if (parser.isSet("device")) o.device = parse_device_choice(parser.value("device").toStdString());
  o.run_prompt = parser.value("run-prompt");
  o.run_prompt_file = parser.value("run-prompt-file");
  if (!o.run_prompt.isEmpty() && !o.run_prompt_file.isEmpty())
    throw Error("--run-prompt", "give --run-prompt or --run-prompt-file, not both");
  if (parser.isSet("generate")) o.generate = parse_count(parser.value("generate"), "generate");
  if (parser.isSet("exact-limit")) o.exact_limit = parse_count(parser.value("exact-limit"), "exact-limit");
  if (parser.isSet("head")) {
    const QStringList parts = parser.value("head").split(',');
    bool ok_l = false, ok_h = false;
    const int l = parts.size() == 2 ? parts[0].toInt(&ok_l) : -1;
    const int h = parts.size() == 2 ? parts[1].toInt(&ok_h) : -1;
    if (!ok_l || !ok_h || l < 0 || h < 0)
      throw Error("--head", "'" + parser.value("head").toStdString() + "' is not LAYER,HEAD (e.g. 7,2)");
    o.head = {l, h};
  }
  o.screenshot_dir = parser.value("screenshot");
  if (!o.screenshot_dir.isEmpty() && o.run_prompt.isEmpty() && o.run_prompt_file.isEmpty())
    throw Error("--screenshot", "needs a run: give --run-prompt or --run-prompt-file");
  if (parser.isSet("size")) {
    const QStringList parts = parser.value("size").split('x');
    bool ok_w = false, ok_h = false;
    const int w = parts.size() == 2 ? parts[0].toInt(&ok_w) : 0;
    const int h = parts.size() == 2 ? parts[1].toInt(&ok_h) : 0;
    if (!ok_w || !ok_h || w < 320 || h < 240)
      throw Error("--size", "'" + parser.value("size").toStdString() + "' is not WIDTHxHEIGHT of at least 320x240");
    o.size = QSize(w, h);
  }
  o.fresh = parser.isSet("fresh");
  o.database = parser.value("db");
  return o;
}

}  // namespace attnscope::gui
