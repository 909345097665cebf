// Services that compute: attention capture of one prompt, the profiling job over a grid
// (analysis/profile/profile_job.h, without a store run of its own: the plugin commits
// what it keeps), and mask plans evaluated against full attention (analysis/masks).
#include <algorithm>

#include "analysis/capture/capture.h"
#include "analysis/masks/end_to_end.h"
#include "analysis/masks/plan_choice.h"
#include "analysis/profile/profile_job.h"
#include "analysis/profile/profile_memory.h"
#include "analysis/profile/profile_prompts.h"
#include "analysis/runtime/generation.h"
#include "plugins/host/job_context.h"

namespace attnscope::plugins {
namespace {

constexpr const char* kMemoryHint = "shorter prompts in the job's parameters also help";

attnscope_model& model_of_prompt(attnscope_job& j, attnscope_model* model, attnscope_prompt* prompt,
                                 const std::string& where) {
  attnscope_model& m = owned(j.models, model, "model");
  const attnscope_prompt& p = owned(j.prompts, prompt, "prompt");
  if (p.model != &m) invalid_argument(where, "the prompt was built for another model");
  return m;
}

[[noreturn]] void cancelled(const std::string& where) {
  throw ServiceError(ATTNSCOPE_CANCELLED, where, "cancelled by the user");
}

// The model's transformer, rebuilt when its KV cache is shorter than `context`.
runtime::Transformer& transformer_for(attnscope_job& j, attnscope_model& m, int64_t context) {
  if (!m.transformer || m.transformer->max_context() < context) {
    m.transformer.reset();
    m.transformer = std::make_unique<runtime::Transformer>(m.checkpoint, *job_device(j).backend, context);
  }
  return *m.transformer;
}

model::MemoryEstimateOptions memory_for(attnscope_job& j, const model::ModelSpec& spec, int64_t context,
                                        const kernels::CaptureOptions& capture) {
  model::MemoryEstimateOptions memory;
  memory.context_length = std::clamp<int64_t>(context, 1, spec.max_position_embeddings);
  memory.target = job_device(j).target;
  memory.prefill_chunk = host::default_prefill_chunk(memory.target);
  memory.captured_heads = int64_t(spec.num_layers) * spec.num_heads;
  memory.capture = capture;
  return memory;
}

void add(std::vector<store::HeadMetric>& out, int layer, int head, std::string_view name, double value) {
  out.push_back({layer, head, std::string(name), value});
}

attnscope_status capture(attnscope_job* job, attnscope_model* model, attnscope_prompt* prompt,
                         const attnscope_capture_request* request, attnscope_result** out) {
  return guarded(job, [&](attnscope_job& j) {
    attnscope_model& m = model_of_prompt(j, model, prompt, "capture");
    if (!request || !out) invalid_argument("capture", "request or out is NULL");
    if (request->sink_tokens < 0 || request->local_window < 0 || request->generate < 0)
      invalid_argument("capture", "sink_tokens, local_window and generate must not be negative");
    check_cancelled(j, "capture");
    const model::ModelSpec& spec = m.checkpoint.spec();
    const std::vector<int32_t>& ids = prompt->prompt.ids;
    const int64_t needed = int64_t(ids.size()) + request->generate;
    if (needed > spec.max_position_embeddings)
      invalid_argument("capture", std::to_string(ids.size()) + " prompt tokens and " + std::to_string(request->generate) +
                                      " to generate exceed the model's context of " +
                                      std::to_string(spec.max_position_embeddings));
    capture::CaptureRequest what;
    if (request->sink_tokens > 0) what.options.sink_tokens = request->sink_tokens;
    if (request->local_window > 0) what.options.local_window = request->local_window;
    capture::Capture recorded(what, spec);
    const model::MemoryEstimateOptions memory = memory_for(j, spec, needed, what.options);
    host::check_run_fits(job_device(j), spec, memory, spec.max_position_embeddings, kMemoryHint);
    runtime::GenerationResult generated;
    try {
      runtime::GenerationOptions options;
      options.max_new_tokens = request->generate;
      options.prefill_chunk = memory.prefill_chunk;
      options.stop_at_eos = true;
      options.cancel = j.cancel;
      options.on_progress = [&](const runtime::Progress& p) {
        report(j, std::string("capture: ") + (p.decoding ? "decode " : "prefill ") + std::to_string(p.done) + "/" +
                      std::to_string(p.total) + " tokens");
      };
      generated = runtime::generate_greedy(transformer_for(j, m, needed), ids, &recorded, options);
    } catch (const OutOfMemory& e) {
      m.transformer.reset();
      host::rethrow_out_of_memory(e, job_device(j), spec, memory, spec.max_position_embeddings, kMemoryHint);
    }
    if (generated.cancelled) cancelled("capture");
    std::vector<store::HeadMetric> values;
    for (const capture::HeadSummary& h : recorded.summaries()) {
      add(values, h.layer, h.head, "entropy", h.entropy);
      add(values, h.layer, h.head, "heaviest_key", double(h.heaviest_key));
      add(values, h.layer, h.head, "heaviest_key_share", h.heaviest_key_share);
      add(values, h.layer, h.head, "local_mass", h.local_mass);
      add(values, h.layer, h.head, "sink_mass", h.sink_mass);
      add(values, h.layer, h.head, "top1_mean_distance", h.top1_mean_distance);
      add(values, h.layer, h.head, "top1_sink_fraction", h.top1_sink_fraction);
    }
    const nlohmann::json summary = {{"tokens", ids.size()},
                                    {"continuation", m.tokenizer.decode(generated.continuation, false)},
                                    {"continuation_ids", generated.continuation}};
    *out = new_result(j, values, summary);
  });
}

profile::ProfileJobSpec profile_spec(attnscope_job& j, const attnscope_profile_request& r) {
  profile::ProfileJobSpec spec;
  spec.tasks = profile::parse_profile_tasks(r.tasks ? r.tasks : "needle");
  if (r.length_count == 0 || !r.lengths) invalid_argument("profile", "give at least one prompt length");
  spec.lengths.assign(r.lengths, r.lengths + r.length_count);
  if (r.depth_count > 0) {
    if (!r.depths) invalid_argument("profile", "depth_count is " + std::to_string(r.depth_count) + " but depths is NULL");
    spec.depths.assign(r.depths, r.depths + r.depth_count);
  }
  if (r.metrics) spec.metrics = profile::parse_job_metrics(r.metrics);
  spec.seed = r.seed;
  if (r.needle_count < -1) invalid_argument("profile", "needle_count must be -1 (all), 0 (the default) or positive");
  spec.needle_count = r.needle_count == 0 ? 1 : r.needle_count == -1 ? 0 : r.needle_count;
  spec.format = r.chat ? tasks::PromptFormat::Chat : tasks::PromptFormat::Plain;
  spec.needles_file = prompt_file(j, r.needles_file, "needles.jsonl");
  spec.haystack_file = prompt_file(j, r.haystack_file, "haystack.txt");
  spec.needle_template_file = prompt_file(j, r.needle_template_file, "needle.txt");
  spec.passkey_template_file = prompt_file(j, r.passkey_template_file, "passkey.txt");
  spec.prefill_chunk = host::default_prefill_chunk(job_device(j).target);
  spec.device = std::string(job_device(j).target_name());
  return spec;
}

attnscope_status run_profile(attnscope_job* job, attnscope_model* model, const attnscope_profile_request* request,
                             attnscope_result** out) {
  return guarded(job, [&](attnscope_job& j) {
    attnscope_model& m = owned(j.models, model, "model");
    if (!request || !out) invalid_argument("profile", "request or out is NULL");
    check_cancelled(j, "profile");
    const model::ModelSpec& model_spec = m.checkpoint.spec();
    profile::ProfileJobSpec spec = profile_spec(j, *request);
    profile::check_spec(spec, model_spec);
    const model::MemoryEstimateOptions memory = profile::job_memory_options(spec, model_spec, job_device(j).target);
    host::check_run_fits(job_device(j), model_spec, memory, model_spec.max_position_embeddings, kMemoryHint);
    m.transformer.reset();  // the profile job builds its own: one KV cache at a time
    profile::ProfileCallbacks callbacks;
    callbacks.cancel = j.cancel;
    callbacks.on_progress = [&](const profile::ProfileProgress& p) {
      report(j, "profile: unit " + std::to_string(std::min(p.units_done + 1, p.units_total)) + " of " +
                    std::to_string(p.units_total) + ", " + p.unit);
    };
    profile::ProfileJobResult result;
    try {
      result = profile::run_profile_job(m.checkpoint, m.tokenizer, *job_device(j).backend, nullptr, spec, callbacks);
    } catch (const OutOfMemory& e) {
      host::rethrow_out_of_memory(e, job_device(j), model_spec, memory, model_spec.max_position_embeddings, kMemoryHint);
    }
    if (result.status == store::RunStatus::Interrupted) cancelled("profile");
    std::vector<store::HeadMetric> values;
    for (int layer = 0; layer < result.profile.layers(); ++layer)
      for (int head = 0; head < result.profile.heads(); ++head)
        for (const std::string& name : result.profile.metrics())
          if (auto v = result.profile.get(name, layer, head)) values.push_back({layer, head, name, *v});
    nlohmann::json units = nlohmann::json::array();
    for (const profile::ProfileUnit& u : result.units)
      units.push_back({{"task", u.task}, {"description", u.description}, {"prompt_tokens", u.prompt_tokens},
                       {"outcome", u.outcome}});
    const nlohmann::json summary = {{"units_done", result.units_done}, {"units_total", result.units_total},
                                    {"units", units}, {"notes", result.notes}};
    *out = new_result(j, values, summary);
  });
}

// The request's plan, as `attnscope-cli masks eval` builds one from --plan or --method. A
// method the request gets wrong is ATTNSCOPE_INVALID_ARGUMENT; a plan file that cannot be
// read, ATTNSCOPE_ERROR.
masks::MaskPlan plan_for(const attnscope_mask_request& r, const masks::MaskLab& lab, const model::ModelSpec& spec) {
  masks::PlanChoice choice;
  if (r.plan_file && *r.plan_file) {
    if (r.method) invalid_argument("evaluate_masks", "give a method or a plan file, not both");
    choice.plan_file = r.plan_file;
    return masks::build_plan(choice, lab, spec, "evaluate_masks");
  }
  choice.method = required_text(r.method, "evaluate_masks method");
  const std::string where = "evaluate_masks method " + choice.method;
  if (r.param_count > 0 && !r.params) invalid_argument(where, "param_count is set but params is NULL");
  for (uint32_t i = 0; i < r.param_count; ++i) choice.params.push_back(required_text(r.params[i], where + " parameter"));
  if (r.density != 0) choice.density = r.density;  // 0: the method's default
  try {
    return masks::build_plan(choice, lab, spec, "evaluate_masks method");
  } catch (const ServiceError&) {
    throw;
  } catch (const Error& e) {
    invalid_argument(e.where(), e.problem());
  }
}

attnscope_status evaluate_masks(attnscope_job* job, attnscope_model* model, attnscope_prompt* prompt,
                                const attnscope_mask_request* request, attnscope_result** out) {
  return guarded(job, [&](attnscope_job& j) {
    attnscope_model& m = model_of_prompt(j, model, prompt, "evaluate_masks");
    if (!request || !out) invalid_argument("evaluate_masks", "request or out is NULL");
    attnscope_prompt& p = *prompt;
    const std::vector<int32_t>& ids = p.prompt.ids;
    if (ids.size() < 2) invalid_argument("evaluate_masks", "the mask lab needs a prompt of 2 or more tokens");
    check_cancelled(j, "evaluate_masks");
    const model::ModelSpec& spec = m.checkpoint.spec();
    if (!p.lab) {
      report(j, "masks: recording " + std::to_string(spec.num_layers * spec.num_heads) + " heads over " +
                    std::to_string(ids.size()) + " tokens");
      masks::DenseRun run = masks::record_dense_run(transformer_for(j, m, int64_t(ids.size())), ids);
      p.dense_logits = std::move(run.logits);
      p.lab = std::make_unique<masks::MaskLab>(std::move(run.heads));
    }
    check_cancelled(j, "evaluate_masks");
    const masks::MaskPlan plan = plan_for(*request, *p.lab, spec);
    report(j, "masks: evaluating " + plan.name);
    const std::vector<masks::HeadResult> heads = p.lab->evaluate(plan);
    const masks::PlanSummary sum = masks::summarize(heads);
    nlohmann::json summary = {{"plan", plan.name},         {"tokens", ids.size()},
                              {"density", sum.density},    {"recall", sum.recall},
                              {"min_recall", sum.min_recall}, {"output_rel_l2", sum.output_rel_l2},
                              {"output_cosine", sum.output_cosine}};
    if (request->end_to_end) {
      check_cancelled(j, "evaluate_masks");
      report(j, "masks: end to end under " + plan.name);
      const masks::EndToEnd e = masks::evaluate_end_to_end(transformer_for(j, m, int64_t(ids.size())), ids, plan, p.dense_logits);
      summary.update({{"kl_mean", e.kl_mean}, {"kl_p95", e.kl_p95}, {"kl_max", e.kl_max},
                      {"top1_agreement", e.top1_agreement}, {"ppl_full", e.ppl_full}, {"ppl_sparse", e.ppl_sparse},
                      {"scored_positions", e.positions}});
    }
    std::vector<store::HeadMetric> values;
    for (const masks::HeadResult& r : heads) {
      const int layer = r.at.layer, head = r.at.head;
      add(values, layer, head, "density", r.evaluation.density);
      values.push_back({layer, head, "method", std::string(masks::method_name(r.used.family))});
      add(values, layer, head, "min_recall", r.evaluation.min_recall);
      add(values, layer, head, "output_cosine", r.evaluation.output_cosine);
      add(values, layer, head, "output_rel_l2", r.evaluation.output_rel_l2);
      add(values, layer, head, "recall", r.evaluation.recall);
    }
    *out = new_result(j, values, summary);
  });
}

attnscope_status result_view(attnscope_job* job, attnscope_result* result, attnscope_result_view* out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_result& r = owned(j.results, result, "result");
    if (!out) invalid_argument("result_view", "out is NULL");
    out->values = r.values.data();
    out->value_count = r.values.size();
    out->summary_json = r.summary.c_str();
  });
}

void release_result(attnscope_job* job, attnscope_result* result) {
  if (job && result && !release(job->results, result)) log(*job, LogLevel::Warning, "release_result: not a live result handle");
}

}  // namespace

void add_compute_services(attnscope_host_services& t) {
  t.capture = capture;
  t.profile = run_profile;
  t.evaluate_masks = evaluate_masks;
  t.result_view = result_view;
  t.release_result = release_result;
}

}  // namespace attnscope::plugins
