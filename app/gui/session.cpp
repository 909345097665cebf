#include "app/gui/session.h"

#include <QElapsedTimer>
#include <algorithm>
#include <filesystem>
#include <new>

#include "analysis/runtime/attention_window.h"
#include "analysis/runtime/generation.h"
#include "app/gui/session_engine.h"
#include "kernels/error.h"
#ifdef ATTNSCOPE_HAS_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace attnscope::gui {

Session::Session(DeviceChoice device, QObject* parent)
    : QObject(parent), device_choice_(device), engine_(std::make_unique<Engine>()) {
  worker_ = std::thread([this] { workerLoop(); });
  post([this] {
    std::string note;
    try {
      engine_->device.emplace(open_compute_device(device_choice_));
      note = engine_->device->note;
    } catch (const std::exception& e) {
      engine_->device.emplace(open_compute_device(DeviceChoice::Cpu));
      note = std::string("the GPU cannot be used: ") + e.what();
    }
    const QString name = QString::fromStdString(engine_->device->name);
    toUi([this, name, note = QString::fromStdString(note)] { emit deviceReady(name, note); });
  });
}

Session::~Session() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_run_ = true;
  cancel_windows_ = true;
  cancel_profile_ = true;
  ++mask_serial_;
  ++sweep_serial_;
  wake_.notify_all();
  worker_.join();
}

void Session::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_all();
}

void Session::toUi(std::function<void()> f) { QMetaObject::invokeMethod(this, std::move(f), Qt::QueuedConnection); }

void Session::workerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty() || row_ || masks_ || overlay_ || sweep_ || tiles_; });
      if (stopping_) return;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      } else if (row_) {
        job = [this, r = *row_] { rowOnWorker(r); };
        row_.reset();
      } else if (masks_) {
        job = [this, r = *masks_, serial = mask_serial_.load()] { masksOnWorker(r, serial); };
        masks_.reset();
      } else if (overlay_) {
        job = [this, r = *overlay_] { overlayOnWorker(r); };
        overlay_.reset();
      } else if (sweep_) {
        job = [this, r = *sweep_, serial = sweep_serial_.load()] { sweepOnWorker(r, serial); };
        sweep_.reset();
      } else {
        // The nearest tiles first (the canvas sorts them); the rest wait for the next turn.
        TileRequest part = *tiles_;
        const size_t take = std::min(part.tiles.size(), kTilesPerRecompute);
        part.tiles.resize(take);
        tiles_->tiles.erase(tiles_->tiles.begin(), tiles_->tiles.begin() + long(take));
        if (tiles_->tiles.empty()) tiles_.reset();
        job = [this, part = std::move(part)] { tilesOnWorker(part); };
      }
    }
    job();
    reportDeviceMemory();
  }
}

void Session::openModel(const QString& directory) {
  post([this, directory] { openOnWorker(directory); });
}

void Session::run(const RunInput& input, const RunSettings& settings) {
  if (running_ || profiling_) return;
  running_ = true;
  cancel_run_ = false;
  cancel_windows_ = true;  // windows of the previous run stop
  {
    std::lock_guard lock(mutex_);
    tiles_.reset();
    row_.reset();
  }
  cancelMasks();  // the mask lab's run is replaced
  const uint64_t id = next_run_id_++;
  emit runStarted();
  post([this, input, settings, id] { runOnWorker(input, settings, id); });
}

void Session::cancelRun() { cancel_run_ = true; }

void Session::requestTiles(TileRequest request) {
  {
    std::lock_guard lock(mutex_);
    if (request.tiles.empty())
      tiles_.reset();
    else
      tiles_ = std::move(request);
  }
  wake_.notify_all();
}

void Session::requestRow(uint64_t run_id, int layer, int head, int64_t query) {
  {
    std::lock_guard lock(mutex_);
    row_ = RowRequest{run_id, layer, head, query};
  }
  wake_.notify_all();
}

