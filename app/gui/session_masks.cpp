// The session's mask lab: requests from the UI replace the ones still waiting (the
// latest wins), and an evaluation or sweep stops between layers once a newer one is asked
// for, so moving a budget slider never queues work behind it.
#include <QElapsedTimer>
#include <new>

#include "app/gui/session.h"
#include "app/gui/session_engine.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

namespace attnscope::gui {

runtime::Transformer& Session::Engine::maskModel(int64_t tokens) {
  if (device->target == model::ComputeTarget::Cpu) {
    // The run's own model: the windows it recomputes re-run their tokens from a reset cache.
    if (!transformer || transformer->max_context() < tokens)
      transformer = std::make_unique<runtime::Transformer>(*checkpoint, *device->backend, tokens);
    return *transformer;
  }
  if (!mask_backend) mask_backend = kernels::make_cpu_backend();
  if (!mask_transformer || mask_transformer->max_context() < tokens)
    mask_transformer = std::make_unique<runtime::Transformer>(*checkpoint, *mask_backend, tokens);
  return *mask_transformer;
}

void Session::evaluateMasks(MaskRequest request) {
  ++mask_serial_;  // what runs now stops at its next layer
  {
    std::lock_guard lock(mutex_);
    masks_ = std::move(request);
  }
  wake_.notify_all();
}

void Session::requestMaskOverlay(MaskOverlayRequest request) {
  {
    std::lock_guard lock(mutex_);
    overlay_ = std::move(request);
  }
  wake_.notify_all();
}

void Session::sweepMasks(SweepRequest request) {
  ++sweep_serial_;
  {
    std::lock_guard lock(mutex_);
    sweep_ = std::move(request);
  }
  wake_.notify_all();
}

void Session::cancelMasks() {
  ++mask_serial_;
  ++sweep_serial_;
  std::lock_guard lock(mutex_);
  masks_.reset();
  overlay_.reset();
  sweep_.reset();
}

const RunMaskLab* Session::maskLabFor(uint64_t run_id) {
  if (run_id != engine_->run_id || engine_->run_tokens.empty() || !engine_->checkpoint) return nullptr;
  if (!engine_->mask_lab || engine_->mask_lab->run_id() != run_id) {
    engine_->mask_lab.reset();
    const int64_t tokens = int64_t(engine_->run_tokens.size());
    toUi([this, tokens] { emit maskLabBusy(tr("recording every head of %1 tokens...").arg(tokens)); });
    runtime::Transformer& model = engine_->maskModel(tokens);
    engine_->mask_lab = std::make_unique<RunMaskLab>(model, engine_->run_tokens, run_id);
  }
  return engine_->mask_lab.get();
}

void Session::masksOnWorker(const MaskRequest& request, uint64_t serial) {
  const auto superseded = [this, serial] { return mask_serial_.load() != serial; };
  try {
    const RunMaskLab* lab = maskLabFor(request.run_id);
    if (!lab || superseded()) return;
    QElapsedTimer clock;
    clock.start();
    std::shared_ptr<const masks::MaskPlan> plan = request.plan;
    if (!plan) {
      if (!request.choice) return;
      const QString method = QString::fromStdString(request.choice->method);
      toUi([this, method] { emit maskLabBusy(tr("building the %1 plan from every head...").arg(method)); });
      plan = std::make_shared<const masks::MaskPlan>(lab->plan_of(*request.choice));
      if (superseded()) return;
    }
    toUi([this] { emit maskLabBusy(tr("evaluating every head...")); });
    auto heads = lab->evaluate(*plan, superseded);
    if (!heads) return;
    auto evaluation = std::make_shared<MaskEvaluation>();
    evaluation->run_id = request.run_id;
    evaluation->request = serial;
    evaluation->plan = plan;
    evaluation->choice = request.choice;
    evaluation->summary = masks::summarize(*heads);
    evaluation->heads = std::move(*heads);
    evaluation->seconds = double(clock.nsecsElapsed()) * 1e-9;
    std::shared_ptr<const MaskEvaluation> done = evaluation;
    toUi([this, done] { emit masksEvaluated(done); });
    if (!request.end_to_end || superseded()) return;
    toUi([this] { emit maskLabBusy(tr("end to end: the prompt under the plan...")); });
    masks::EndToEnd e2e = lab->end_to_end(engine_->maskModel(int64_t(lab->tokens().size())), *plan);
    if (superseded()) return;
    toUi([this, serial, e2e = std::move(e2e)] { emit masksEndToEnd(serial, e2e); });
  } catch (const std::bad_alloc&) {
    engine_->mask_lab.reset();
    toUi([this] { emit masksFailed(tr("mask lab: out of memory")); });
  } catch (const std::exception& e) {
    toUi([this, message = message_of(e)] { emit masksFailed(message); });
  }
}

void Session::overlayOnWorker(const MaskOverlayRequest& request) {
  try {
    const RunMaskLab* lab = maskLabFor(request.run_id);
    if (!lab) return;
    auto overlay = std::make_shared<MaskOverlay>();
    overlay->run_id = request.run_id;
    overlay->layer = request.layer;
    overlay->head = request.head;
    overlay->mask = masks::describe(request.mask);
    overlay->kept = std::make_shared<const kernels::KeptKeys>(lab->kept(request.layer, request.head, request.mask));
    std::shared_ptr<const MaskOverlay> done = overlay;
    toUi([this, done] { emit maskOverlayReady(done); });
  } catch (const std::bad_alloc&) {
    toUi([this] { emit masksFailed(tr("mask lab: out of memory")); });
  } catch (const std::exception& e) {
    toUi([this, message = message_of(e)] { emit masksFailed(message); });
  }
}

void Session::sweepOnWorker(const SweepRequest& request, uint64_t serial) {
  const auto superseded = [this, serial] { return sweep_serial_.load() != serial; };
  try {
    const RunMaskLab* lab = maskLabFor(request.run_id);
    if (!lab || superseded()) return;
    toUi([this] { emit maskLabBusy(tr("sweeping budgets...")); });
    auto curves = lab->sweep(
        request.families, request.densities,
        [this](int done, int total) { toUi([this, done, total] { emit sweepProgress(done, total); }); }, superseded);
    if (!curves) return;
    std::shared_ptr<const std::vector<SweepCurve>> done = std::make_shared<std::vector<SweepCurve>>(std::move(*curves));
    toUi([this, done] { emit sweepFinished(done); });
  } catch (const std::bad_alloc&) {
    engine_->mask_lab.reset();
    toUi([this] { emit masksFailed(tr("mask lab: out of memory")); });
  } catch (const std::exception& e) {
    toUi([this, message = message_of(e)] { emit masksFailed(message); });
  }
}

}  // namespace attnscope::gui
