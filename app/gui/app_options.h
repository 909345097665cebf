#pragma once
// The desktop app's command line. Without options it reopens the last model (the
// bundled sample model at first start). The run options drive it unattended, which is
// how tests/gui/screenshot_test.sh makes its screenshots.
#include <QSize>
#include <QString>
#include <QStringList>
#include <optional>

#include "app/gui/compute_device.h"

namespace attnscope::gui {

struct AppOptions {
  QString model;                 // --model DIR
  std::optional<DeviceChoice> device;  // --device auto|cpu|cuda (default: the saved choice, else auto)
  QString run_prompt;            // --run-prompt TEXT: set the prompt and run it once the model is open
  QString run_prompt_file;       // --run-prompt-file FILE: the same from a text file
  std::optional<int64_t> generate;     // --generate N
  std::optional<int64_t> exact_limit;  // --exact-limit N
  std::optional<std::pair<int, int>> head;  // --head L,H: the head shown after the run
  QString screenshot_dir;        // --screenshot DIR: after the run, save the views as PNG and quit
  std::optional<QSize> size;     // --size WxH: the window's size
  bool fresh = false;            // --fresh: ignore the saved layout and settings (they are still written)
  QString database;              // --db FILE: the store (default: the saved one, else the user's store)
};

// Parses `arguments` (argv as Qt has it, the program first). attnscope::Error naming the
// option for a bad value; --help and --version print and exit through QCommandLineParser.
AppOptions parse_app_options(const QStringList& arguments);

}  // namespace attnscope::gui
