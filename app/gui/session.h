#pragma once
// The session owns the loaded model and runs the engine on one worker thread, so the
// window never waits: opening a checkpoint, a run (prefill, optional greedy generation,
// capture of every layer and head), exact probability windows recomputed for the map and
// the token view, generated task prompts, the mask lab (session_masks.cpp) and the
// profiling job (session_profile.cpp). Intents are called on the UI thread and return at
// once; results come back as signals on the UI thread. One run or profile job at a time,
// cancellable; mask lab requests replace the ones still waiting (the latest wins) and a
// superseded evaluation stops between layers. The model, the backend and the KV cache are
// touched only by the worker.
#include <QObject>
#include <QString>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "analysis/profile/profile_job.h"
#include "analysis/tasks/task_prompt.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/gui/compute_device.h"
#include "app/gui/mask_lab_requests.h"
#include "app/gui/run_result.h"
#include "app/gui/task_prompts.h"
#include "views/head_map.h"
#include "views/model_info_view.h"

namespace attnscope::gui {

struct LoadedModel {
  views::ModelFacts facts;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;  // immutable: the UI encodes with it too
};

struct TileRequest {
  uint64_t run_id = 0;
  int layer = 0, head = 0;
  int64_t tile_tokens = 128;
  std::vector<views::TileKey> tiles;
};

// What a run reads: free text (encoded with the model's tokenizer), or a generated task
// prompt whose ids run as they are (repeated random tokens do not survive a re-encoding).
struct RunInput {
  QString text;
  std::shared_ptr<const tasks::TaskPrompt> task;
};

// A finished profiling job: the engine's result and the store it was written to.
struct ProfileOutcome {
  profile::ProfileJobResult result;
  QString database;
  double seconds = 0;
};

class Session : public QObject {
  Q_OBJECT

 public:
  // Tiles recomputed together (one prefill serves them all).
  static constexpr size_t kTilesPerRecompute = 64;
  // Largest recompute a request may cost (its packed exact rows for one head).
  static constexpr uint64_t kRecomputeBudgetBytes = uint64_t(2) << 30;

  explicit Session(DeviceChoice device, QObject* parent = nullptr);
  ~Session() override;  // cancels what runs and joins the worker

  void openModel(const QString& directory);
  void run(const QString& text, const RunSettings& settings) { run(RunInput{text, nullptr}, settings); }
  void run(const RunInput& input, const RunSettings& settings);
  void cancelRun();
  // Replaces the tiles still waiting with `request` (a map only wants what is in view).
  void requestTiles(TileRequest request);
  // Row `query` of (layer, head): all its keys.
  void requestRow(uint64_t run_id, int layer, int head, int64_t query);
  // A generated prompt from the bundled prompts in `prompts_dir` (task_prompts.h).
  void makeTaskPrompt(const TaskChoice& choice, const QString& prompts_dir);

  // Mask lab on the last run (recorded on first use). Each call replaces what waits.
  void evaluateMasks(MaskRequest request);
  void requestMaskOverlay(MaskOverlayRequest request);
  void sweepMasks(SweepRequest request);
  void cancelMasks();  // stops the evaluation and sweep under way and drops what waits

  // The profiling job (analysis/profile/profile_job.h) into the store at `database`.
  void runProfile(profile::ProfileJobSpec spec, const QString& database);
  void cancelProfile();

  bool running() const { return running_; }
  bool profiling() const { return profiling_; }
  // The device the session was asked for (plugin jobs open theirs the same way).
  DeviceChoice deviceChoice() const { return device_choice_; }
  std::shared_ptr<const LoadedModel> model() const { return model_; }
  std::shared_ptr<const RunResult> lastRun() const { return last_run_; }

 signals:
  void deviceReady(const QString& name, const QString& note);
  void modelOpened(std::shared_ptr<const attnscope::gui::LoadedModel> model);
  void modelFailed(const QString& directory, const QString& message);
  void runStarted();
  void runProgress(qint64 done, qint64 total, bool decoding);
  void runFinished(std::shared_ptr<const attnscope::gui::RunResult> run);
  void runFailed(const QString& message);
  void tilesReady(quint64 run_id, int layer, int head, std::vector<attnscope::views::ExactTile> tiles);
  void rowReady(quint64 run_id, int layer, int head, qint64 query, std::vector<float> values);
  void windowFailed(quint64 run_id, int layer, int head, const QString& message);
  void deviceMemory(quint64 bytes);  // GPU memory the backend holds (CUDA only), after each job
  void taskPromptReady(std::shared_ptr<const attnscope::tasks::TaskPrompt> prompt);
  void taskPromptFailed(const QString& message);

  void maskLabBusy(const QString& what);  // recording, evaluating, sweeping
  void masksEvaluated(std::shared_ptr<const attnscope::gui::MaskEvaluation> evaluation);
  void masksEndToEnd(quint64 request, attnscope::masks::EndToEnd result);
  void maskOverlayReady(std::shared_ptr<const attnscope::gui::MaskOverlay> overlay);
  void sweepProgress(int done, int total);
  void sweepFinished(std::shared_ptr<const std::vector<attnscope::gui::SweepCurve>> curves);
  void masksFailed(const QString& message);

  void profileStarted();
  void profileProgress(attnscope::profile::ProfileProgress progress);
  void profileFinished(std::shared_ptr<const attnscope::gui::ProfileOutcome> outcome);
  void profileFailed(const QString& message);

 private:
  struct Engine;
  struct RowRequest {
    uint64_t run_id = 0;
    int layer = 0, head = 0;
    int64_t query = 0;
  };

  void post(std::function<void()> job);
  void workerLoop();
  // Worker side.
  void openOnWorker(const QString& directory);
  void runOnWorker(const RunInput& input, const RunSettings& settings, uint64_t id);
  void tilesOnWorker(TileRequest request);
  void rowOnWorker(const RowRequest& request);
  void taskPromptOnWorker(const TaskChoice& choice, const QString& prompts_dir);
  void masksOnWorker(const MaskRequest& request, uint64_t serial);
  void overlayOnWorker(const MaskOverlayRequest& request);
  void sweepOnWorker(const SweepRequest& request, uint64_t serial);
  void profileOnWorker(const profile::ProfileJobSpec& spec, const QString& database);
  // The mask lab of `run_id`, recorded when missing; null when that run is not the last one.
  const RunMaskLab* maskLabFor(uint64_t run_id);
  void reportDeviceMemory();
  // Posts `f` to the UI thread.
  void toUi(std::function<void()> f);

  DeviceChoice device_choice_;
  std::unique_ptr<Engine> engine_;  // worker only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::optional<TileRequest> tiles_;
  std::optional<RowRequest> row_;
  std::optional<MaskRequest> masks_;
  std::optional<MaskOverlayRequest> overlay_;
  std::optional<SweepRequest> sweep_;
  bool stopping_ = false;
  std::atomic<bool> cancel_run_{false};
  std::atomic<bool> cancel_windows_{false};
  std::atomic<bool> cancel_profile_{false};
  // Serials of the latest mask evaluation and sweep asked for: work of an older one stops.
  std::atomic<uint64_t> mask_serial_{0};
  std::atomic<uint64_t> sweep_serial_{0};
  std::thread worker_;

  // UI side.
  bool running_ = false;
  bool profiling_ = false;
  uint64_t next_run_id_ = 1;
  std::shared_ptr<const LoadedModel> model_;
  std::shared_ptr<const RunResult> last_run_;
};

}  // namespace attnscope::gui