void Session::openOnWorker(const QString& directory) {
  try {
    const std::filesystem::path dir = directory.toStdString();
    auto checkpoint = model::Checkpoint::open(dir);
    auto tok = std::make_shared<const tokenizer::Tokenizer>(tokenizer::load_model_tokenizer(dir, checkpoint.spec().vocab_size));
    engine_->mask_lab.reset();
    engine_->mask_transformer.reset();
    engine_->transformer.reset();
    engine_->checkpoint.reset();
    engine_->checkpoint.emplace(std::move(checkpoint));
    engine_->tokenizer = tok;
    engine_->run_id = 0;
    engine_->run_tokens.clear();

    auto loaded = std::make_shared<LoadedModel>();
    const model::Checkpoint& c = *engine_->checkpoint;
    loaded->facts.directory = directory;
    loaded->facts.spec = c.spec();
    loaded->facts.parameters = c.parameter_count();
    loaded->facts.stored_bytes = c.stored_bytes();
    loaded->facts.stored_dtype = c.stored_dtype();
    loaded->facts.tensors = int64_t(c.tensors().size());
    loaded->facts.device = QString::fromStdString(engine_->device->name);
    loaded->facts.target = engine_->device->target;
    loaded->facts.prefill_chunk = default_prefill_chunk(engine_->device->target);
    loaded->tokenizer = tok;
    toUi([this, loaded] {
      model_ = loaded;
      last_run_.reset();
      emit modelOpened(loaded);
    });
  } catch (const std::exception& e) {
    toUi([this, directory, message = message_of(e)] { emit modelFailed(directory, message); });
  }
}

void Session::runOnWorker(const RunInput& input, const RunSettings& settings, uint64_t id) {
  cancel_windows_ = false;
  try {
    if (!engine_->checkpoint) throw Error("run", "no model is open");
    const model::ModelSpec& spec = engine_->checkpoint->spec();
    const ComputeDevice& device = *engine_->device;
    auto run = std::make_shared<RunResult>();
    run->id = id;
    run->task = input.task;
    if (input.task) {
      run->prompt_text = input.task->text;
      run->prompt = input.task->ids;
    } else {
      run->prompt_text = input.text.toStdString();
      run->prompt = engine_->tokenizer->encode(run->prompt_text, true);
    }
    if (run->prompt.empty()) throw Error("prompt", "the prompt is empty (it encodes to no tokens)");
    const int64_t needed = int64_t(run->prompt.size()) + settings.generate;
    if (needed > spec.max_position_embeddings)
      throw Error("prompt", "the prompt has " + std::to_string(run->prompt.size()) + " tokens" +
                                (settings.generate ? " plus " + std::to_string(settings.generate) + " to generate" : "") +
                                ", more than the model's context of " +
                                std::to_string(spec.max_position_embeddings) + " tokens");

    const int64_t heads = int64_t(spec.num_layers) * spec.num_heads;
    capture::CaptureRequest request;  // every layer and head
    request.options = run_capture_options(settings, heads, needed);
    run->capture = std::make_unique<capture::Capture>(request, spec);

    runtime::GenerationOptions g;
    g.max_new_tokens = settings.generate;
    g.prefill_chunk = default_prefill_chunk(device.target);
    g.cancel = &cancel_run_;
    g.on_progress = [this](const runtime::Progress& p) {
      toUi([this, p] { emit runProgress(p.done, p.total, p.decoding); });
    };
    model::MemoryEstimateOptions memory;
    memory.context_length = needed;
    memory.target = device.target;
    memory.prefill_chunk = g.prefill_chunk;
    memory.captured_heads = heads;
    memory.capture = request.options;
    check_run_fits(device, spec, memory);

    if (!engine_->transformer || engine_->transformer->max_context() < needed) {
      engine_->transformer.reset();
      engine_->transformer = std::make_unique<runtime::Transformer>(*engine_->checkpoint, *device.backend, needed);
    }
    QElapsedTimer clock;
    clock.start();
    const runtime::GenerationResult result = runtime::generate_greedy(*engine_->transformer, run->prompt,
                                                                      run->capture.get(), g);
    if (result.cancelled) throw Error("run", "cancelled");
    run->seconds = double(clock.nsecsElapsed()) * 1e-9;
    run->continuation = result.continuation;
    run->continuation_text = engine_->tokenizer->decode(result.continuation, false);
    const int64_t rows = run->capture->heads().front().rows;
    run->tokens = run->prompt;
    for (int64_t i = int64_t(run->prompt.size()); i < rows; ++i)
      run->tokens.push_back(run->continuation[size_t(i - int64_t(run->prompt.size()))]);
    for (int32_t t : run->tokens) run->pieces.push_back(engine_->tokenizer->decode(std::span(&t, 1), false));
    run->summaries = run->capture->summaries();

    engine_->run_id = id;
    engine_->run_tokens = run->tokens;
    engine_->dropMaskLab();
    engine_->run_options = request.options;
    std::shared_ptr<const RunResult> done = run;
    toUi([this, done] {
      running_ = false;
      last_run_ = done;
      emit runFinished(done);
    });
  } catch (const std::bad_alloc&) {
    toUi([this] {
      running_ = false;
      emit runFailed(tr("run: out of memory"));
    });
  } catch (const std::exception& e) {
    toUi([this, message = message_of(e)] {
      running_ = false;
      emit runFailed(message);
    });
  }
}

