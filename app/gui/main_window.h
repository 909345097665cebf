#pragma once
// The main window: the attention map in the middle, the other views in dock panels
// (model, prompt, overview, tokens, mask lab, profiles, history), menus, and a status bar
// with the device, memory use and the progress of what runs. Window layout and settings
// persist in QSettings between runs. It wires the session's results to the views and the
// views' intents to the session: main_window_run.cpp (runs, the map, tokens, tasks),
// main_window_masks.cpp (the mask lab), main_window_store.cpp (profile jobs, the profiles
// table, history), main_window_export.cpp (the Export menu), main_window_plugins.cpp (the
// Plugins menu).
#include <QMainWindow>
#include <QPointer>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/gui/app_options.h"
#include "app/gui/session.h"
#include "app/gui/stored_run.h"
#include "plugins/host/job_runner.h"
#include "plugins/host/plugin_catalog.h"
#include "views/head_grid_model.h"

class QDialog;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;

namespace attnscope::views {
class AttentionMapPanel;
class HeadGridView;
class MaskLabView;
class ModelInfoView;
class PluginJobForm;
class ProfileJobForm;
class ProfileTableView;
class PromptView;
class RunHistoryView;
class TokenView;
}  // namespace attnscope::views

namespace attnscope::gui {

struct ProfileExportFormat;
class PluginJobRunner;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(const AppOptions& options, QWidget* parent = nullptr);
  ~MainWindow() override;

  // A dock panel named `id` (its objectName, the key of the saved layout), listed in View.
  // `scrolling`: the widget sits in a scroll area, so that a tall panel does not make the
  // window taller than the screen.
  QDockWidget* addPanel(const QString& id, const QString& title, QWidget* widget, Qt::DockWidgetArea area,
                        bool scrolling = false);

  Session* session() const { return session_; }
  views::AttentionMapPanel* mapPanel() const { return map_; }
  views::HeadGridView* overview() const { return overview_; }
  views::TokenView* tokenView() const { return tokens_; }
  views::ModelInfoView* modelView() const { return model_view_; }
  views::PromptView* promptView() const { return prompt_; }
  views::MaskLabView* maskLab() const { return mask_lab_; }
  views::ProfileJobForm* profileForm() const { return profile_form_; }
  views::ProfileTableView* profileTable() const { return profiles_; }
  views::RunHistoryView* history() const { return history_; }
  QDockWidget* panel(const QString& id) const;
  // The store profile jobs write to and History reads.
  const std::filesystem::path& database() const { return database_; }

  void openModel(const QString& directory);
  void startRun();
  void showHead(int layer, int head);
  // Errors: a dialog, or (when `quiet_errors` is set) only the status bar and stderr.
  void showError(const QString& title, const QString& message);
  void setQuietErrors(bool quiet) { quiet_errors_ = quiet; }
  // Colours the token view for the shown head and the view's mode and query; emits
  // tokenWeightsShown when done (at once, or when a recomputed row arrives).
  void updateTokenWeights();

  // Mask lab: evaluates the panel's plan on the last run; curves of its checked families.
  void evaluateMasks();
  void computeMaskCurves();
  // Profiles and history.
  void startProfile();
  void refreshHistory();
  void openStoredRun(store::RunId run);
  void compareStoredRuns(store::RunId a, store::RunId b);
  void showStoredUnit(int index);
  // The session's last run again, after a run from the store was shown.
  void showLastRun();
  bool showsStoredRun() const { return stored_ != nullptr; }

  // Plugins: the menu lists every job of the plugins found (plugins/host/plugin_catalog.h);
  // choosing one opens its form (the open model, the store, a new output folder), Run
  // starts it on a plugins::JobThread, and its runs are shown from the store at the end.
  QMenu* pluginsMenu() const { return plugins_menu_; }
  const plugins::PluginCatalog& pluginCatalog() const { return plugin_catalog_; }
  void rescanPlugins();
  // Opens the form of "PLUGIN.JOB" (the running job's, while one runs).
  void openPluginJob(const QString& qualified_name);
  void startPluginJob();
  QDialog* pluginDialog() const { return plugin_dialog_; }
  views::PluginJobForm* pluginForm() const { return plugin_form_; }
  PluginJobRunner* pluginRunner() const { return plugin_runner_; }

