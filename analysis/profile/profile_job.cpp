#include "analysis/profile/profile_job.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "analysis/capture/capture.h"
#include "analysis/profile/answer_decoding.h"
#include "analysis/profile/profile_aggregate.h"
#include "analysis/profile/profile_prompts.h"
#include "analysis/profile/unit_measurement.h"
#include "analysis/runtime/transformer.h"
#include "analysis/store/model_records.h"
#include "analysis/store/pooled_map_records.h"
#include "analysis/store/unit_records.h"
#include "analysis/tasks/seeded_random.h"
#include "analysis/tasks/task_model.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

// The metrics every captured prompt gives; averaged over the natural-text prompts.
const std::set<std::string>& capture_metric_names() {
  static const std::set<std::string> names{
      std::string(metric::sink_mass),  std::string(metric::local_mass), std::string(metric::entropy),
      std::string(metric::hidden_sinks), std::string(metric::pattern), std::string(metric::density_90),
      std::string(metric::density_95), std::string(metric::density_99), std::string(metric::span_90)};
  return names;
}

constexpr double kCapturedTokenWork = 2.5;

std::string unit_task_name(const PlannedPrompt& p) {
  return p.task == ProfileTask::PromptFile ? "prompt-file" : tasks::task_kind_name(p.prompt.kind);
}

class JobRunner {
 public:
  JobRunner(const model::Checkpoint& checkpoint, const tokenizer::Tokenizer& tokenizer, kernels::Backend& backend,
            const store::Database* db, const ProfileJobSpec& spec, const ProfileCallbacks& callbacks)
      : checkpoint_(checkpoint), model_spec_(checkpoint.spec()), tokenizer_(tokenizer), backend_(backend), db_(db),
        spec_(spec), callbacks_(callbacks) {}

  ProfileJobResult run() {
    check_spec(spec_, model_spec_);
    tasks::ChatFormat format;
    if (spec_.format == tasks::PromptFormat::Chat) {
      format = tasks::choose_prompt_format(spec_.format, tasks::read_chat_template(checkpoint_.directory()));
      if (!format.note.empty()) result_.notes.push_back("prompt format: " + format.note);
    }
    const tasks::TaskModel task_model = tasks::make_task_model(tokenizer_, model_spec_, format);
    const std::vector<PlannedPrompt> prompts = make_profile_prompts(spec_, task_model);
    const std::optional<tasks::TaskPrompt> probe = make_streaming_probe(spec_, task_model);
    plan_work(prompts, probe);

    int64_t context = probe ? int64_t(probe->ids.size()) : 1;
    for (const auto& p : prompts)
      context = std::max(context, int64_t(p.prompt.ids.size()) + (p.decodes() ? spec_.max_new_tokens : 0));
    model_.emplace(checkpoint_, backend_, std::min(context, model_spec_.max_position_embeddings));
    result_.profile = HeadProfile(model_spec_.num_layers, model_spec_.num_heads);
    if (db_ != nullptr) {
      store::NewRun run;
      run.model = store::register_model(*db_, store::identify_model(checkpoint_));
      for (ProfileTask t : spec_.tasks) {
        if (!run.task.empty()) run.task += '+';
        run.task += profile_task_name(t);
      }
      run.parameters = spec_parameters(spec_);
      run.backend = spec_.device;
      run.tool_version = ATTNSCOPE_VERSION;
      result_.run = store::begin_run(*db_, run);
    }
    try {
      const bool complete = run_units(prompts, probe);
      finish(complete);
    } catch (const std::exception& e) {
      if (result_.run) {
        try {
          store::finish_run(*db_, *result_.run, store::RunStatus::Failed, e.what());
        } catch (const Error&) {
          // The store itself failed; the original error says more.
        }
      }
      throw;
    }
    return std::move(result_);
  }

 private:
  bool cancelled() const { return callbacks_.cancel != nullptr && callbacks_.cancel->load(); }

  // Token forwards per unit, for the progress estimate; a captured token counts as
  // kCapturedTokenWork (the capture pass recomputes the attention; CPU, sample model).
  void plan_work(const std::vector<PlannedPrompt>& prompts, const std::optional<tasks::TaskPrompt>& probe) {
    double needle_work = 0;
    for (const auto& p : prompts) {
      const double w = double(p.prompt.ids.size()) + (p.decodes() ? double(spec_.max_new_tokens) : 0);
      work_total_ += kCapturedTokenWork * w;
      if (p.decodes()) needle_work += w;
    }
    units_total_ = int64_t(prompts.size());
    if (probe) {
      units_total_ += 1;
      work_total_ += double(model_spec_.num_layers * model_spec_.num_heads + 1) * double(probe->ids.size());
    }
    if (spec_.wants("causality") && needle_work == 0)
      result_.notes.push_back("causality check not run: it answers the needle or passkey prompts again");
    if (spec_.wants("causality") && needle_work > 0) {
      units_total_ += 1 + spec_.causality.draws;
      causality_work_ = double(1 + spec_.causality.draws) * needle_work;
      work_total_ += causality_work_;
    }
  }