void Session::tilesOnWorker(TileRequest request) {
  if (request.run_id != engine_->run_id || engine_->run_tokens.empty()) return;  // another run since
  const int64_t rows = int64_t(engine_->run_tokens.size());
  runtime::WindowRequest windows;
  windows.layer = request.layer;
  windows.head = request.head;
  windows.options = engine_->run_options;
  windows.prefill_chunk = default_prefill_chunk(engine_->device->target);
  windows.cancel = &cancel_windows_;
  for (const auto& tile : request.tiles) {
    const views::TileSpan s = views::tile_span(tile, request.tile_tokens, rows);
    windows.windows.push_back({s.query_begin, s.query_end, s.key_begin, s.key_end});
  }
  try {
    const uint64_t bytes = runtime::recompute_bytes(windows.windows);
    if (bytes > kRecomputeBudgetBytes)
      throw Error("exact probabilities", "recomputing rows up to " + std::to_string(rows) + " would hold " +
                                             model::format_bytes(bytes) + " for one head; pooled means are shown");
    auto result = runtime::recompute_windows(engine_->runModel(), engine_->run_tokens, windows);
    if (!result) return;
    std::vector<views::ExactTile> tiles;
    for (size_t i = 0; i < result->size(); ++i) {
      const auto& w = (*result)[i];
      const views::ProbabilityWindow window{w.window.query_begin, w.window.query_end, w.window.key_begin,
                                            w.window.key_end, w.values};
      if (auto tile = views::tile_from_window(window, request.tiles[i], request.tile_tokens, rows))
        tiles.push_back(std::move(*tile));
    }
    toUi([this, request, tiles = std::move(tiles)]() mutable {
      emit tilesReady(request.run_id, request.layer, request.head, std::move(tiles));
    });
  } catch (const std::exception& e) {
    toUi([this, request, message = message_of(e)] {
      emit windowFailed(request.run_id, request.layer, request.head, message);
    });
  }
}

void Session::rowOnWorker(const RowRequest& request) {
  if (request.run_id != engine_->run_id || engine_->run_tokens.empty()) return;
  runtime::WindowRequest windows;
  windows.layer = request.layer;
  windows.head = request.head;
  windows.options = engine_->run_options;
  windows.prefill_chunk = default_prefill_chunk(engine_->device->target);
  windows.cancel = &cancel_windows_;
  windows.windows = {{request.query, request.query + 1, 0, request.query + 1}};
  try {
    const uint64_t bytes = runtime::recompute_bytes(windows.windows);
    if (bytes > kRecomputeBudgetBytes)
      throw Error("exact probabilities", "recomputing row " + std::to_string(request.query) + " would hold " +
                                             model::format_bytes(bytes) + " for one head");
    auto result = runtime::recompute_windows(engine_->runModel(), engine_->run_tokens, windows);
    if (!result) return;
    toUi([this, request, values = std::move(result->front().values)]() mutable {
      emit rowReady(request.run_id, request.layer, request.head, request.query, std::move(values));
    });
  } catch (const std::exception& e) {
    toUi([this, request, message = message_of(e)] {
      emit windowFailed(request.run_id, request.layer, request.head, message);
    });
  }
}

void Session::reportDeviceMemory() {
#ifdef ATTNSCOPE_HAS_CUDA
  if (engine_->device && engine_->device->target == model::ComputeTarget::Cuda) {
    const auto info = kernels::cuda_memory_info(*engine_->device->backend);
    toUi([this, used = quint64(info.backend_used)] { emit deviceMemory(used); });
  }
#endif
}

}  // namespace attnscope::gui