 signals:
  void headShown(int layer, int head);
  void tokenWeightsShown();
  void maskShown();  // the shown head's mask reached the map

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildExportMenu(QMenu* menu);
  void buildPluginsMenu();
  void connectPlugins();
  void onPluginJobFinished(const std::shared_ptr<const plugins::JobOutcome>& outcome);
  QString newPluginOutput() const;  // a fresh default output folder for the form's job
  void buildStatusBar();
  void connectSession();
  void connectMaskLab();
  void connectStore();
  void restoreSettings(const AppOptions& options);
  void saveSettings();
  void rebuildRecentMenu();
  void openModelDialog();
  void openPromptFile();
  void loadPromptFile(const QString& path);
  void resetLayout();
  void tokenize(const QString& text);
  void generateTaskPrompt();
  void updateMemory();
  void showProgress(const QString& format, qint64 done, qint64 total);
  void hideProgress();
  // The overview's grid: the base (capture summaries or stored metrics) plus the mask
  // lab's columns while they belong to the run shown.
  void showGrid();
  void requestMaskOverlay();
  void loadMaskPlan();
  void saveMaskPlan();
  void exportView(QWidget* widget, const QString& name);
  void exportProfile(const ProfileExportFormat& format, bool from_plan);
  void exportMap();
  // Session results.
  void onModelOpened(const std::shared_ptr<const LoadedModel>& model);
  void onRunFinished(const std::shared_ptr<const RunResult>& run);
  void onRunFailed(const QString& message);
  void onTilesWanted(int layer, int head, const std::vector<views::TileKey>& tiles);
  void onMasksEvaluated(const std::shared_ptr<const MaskEvaluation>& evaluation);
  void showShownHeadResult();  // the last evaluation's numbers of the shown head, in the mask lab
  void onProfileFinished(const std::shared_ptr<const ProfileOutcome>& outcome);

  Session* session_ = nullptr;
  views::AttentionMapPanel* map_ = nullptr;
  views::HeadGridView* overview_ = nullptr;
  views::TokenView* tokens_ = nullptr;
  views::ModelInfoView* model_view_ = nullptr;
  views::PromptView* prompt_ = nullptr;
  views::MaskLabView* mask_lab_ = nullptr;
  views::ProfileJobForm* profile_form_ = nullptr;
  views::ProfileTableView* profiles_ = nullptr;
  views::RunHistoryView* history_ = nullptr;
  QMenu* view_menu_ = nullptr;
  QMenu* plugins_menu_ = nullptr;
  plugins::PluginCatalog plugin_catalog_;
  std::optional<plugins::PluginCatalog::JobRef> plugin_job_;  // the job the form shows
  QString plugin_output_;          // the default output folder the form was given
  bool plugin_output_used_ = false;  // a run wrote to it: the next run gets a fresh one
  QDialog* plugin_dialog_ = nullptr;
  views::PluginJobForm* plugin_form_ = nullptr;
  PluginJobRunner* plugin_runner_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QLabel* device_label_ = nullptr;
  QLabel* memory_label_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QByteArray default_state_;
  QStringList recent_;
  QString opening_;
  std::filesystem::path database_;
  std::shared_ptr<const RunResult> run_;
  std::shared_ptr<const tasks::TaskPrompt> task_prompt_;
  // What the map and grid show: the live run, or a run reopened from the store.
  std::shared_ptr<const StoredRun> stored_;
  std::shared_ptr<const StoredMaps> stored_maps_;
  views::HeadGridModel base_grid_;
  bool has_grid_ = false;
  std::shared_ptr<const MaskEvaluation> mask_evaluation_;  // of run_, while it is shown
  int layer_ = -1, head_ = -1;
  quint64 device_memory_ = 0;
  bool mask_lab_visible_ = false;  // the mask lab's dock is on screen (not closed, not behind a tab)
  bool quiet_errors_ = false;
  bool fresh_ = false;
};

}  // namespace attnscope::gui