  void report(double unit_work) {
    if (!callbacks_.on_progress) return;
    callbacks_.on_progress({int64_t(result_.units.size()), units_total_, current_, work_done_ + unit_work, work_total_});
  }

  void commit(store::NewUnit unit, HeadProfile profile, std::vector<store::PooledMapRecord> maps, double work) {
    unit.ordinal = int64_t(result_.units.size());
    if (db_ != nullptr) store::commit_unit(*db_, *result_.run, unit, head_metric_records(profile), maps);
    result_.units.push_back({unit.ordinal, unit.task, current_, unit.prompt_tokens, unit.outcome});
    unit_profiles_.push_back({unit.task, std::move(profile)});
    work_done_ += work;
    report(0);
  }

  bool run_units(const std::vector<PlannedPrompt>& prompts, const std::optional<tasks::TaskPrompt>& probe) {
    for (const auto& p : prompts)
      if (!run_prompt_unit(p)) return false;
    if (probe && !run_streaming_unit(*probe)) return false;
    return run_causality();
  }

  bool run_prompt_unit(const PlannedPrompt& planned) {
    const tasks::TaskPrompt& p = planned.prompt;
    current_ = profile_task_name(planned.task) + ": " + p.description;
    if (cancelled()) return false;
    report(0);
    const int64_t heads = int64_t(model_spec_.num_layers) * model_spec_.num_heads;
    const int64_t rows = int64_t(p.ids.size()) + (planned.decodes() ? spec_.max_new_tokens - 1 : 0);
    capture::CaptureRequest request;
    request.options = spec_.capture;
    request.options.exact_probabilities = planned.decodes() && exact_rows_fit(spec_, rows, heads);
    if (request.options.exact_probabilities) request.options.exact_limit = rows;
    capture::Capture capture(request, model_spec_);
    capture.reserve(rows);

    AnswerOptions answer;
    answer.max_new_tokens = planned.decodes() ? spec_.max_new_tokens : 0;
    answer.stop_at_newline = spec_.stop_at_newline;
    answer.prefill_chunk = spec_.prefill_chunk;
    answer.cancel = callbacks_.cancel;
    answer.on_tokens = [&](int64_t done) { report(kCapturedTokenWork * double(done)); };
    const auto start = std::chrono::steady_clock::now();
    const DecodedAnswer decoded = decode_answer(*model_, tokenizer_, p.ids, &capture, answer);
    if (decoded.cancelled) return false;
    const auto decoded_at = std::chrono::steady_clock::now();

    // The rows the capture holds: the prompt and every generated token but the last.
    std::vector<int32_t> run_tokens = p.ids;
    if (decoded.generated.size() > 1) run_tokens.insert(run_tokens.end(), decoded.generated.begin(), decoded.generated.end() - 1);
    UnitMeasurement unit{HeadProfile(model_spec_.num_layers, model_spec_.num_heads)};
    add_capture_metrics(unit, capture, run_tokens, tokenizer_, spec_, model_spec_.sliding_window);
    if (planned.decodes()) {
      add_needle_scores(unit, capture, p, decoded, tokenizer_, spec_);
      const bool correct = unit.outcome.at("correct").get<bool>();
      const auto& needle = p.needles.front();
      cases_.push_back({p.ids, needle.answer.empty() ? p.expected_answer : needle.answer, p.description});
      baseline_.tests += 1;
      baseline_.correct += correct ? 1 : 0;
      baseline_.responses.push_back(decoded.response);
    }
    if (planned.task == ProfileTask::RepeatedTokens && (spec_.wants(metric::induction_score) || spec_.wants(metric::echo_score)))
      add_repetition_scores(unit, capture, p, spec_);
    // Where a prompt's time goes: the model (prefill, answer, capture; the first two
    // apart) and the metrics.
    const auto seconds = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
    unit.outcome["seconds"] = {{"model", seconds(start, decoded_at)},
                               {"prefill", decoded.prefill_seconds},
                               {"answer", decoded.answer_seconds},
                               {"metrics", seconds(decoded_at, std::chrono::steady_clock::now())}};
    std::vector<store::PooledMapRecord> maps;
    if (spec_.pooled_maps)
      for (const auto& h : capture.heads()) maps.push_back(store::PooledMapRecord::from_capture(h.layer, h.head, h.pooled));

    store::NewUnit record;
    record.task = unit_task_name(planned);
    record.parameters = p.parameters;
    record.parameters["description"] = p.description;
    record.prompt = p.text;
    record.prompt_tokens = int64_t(p.ids.size());
    record.outcome = std::move(unit.outcome);
    commit(std::move(record), std::move(unit.profile), std::move(maps),
           kCapturedTokenWork * double(int64_t(p.ids.size()) + (planned.decodes() ? spec_.max_new_tokens : 0)));
    return true;
  }

