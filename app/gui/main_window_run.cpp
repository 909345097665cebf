// MainWindow's side of the session: what the window does with each result, and the
// views' intents turned into session calls.
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <cmath>

#include "app/gui/main_window.h"
#include "app/gui/recent_models.h"
#include "app/gui/sample_model.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_metrics.h"
#include "views/head_grid_view.h"
#include "views/mask_lab_view.h"
#include "views/profile_job_form.h"
#include "views/model_info_view.h"
#include "views/prompt_view.h"
#include "views/task_prompt_form.h"
#include "views/token_text.h"
#include "views/token_view.h"

namespace attnscope::gui {
namespace {

RunSettings settings_of(const views::PromptView& prompt) {
  return RunSettings{prompt.generateTokens(), prompt.exactLimit()};
}

}  // namespace

void MainWindow::connectSession() {
  connect(session_, &Session::deviceReady, this, [this](const QString& name, const QString& note) {
    device_label_->setText(tr("device: %1").arg(name));
    if (!note.isEmpty()) statusBar()->showMessage(note, 10000);
  });
  connect(session_, &Session::modelOpened, this, &MainWindow::onModelOpened);
  connect(session_, &Session::modelFailed, this, [this](const QString& dir, const QString& message) {
    model_view_->clear(tr("Could not open %1").arg(dir));
    prompt_->setRunEnabled(session_->model() != nullptr);
    showError(tr("Open model"), message);
  });
  connect(session_, &Session::runStarted, this, [this] {
    prompt_->setRunning(true);
    profile_form_->setRunEnabled(false);
    showProgress(tr("starting"), 0, 0);
    statusBar()->showMessage(tr("Running..."));
  });
  connect(session_, &Session::runProgress, this, [this](qint64 done, qint64 total, bool decoding) {
    showProgress(decoding ? tr("generating %v/%m") : tr("prefill %v/%m"), done, total);
  });
  connect(session_, &Session::runFinished, this, &MainWindow::onRunFinished);
  connect(session_, &Session::runFailed, this, &MainWindow::onRunFailed);
  connect(session_, &Session::tilesReady, this,
          [this](quint64 run_id, int layer, int head, std::vector<views::ExactTile> tiles) {
            if (run_ && run_->id == run_id) map_->canvas()->addTiles(layer, head, std::move(tiles));
          });
  connect(session_, &Session::rowReady, this,
          [this](quint64 run_id, int layer, int head, qint64 query, std::vector<float> values) {
            if (!run_ || run_->id != run_id || layer != layer_ || head != head_ || query != tokens_->query()) return;
            std::vector<double> weights(size_t(run_->rows()), std::nan(""));
            for (size_t k = 0; k < values.size() && k < weights.size(); ++k) weights[k] = values[k];
            tokens_->setWeights(std::move(weights), tr("Attention query %1 gives (layer %2, head %3; recomputed)")
                                                        .arg(query).arg(layer).arg(head));
            emit tokenWeightsShown();
          });
  connect(session_, &Session::windowFailed, this, [this](quint64 run_id, int, int, const QString& message) {
    if (run_ && run_->id == run_id) map_->canvas()->setMessage(message);
  });
  connect(session_, &Session::deviceMemory, this, [this](quint64 bytes) { device_memory_ = bytes; });

  connect(session_, &Session::taskPromptReady, this, [this](std::shared_ptr<const tasks::TaskPrompt> task) {
    task_prompt_ = task;
    QString description = QString::fromStdString(task->description);
    if (!task->expected_answer.empty())
      description += tr("; expected answer '%1'").arg(QString::fromStdString(task->expected_answer));
    if (!task->format_note.empty()) description += " (" + QString::fromStdString(task->format_note) + ")";
    prompt_->setTaskPrompt(QString::fromStdString(task->text), tr("Generated: %1").arg(description));
  });
  connect(session_, &Session::taskPromptFailed, this, [this](const QString& message) {
    prompt_->setTaskMessage(message);
    statusBar()->showMessage(tr("Task: %1").arg(message), 10000);
  });
  connect(prompt_->taskForm(), &views::TaskPromptForm::generateRequested, this, &MainWindow::generateTaskPrompt);
  connect(prompt_, &views::PromptView::taskDropped, this, [this] { task_prompt_.reset(); });
  connect(prompt_, &views::PromptView::textChanged, this, &MainWindow::tokenize);
  connect(prompt_, &views::PromptView::runRequested, this, &MainWindow::startRun);
  connect(prompt_, &views::PromptView::cancelRequested, session_, &Session::cancelRun);
  connect(prompt_, &views::PromptView::openFileRequested, this, &MainWindow::openPromptFile);
  connect(prompt_, &views::PromptView::runSettingsChanged, this, [this] {
    if (const auto model = session_->model()) {
      const auto& spec = model->facts.spec;
      model_view_->setCaptureOptions(run_capture_options(settings_of(*prompt_), int64_t(spec.num_layers) * spec.num_heads,
                                                         spec.max_position_embeddings));
    }
  });
  connect(overview_, &views::HeadGridView::headActivated, this, &MainWindow::showHead);
  connect(map_->canvas(), &views::AttentionMapCanvas::tilesWanted, this, &MainWindow::onTilesWanted);
  connect(map_->canvas(), &views::AttentionMapCanvas::cellClicked, this, [this](qint64 query, qint64) {
    tokens_->setMode(views::TokenView::Mode::FromQuery);
    tokens_->setQuery(query);
  });
  connect(tokens_, &views::TokenView::modeChanged, this, &MainWindow::updateTokenWeights);
  connect(tokens_, &views::TokenView::queryChosen, this, [this](qint64 query) {
    map_->canvas()->setSelectedQuery(query);
    updateTokenWeights();
  });
}

void MainWindow::onModelOpened(const std::shared_ptr<const LoadedModel>& model) {
  const auto& facts = model->facts;
  model_view_->setModel(facts);
  const int64_t heads = int64_t(facts.spec.num_layers) * facts.spec.num_heads;
  const int64_t context = facts.spec.max_position_embeddings;
  model_view_->setCaptureOptions(run_capture_options(settings_of(*prompt_), heads, context));
  recent_ = with_recent(recent_, facts.directory);
  rebuildRecentMenu();
  setWindowTitle(tr("AttnScope - %1").arg(QFileInfo(facts.directory).fileName()));
  statusBar()->showMessage(tr("Opened %1").arg(facts.directory), 5000);
  run_.reset();
  layer_ = head_ = -1;
  map_->canvas()->clear(tr("Run a prompt to see its attention maps."));
  map_->setHeadTitle(tr("No run yet"));
  overview_->clear(tr("No run yet."));
  tokens_->clear(tr("No run yet."));
  prompt_->setRunEnabled(true);
  prompt_->taskForm()->setMaxLength(context);
  mask_lab_->setShape(facts.spec.num_layers, facts.spec.num_heads);
  mask_lab_->setSequenceLength(context);
  mask_lab_->setRunAvailable(false);
  mask_evaluation_.reset();
  stored_.reset();
  stored_maps_.reset();
  has_grid_ = false;
  profile_form_->setRunEnabled(!session_->running());
  if (task_prompt_) {  // made for the previous model's tokenizer
    task_prompt_.reset();
    prompt_->setText(prompt_->text());
  }
  tokenize(prompt_->text());
}

void MainWindow::generateTaskPrompt() {
  const auto samples = find_sample_data(program_directory());
  if (!samples) {
    prompt_->setTaskMessage(tr("The bundled prompts (sample_data/prompts) were not found; set ATTNSCOPE_SAMPLE_DIR."));
    return;
  }
  const views::TaskFormValues v = prompt_->taskForm()->values();
  prompt_->setTaskMessage(tr("Generating..."));
  session_->makeTaskPrompt(TaskChoice{v.task, v.length, v.depth, v.seed, v.needle, v.copies},
                           QString::fromStdString((*samples / "prompts").string()));
}

void MainWindow::tokenize(const QString& text) {
  const auto model = session_->model();
  if (!model) return;
  try {
    const std::string utf8 = text.toStdString();
    // A generated task runs its own ids (repeated random tokens would not survive a re-encoding).
    const bool task = task_prompt_ && prompt_->hasTaskPrompt();
    const auto ids = task ? task_prompt_->ids : model->tokenizer->encode(utf8, true);
    std::vector<views::PromptToken> rows;
    rows.reserve(ids.size());
    for (int32_t id : ids) rows.push_back({id, model->tokenizer->decode(std::span(&id, 1), false)});
    prompt_->setTokens(std::move(rows));
    const int64_t limit = model->facts.spec.max_position_embeddings;
    if (int64_t(ids.size()) + prompt_->generateTokens() > limit)
      statusBar()->showMessage(tr("The prompt is longer than the model's context of %1 tokens").arg(limit), 5000);
  } catch (const std::exception& e) {
    prompt_->setTokenError(QString::fromStdString(e.what()));
  }
}

void MainWindow::startRun() {
  if (!session_->model() || session_->running()) return;
  session_->run(RunInput{prompt_->text(), prompt_->hasTaskPrompt() ? task_prompt_ : nullptr}, settings_of(*prompt_));
}

void MainWindow::onRunFinished(const std::shared_ptr<const RunResult>& run) {
  prompt_->setRunning(false);
  profile_form_->setRunEnabled(true);
  hideProgress();
  run_ = run;
  stored_.reset();
  stored_maps_.reset();
  mask_evaluation_.reset();
  const auto& spec = session_->model()->facts.spec;
  base_grid_ = views::HeadGridModel::from_summaries(run->summaries, spec.num_layers, spec.num_heads);
  has_grid_ = true;
  showGrid();
  mask_lab_->setSequenceLength(run->rows());  // the sliders' ranges follow the run's tokens
  mask_lab_->setRunAvailable(true);
  tokens_->setTokens(run->pieces);
  {
    // The query that predicts the answer: the prompt's last token.
    const QSignalBlocker block(tokens_);
    tokens_->setQuery(int64_t(run->prompt.size()) - 1);
  }
  QString continuation;
  if (!run->continuation.empty())
    continuation = tr("; continuation '%1'").arg(QString::fromStdString(views::token_label(run->continuation_text, 60)));
  statusBar()->showMessage(tr("Ran %1 tokens in %2 s%3").arg(run->rows()).arg(run->seconds, 0, 'f', 2).arg(continuation));
  const bool keep = layer_ >= 0 && layer_ < spec.num_layers && head_ >= 0 && head_ < spec.num_heads;
  showHead(keep ? layer_ : spec.num_layers - 1, keep ? head_ : 0);
  if (mask_lab_->live() && mask_lab_visible_) evaluateMasks();
}

void MainWindow::onRunFailed(const QString& message) {
  prompt_->setRunning(false);
  profile_form_->setRunEnabled(true);
  hideProgress();
  if (message.endsWith(QStringLiteral("cancelled"))) {
    statusBar()->showMessage(tr("Run cancelled"), 5000);
    return;
  }
  showError(tr("Run"), message);
}

void MainWindow::showHead(int layer, int head) {
  if (!run_ && !stored_) return;
  try {
    if (stored_) {
      // A reopened run: its pooled maps when the prompt stored them; no tokens, no exact tiles.
      layer_ = layer;
      head_ = head;
      overview_->setSelectedHead(layer, head);
      if (stored_maps_ && stored_maps_->tokens > 0) {
        map_->canvas()->setHead(stored_head_map(stored_maps_, layer, head), {});
        map_->canvas()->setExactAvailable(false);
        map_->canvas()->setMessage(tr("run %1 from the store: pooled means only").arg(int64_t(stored_->record.id)));
      } else {
        map_->canvas()->clear(tr("Run %1 stored no pooled maps (profile with \"store pooled maps\" on).")
                                  .arg(int64_t(stored_->record.id)));
      }
    } else {
      views::HeadMap map = head_map(run_, layer, head);
      layer_ = layer;
      head_ = head;
      overview_->setSelectedHead(layer, head);
      std::vector<std::string> labels = run_->pieces;
      map_->canvas()->setHead(std::move(map), std::move(labels));
      updateTokenWeights();
      requestMaskOverlay();
    }
    // "layer 7, head 2: sink mass 0.089, local mass 0.198, entropy 3.189" (the rest on hover).
    const QStringList lines = QString::fromStdString(overview_->model().describe(layer, head)).split('\n');
    map_->setHeadTitle(lines.front() + ": " + lines.mid(1, 3).join(", "));
    emit headShown(layer, head);
  } catch (const std::exception& e) {
    showError(tr("Head"), QString::fromStdString(e.what()));
  }
}

void MainWindow::showGrid() {
  if (!has_grid_) return;
  views::HeadGridModel grid = base_grid_;
  if (mask_evaluation_ && run_ && !stored_ && mask_evaluation_->run_id == run_->id)
    views::set_mask_metrics(grid, mask_evaluation_->heads);
  overview_->setModel(std::move(grid));
}

void MainWindow::onTilesWanted(int layer, int head, const std::vector<views::TileKey>& tiles) {
  if (!run_ || stored_ || layer != layer_ || head != head_) return;
  map_->canvas()->setMessage(tiles.empty() ? QString() : tr("recomputing %1 exact tiles...").arg(tiles.size()));
  session_->requestTiles({run_->id, layer, head, views::AttentionMapCanvas::kTileTokens, tiles});
}

void MainWindow::updateTokenWeights() {
  if (!run_ || stored_ || layer_ < 0) return;
  const views::HeadMap map = head_map(run_, layer_, head_);
  if (tokens_->mode() == views::TokenView::Mode::Received) {
    tokens_->setWeights(views::mean_attention_received(map),
                        tr("Mean attention each token receives from the queries after it (layer %1, head %2)")
                            .arg(layer_).arg(head_));
    emit tokenWeightsShown();
    return;
  }
  const int64_t q = std::clamp<int64_t>(tokens_->query(), 0, map.tokens - 1);
  if (q < map.exact_rows) {
    std::vector<double> weights(size_t(map.tokens), std::nan(""));
    for (int64_t k = 0; k <= q; ++k) weights[size_t(k)] = views::exact_probability(map, q, k);
    tokens_->setWeights(std::move(weights), tr("Attention query %1 gives (layer %2, head %3)").arg(q).arg(layer_).arg(head_));
    emit tokenWeightsShown();
    return;
  }
  tokens_->setWeights({}, tr("Recomputing the attention of query %1...").arg(q));
  session_->requestRow(run_->id, layer_, head_, q);
}

}  // namespace attnscope::gui
