#pragma once
// The session's worker-side state (session.cpp, session_masks.cpp, session_profile.cpp):
// only the worker thread touches it.
#include <QString>
#include <memory>
#include <optional>
#include <vector>

#include "analysis/model/checkpoint.h"
#include "analysis/runtime/transformer.h"
#include "app/gui/run_mask_lab.h"
#include "app/gui/session.h"

namespace attnscope::gui {

// Declared in this order so that transformers go before the checkpoint and the backends
// their tensors live on (destruction runs bottom up).
struct Session::Engine {
  std::optional<ComputeDevice> device;
  std::optional<model::Checkpoint> checkpoint;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<runtime::Transformer> transformer;
  uint64_t run_id = 0;                // the run whose tokens the windows recompute
  std::vector<int32_t> run_tokens;
  kernels::CaptureOptions run_options;
  // The mask lab runs plans through Selected rules, which only the CPU backend applies:
  // on a GPU it has a CPU model of its own.
  std::unique_ptr<kernels::Backend> mask_backend;
  std::unique_ptr<runtime::Transformer> mask_transformer;
  std::unique_ptr<RunMaskLab> mask_lab;

  // The model of the last run's windows, rebuilt when a profile job took its memory.
  runtime::Transformer& runModel() {
    if (!transformer) transformer = std::make_unique<runtime::Transformer>(*checkpoint, *device->backend,
                                                                         int64_t(run_tokens.size()));
    return *transformer;
  }
  // The model the mask lab records and runs plans on, for `tokens` rows.
  runtime::Transformer& maskModel(int64_t tokens);
  // Drops the mask lab and its model (a new checkpoint, or a new run).
  void dropMaskLab() { mask_lab.reset(); }
};

// What the user reads for a failure: the engine's message (file, tensor, what is wrong).
inline QString message_of(const std::exception& e) { return QString::fromStdString(e.what()); }

}  // namespace attnscope::gui