  bool run_streaming_unit(const tasks::TaskPrompt& probe) {
    const int64_t n = int64_t(probe.ids.size());
    const StreamingWindow window = streaming_window(spec_.streaming, n);
    current_ = "streaming probe: " + probe.description + ", each head alone on sink " + std::to_string(window.sink_tokens) +
               " + recent " + std::to_string(window.recent_tokens);
    if (cancelled()) return false;
    report(0);
    StreamingSensitivity s = measure_streaming_sensitivity(*model_, probe, window, spec_.prefill_chunk, callbacks_.cancel,
                                                           [&](int64_t done, int64_t) { report(double((done + 1) * n)); });
    if (s.cancelled) return false;
    HeadProfile profile(model_spec_.num_layers, model_spec_.num_heads);
    for (size_t i = 0; i < s.heads.size(); ++i) {
      profile.set(metric::streaming_change, s.heads[i].layer, s.heads[i].head, s.change[i]);
      profile.set(metric::streaming_gate, s.heads[i].layer, s.heads[i].head, s.gate[i]);
    }
    store::NewUnit record;
    record.task = "streaming_probe";
    record.parameters = probe.parameters;
    record.parameters["description"] = probe.description;
    record.prompt = probe.text;
    record.prompt_tokens = n;
    record.outcome = {{"sink_tokens", window.sink_tokens},
                      {"recent_tokens", window.recent_tokens},
                      {"window_scaled", window.scaled},
                      {"rows", s.rows},
                      {"largest_change", *std::max_element(s.change.begin(), s.change.end())}};
    const double work = double(s.heads.size() + 1) * double(n);
    result_.streaming = std::move(s);
    commit(std::move(record), std::move(profile), {}, work);
    return true;
  }

  void skip_causality(const std::string& why) {
    result_.notes.push_back("causality check not run: " + why);
    units_total_ -= 1 + spec_.causality.draws;
    work_total_ -= causality_work_;
    causality_work_ = 0;
  }

  bool run_causality() {
    if (causality_work_ == 0) return true;
    HeadProfile retrieval(model_spec_.num_layers, model_spec_.num_heads);
    std::vector<const HeadProfile*> units;
    for (const auto& [task, profile] : unit_profiles_) units.push_back(&profile);
    aggregate_profiles(retrieval, units, {std::string(metric::retrieval_score)});
    if (retrieval.metrics().empty()) {
      skip_causality("no needle or passkey answer recalled its needle, so no head has a retrieval score to rank by");
      return true;
    }
    CausalityResult c;
    c.k = causality_k(spec_.causality, int64_t(model_spec_.num_layers) * model_spec_.num_heads);
    c.baseline = baseline_;
    c.baseline.condition = "none";
    c.top.heads = top_retrieval_heads(retrieval, c.k);
    const auto draws = random_head_sets(model_spec_.num_layers, model_spec_.num_heads, c.top.heads, c.k,
                                        spec_.causality.draws, tasks::derive_seed(spec_.seed, "causality_heads", 0));
    AnswerOptions answer;
    answer.max_new_tokens = spec_.max_new_tokens;
    answer.stop_at_newline = spec_.stop_at_newline;
    answer.prefill_chunk = spec_.prefill_chunk;
    answer.cancel = callbacks_.cancel;
    const double work = causality_work_ / double(1 + draws.size());
    for (int64_t d = -1; d < int64_t(draws.size()); ++d) {
      const auto& heads = d < 0 ? c.top.heads : draws[size_t(d)];
      std::string names;
      for (const auto& h : heads) {
        if (!names.empty()) names += ',';
        names += layer_head_name(h);
      }
      current_ = "causality: " + std::string(d < 0 ? "top-" + std::to_string(c.k) + " retrieval heads" : "random draw " + std::to_string(d + 1)) +
                 " masked (" + names + ")";
      if (cancelled()) return false;
      report(0);
      AblationOutcome o = run_ablation(*model_, tokenizer_, cases_, heads, spec_.causality, answer,
                                       [&](int64_t done) { report(double(done)); });
      if (o.cancelled) return false;
      o.condition = d < 0 ? "top_k" : "random";
      o.draw = d;
      store::NewUnit record;
      record.task = "causality";
      record.parameters = {{"condition", o.condition}, {"k", c.k}, {"mask", kernels::describe(spec_.causality.mask)},
                           {"description", current_}};
      if (d >= 0) record.parameters["draw"] = d;
      record.outcome = o.to_json();
      record.outcome["baseline_accuracy"] = c.baseline.accuracy();
      record.outcome["responses"] = o.responses;
      (d < 0 ? c.top : c.random.emplace_back()) = std::move(o);
      commit(std::move(record), HeadProfile(model_spec_.num_layers, model_spec_.num_heads), {}, work);
    }
    result_.causality = std::move(c);
    return true;
  }

