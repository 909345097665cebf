// Services for the store: the job's runs (one per model; reopened when a batch resumes),
// units committed one transaction each, run-level values, and any run's values read back.
#include "analysis/store/model_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/run_resume.h"
#include "analysis/store/unit_records.h"
#include "plugins/host/job_context.h"

namespace attnscope::plugins {
namespace {

nlohmann::json json_object(const char* text, const std::string& what) {
  if (!text) return nlohmann::json::object();
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    invalid_argument(what, std::string("is not valid JSON: ") + e.what());
  }
  if (!value.is_object()) invalid_argument(what, "must be a JSON object, not " + std::string(value.type_name()));
  return value;
}

std::vector<store::HeadMetric> metrics_of(const attnscope_head_value* values, uint64_t count, const std::string& where) {
  if (count > 0 && !values) invalid_argument(where, "value_count is " + std::to_string(count) + " but values is NULL");
  std::vector<store::HeadMetric> out;
  out.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    const attnscope_head_value& v = values[i];
    const std::string name = required_text(v.metric, where + " value " + std::to_string(i) + " metric");
    if (v.text) out.push_back({v.layer, v.head, name, std::string(v.text)});
    else out.push_back({v.layer, v.head, name, v.value});
  }
  return out;
}

attnscope_status begin_run(attnscope_job* job, attnscope_model* model, attnscope_run** out) {
  return guarded(job, [&](attnscope_job& j) {
    attnscope_model& m = owned(j.models, model, "model");
    if (!out) invalid_argument("begin_run", "out is NULL");
    const store::Database& db = job_store(j);
    if (!m.stored) m.stored = store::register_model(db, store::identify_model(m.checkpoint));
    for (const auto& r : j.runs)
      if (r->model == *m.stored) {
        *out = r.get();
        return;
      }
    auto run = std::make_unique<attnscope_run>();
    run->model = *m.stored;
    if (auto earlier = j.resume_runs.find(int64_t(*m.stored)); earlier != j.resume_runs.end()) {
      run->id = earlier->second;
      const store::RunRecord record = store::get_run(db, run->id);
      run->complete = record.status == store::RunStatus::Complete;
      if (!run->complete) store::reopen_run(db, run->id);
      for (const store::UnitRecord& u : store::list_units(db, run->id)) run->done.insert(u.ordinal);
      log(j, LogLevel::Info, "resuming run " + store::to_string(run->id) + " of " + m.path_text + " (" +
                                 std::to_string(run->done.size()) + " units done" + (run->complete ? ", complete)" : ")"));
    } else {
      run->id = store::begin_run(db, {*m.stored, "plugin", j.qualified_name, j.run_parameters,
                                      std::string(job_device(j).target_name()), ATTNSCOPE_VERSION});
    }
    j.runs.push_back(std::move(run));
    *out = j.runs.back().get();
  });
}

int64_t run_id(attnscope_job* job, attnscope_run* run) {
  int64_t id = -1;
  guarded(job, [&](attnscope_job& j) { id = int64_t(owned(j.runs, run, "run").id); });
  return id;
}

attnscope_status unit_done(attnscope_job* job, attnscope_run* run, int64_t ordinal, int32_t* out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_run& r = owned(j.runs, run, "run");
    if (!out) invalid_argument("unit_done", "out is NULL");
    *out = r.done.count(ordinal) ? 1 : 0;
  });
}

attnscope_status commit_unit(attnscope_job* job, attnscope_run* run, const attnscope_unit* unit) {
  return guarded(job, [&](attnscope_job& j) {
    attnscope_run& r = owned(j.runs, run, "run");
    if (!unit) invalid_argument("commit_unit", "unit is NULL");
    const std::string where = "commit_unit " + std::to_string(unit->ordinal);
    if (r.complete) invalid_argument(where, "run " + store::to_string(r.id) + " is complete: it takes no more units");
    if (unit->ordinal < 0) invalid_argument(where, "a unit's ordinal must not be negative");
    store::NewUnit u;
    u.ordinal = unit->ordinal;
    u.task = required_text(unit->task, where + " task");
    u.parameters = json_object(unit->parameters_json, where + " parameters_json");
    u.outcome = json_object(unit->outcome_json, where + " outcome_json");
    if (unit->prompt) {
      const attnscope_prompt& p = owned(j.prompts, unit->prompt, where + " prompt");
      u.prompt = p.prompt.text;
      u.prompt_tokens = int64_t(p.prompt.ids.size());
    }
    const std::vector<store::HeadMetric> metrics = metrics_of(unit->values, unit->value_count, where);
    store::commit_unit(job_store(j), r.id, u, metrics);
    r.done.insert(u.ordinal);
  });
}

attnscope_status record_run_values(attnscope_job* job, attnscope_run* run, const attnscope_head_value* values,
                                   uint64_t value_count) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_run& r = owned(j.runs, run, "run");
    if (r.complete) invalid_argument("record_run_values", "run " + store::to_string(r.id) + " is complete");
    store::record_run_metrics(job_store(j), r.id, metrics_of(values, value_count, "record_run_values"));
  });
}

attnscope_status read_values(attnscope_job* job, int64_t run, int64_t ordinal, attnscope_result** out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("read_values", "out is NULL");
    const store::Database& db = job_store(j);
    const auto record = store::find_run(db, store::RunId(run));
    if (!record) not_found(db.where(), "has no run " + std::to_string(run));
    nlohmann::json summary = {{"run", run},
                              {"kind", record->kind},
                              {"task", record->task},
                              {"status", std::string(store::status_name(record->status))},
                              {"parameters", record->parameters},
                              {"units", record->unit_count}};
    if (ordinal < 0) {
      const store::RunHeadValues values = store::run_head_values(db, record->id);
      summary["from_units"] = values.from_units;
      *out = new_result(j, values.metrics, summary);
      return;
    }
    for (const store::UnitRecord& u : store::list_units(db, record->id))
      if (u.ordinal == ordinal) {
        summary.update({{"ordinal", u.ordinal}, {"unit_task", u.task}, {"unit_parameters", u.parameters},
                        {"outcome", u.outcome}});
        *out = new_result(j, store::read_head_metrics(db, record->id, u.id), summary);
        return;
      }
    not_found(db.where(), "run " + std::to_string(run) + " has no unit " + std::to_string(ordinal));
  });
}

}  // namespace

void add_store_services(attnscope_host_services& t) {
  t.begin_run = begin_run;
  t.run_id = run_id;
  t.unit_done = unit_done;
  t.commit_unit = commit_unit;
  t.record_run_values = record_run_values;
  t.read_values = read_values;
}

}  // namespace attnscope::plugins