  void summarise_hidden_sinks() {
    std::map<std::pair<int, int>, HiddenSinkSummary> heads;
    for (const ProfileUnit& u : result_.units) {
      if (!u.outcome.contains("hidden_sinks")) continue;
      for (const auto& h : u.outcome["hidden_sinks"]) {
        const int layer = h["layer"].get<int>(), head = h["head"].get<int>();
        HiddenSinkSummary& s = heads[{layer, head}];
        s.layer = layer;
        s.head = head;
        s.units += 1;
        const auto& strongest = h["sinks"][0];
        if (strongest["share"].get<double>() > s.share) {
          s.share = strongest["share"].get<double>();
          s.position = strongest["position"].get<int64_t>();
          s.token_text = strongest["text"].get<std::string>();
        }
      }
    }
    for (auto& [at, s] : heads) result_.hidden_sinks.push_back(std::move(s));
  }

  void aggregate() {
    std::vector<const HeadProfile*> text, repeat, all;
    std::set<std::string> other;
    for (const auto& [task, profile] : unit_profiles_) {
      all.push_back(&profile);
      if (task == "repeated_tokens")
        repeat.push_back(&profile);
      else if (task != "streaming_probe" && task != "causality")
        text.push_back(&profile);
      for (const std::string& name : profile.metrics())
        if (!capture_metric_names().count(name)) other.insert(name);
    }
    aggregate_profiles(result_.profile, text.empty() ? repeat : text, capture_metric_names());
    if (!other.empty()) aggregate_profiles(result_.profile, all, other);
    if (spec_.kv_heads) result_.kv_profile = reduce_to_kv_heads(result_.profile, model_spec_.num_kv_heads);
    summarise_hidden_sinks();
    const auto names = result_.profile.metrics();
    const auto missing = [&](std::string_view name) {
      return spec_.wants(name) && std::find(names.begin(), names.end(), std::string(name)) == names.end();
    };
    if (missing(metric::retrieval_score))
      result_.notes.push_back("retrieval_score not computed: no needle or passkey prompt was answered correctly "
                              "(ROUGE-1 recall > 0.5), or the tasks had none");
    if (missing(metric::retrieval_reasoning_score))
      result_.notes.push_back("retrieval_reasoning_score not computed: it needs every decoding row's top-k keys, kept "
                              "only for prompts whose exact rows fit the exact memory limit, and an answer with "
                              "qa_f1 > 0.5");
    if (missing(metric::induction_score) || missing(metric::echo_score))
      result_.notes.push_back("induction_score and echo_score need the repeat task");
  }

  void finish(bool complete) {
    result_.units_done = int64_t(result_.units.size());
    result_.units_total = units_total_;
    aggregate();
    result_.status = complete ? store::RunStatus::Complete : store::RunStatus::Interrupted;
    if (!result_.run) return;
    if (complete) {
      store::record_run_metrics(*db_, *result_.run, head_metric_records(result_.profile));
      store::finish_run(*db_, *result_.run, store::RunStatus::Complete);
    } else {
      store::finish_run(*db_, *result_.run, store::RunStatus::Interrupted,
                        "stopped by the user after " + std::to_string(result_.units_done) + " of " +
                            std::to_string(units_total_) + " units");
    }
  }

  const model::Checkpoint& checkpoint_;
  const model::ModelSpec& model_spec_;
  const tokenizer::Tokenizer& tokenizer_;
  kernels::Backend& backend_;
  const store::Database* db_;
  const ProfileJobSpec& spec_;
  const ProfileCallbacks& callbacks_;
  std::optional<runtime::Transformer> model_;
  ProfileJobResult result_;
  std::vector<std::pair<std::string, HeadProfile>> unit_profiles_;  // (unit task, values)
  std::vector<NeedleCase> cases_;  // the needle and passkey prompts, for the causality check
  AblationOutcome baseline_;
  std::string current_;
  int64_t units_total_ = 0;
  double work_total_ = 0, work_done_ = 0, causality_work_ = 0;
};

}  // namespace

ProfileJobResult run_profile_job(const model::Checkpoint& checkpoint, const tokenizer::Tokenizer& tokenizer,
                                 kernels::Backend& backend, const store::Database* db, const ProfileJobSpec& spec,
                                 const ProfileCallbacks& callbacks) {
  return JobRunner(checkpoint, tokenizer, backend, db, spec, callbacks).run();
}

}  // namespace attnscope::profile
