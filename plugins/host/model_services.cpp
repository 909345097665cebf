// Services for models and prompts: a checkpoint loaded on the job's device, task prompts
// (needle, passkey, repeated random tokens; analysis/tasks) and free text.
#include "analysis/tasks/haystack.h"
#include "analysis/tasks/needle_file.h"
#include "analysis/tasks/needle_in_haystack.h"
#include "analysis/tasks/prompt_template.h"
#include "analysis/tasks/repeated_tokens.h"
#include "analysis/tasks/task_model.h"
#include "plugins/host/job_context.h"

namespace attnscope::plugins {
namespace {

tasks::TaskModel task_model(const attnscope_model& model, bool chat) {
  tasks::ChatFormat format;
  if (chat) format = tasks::choose_prompt_format(tasks::PromptFormat::Chat, tasks::read_chat_template(model.path));
  return tasks::make_task_model(model.tokenizer, model.checkpoint.spec(), format);
}

tasks::TaskPrompt make_task_prompt(const attnscope_job& job, const attnscope_model& model, const attnscope_task_request& r) {
  const tasks::TaskModel tm = task_model(model, r.chat != 0);
  const std::string where = "task_prompt";
  if (r.kind == ATTNSCOPE_TASK_REPEAT) {
    const int64_t copies = r.copies == 0 ? 4 : r.copies;
    const int64_t lead = int64_t(tasks::leading_special_tokens(model.tokenizer).size());
    if (copies < 2) invalid_argument(where, "repeated tokens need at least 2 copies, not " + std::to_string(copies));
    tasks::check_prompt_length(tm, r.length, where + " length");
    tasks::RepeatedTokensSpec spec;
    spec.repeats = copies;
    spec.distinct = (r.length - lead) / copies;
    spec.seed = r.seed;
    if (spec.distinct < 2)
      invalid_argument(where, std::to_string(r.length) + " tokens leave fewer than 2 distinct tokens per copy (" +
                                  std::to_string(copies) + " copies)");
    return tasks::make_repeated_tokens_prompt(tm, spec);
  }
  if (r.kind != ATTNSCOPE_TASK_NEEDLE && r.kind != ATTNSCOPE_TASK_PASSKEY)
    invalid_argument(where, "kind " + std::to_string(r.kind) + " is none of needle (1), passkey (2), repeat (3)");
  if (!(r.depth >= 0 && r.depth <= 1)) invalid_argument(where, "depth must be from 0 to 1, not " + std::to_string(r.depth));
  const tasks::Haystack haystack = tasks::Haystack::from_file(prompt_file(job, r.haystack_file, "haystack.txt"));
  tasks::NeedlePlacement placement;
  placement.length = r.length;
  placement.depth = r.depth;
  if (r.kind == ATTNSCOPE_TASK_PASSKEY)
    return tasks::make_passkey_prompt(tm, haystack,
                                      tasks::PromptTemplate::from_file(prompt_file(job, r.template_file, "passkey.txt")),
                                      r.seed, placement);
  const std::vector<tasks::Needle> needles = tasks::read_needles(prompt_file(job, r.needles_file, "needles.jsonl"));
  if (r.needle_index < 0 || r.needle_index >= int64_t(needles.size()))
    invalid_argument(where, "needle_index " + std::to_string(r.needle_index) + " is outside the file's " +
                                std::to_string(needles.size()) + " needles");
  if (r.seed != 0) placement.start_paragraph = int64_t(r.seed % uint64_t(haystack.paragraph_count()));
  return tasks::make_needle_prompt(tm, haystack,
                                   tasks::PromptTemplate::from_file(prompt_file(job, r.template_file, "needle.txt")),
                                   needles[size_t(r.needle_index)], placement);
}

attnscope_prompt* keep_prompt(attnscope_job& job, const attnscope_model& model, tasks::TaskPrompt prompt) {
  auto p = std::make_unique<attnscope_prompt>();
  p->model = &model;
  p->prompt = std::move(prompt);
  p->parameters_text = p->prompt.parameters.is_null() ? "{}" : p->prompt.parameters.dump();
  job.prompts.push_back(std::move(p));
  return job.prompts.back().get();
}

attnscope_status load_model(attnscope_job* job, const char* path, attnscope_model** out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("load_model", "out is NULL");
    *out = nullptr;
    const std::filesystem::path dir = required_text(path, "load_model path");
    check_cancelled(j, "load_model");
    j.message = "loading " + dir.string();
    report(j, "");
    job_device(j);  // a device that cannot be opened fails here, before the weights are read
    auto checkpoint = model::Checkpoint::open(dir);
    auto tokenizer = tokenizer::load_model_tokenizer(dir, checkpoint.spec().vocab_size);
    auto model = std::unique_ptr<attnscope_model>(
        new attnscope_model{dir, dir.string(), std::move(checkpoint), std::move(tokenizer), "", nullptr, std::nullopt});
    model->architecture = model->checkpoint.spec().architecture_name;
    j.models.push_back(std::move(model));
    *out = j.models.back().get();
  });
}

attnscope_status model_info(attnscope_job* job, attnscope_model* handle, attnscope_model_info* out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_model& m = owned(j.models, handle, "model");
    if (!out) invalid_argument("model_info", "out is NULL");
    const model::ModelSpec& spec = m.checkpoint.spec();
    *out = {};
    out->path = m.path_text.c_str();
    out->architecture = m.architecture.c_str();
    out->layers = spec.num_layers;
    out->heads = spec.num_heads;
    out->kv_heads = spec.num_kv_heads;
    out->head_dim = int32_t(spec.head_dim);
    out->vocab_size = spec.vocab_size;
    out->max_context = spec.max_position_embeddings;
    out->device = job_device(j).target == model::ComputeTarget::Cuda ? "cuda" : "cpu";
  });
}

void release_model(attnscope_job* job, attnscope_model* model) {
  if (job && model && !release(job->models, model)) log(*job, LogLevel::Warning, "release_model: not a live model handle");
}

attnscope_status task_prompt(attnscope_job* job, attnscope_model* handle, const attnscope_task_request* request,
                             attnscope_prompt** out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_model& m = owned(j.models, handle, "model");
    if (!request || !out) invalid_argument("task_prompt", "request or out is NULL");
    *out = keep_prompt(j, m, make_task_prompt(j, m, *request));
  });
}

attnscope_status text_prompt(attnscope_job* job, attnscope_model* handle, const char* text, int32_t add_special,
                             attnscope_prompt** out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_model& m = owned(j.models, handle, "model");
    if (!out) invalid_argument("text_prompt", "out is NULL");
    tasks::TaskPrompt p;
    p.text = required_text(text, "text_prompt text");
    p.ids = m.tokenizer.encode(p.text, add_special != 0);
    if (p.ids.empty()) invalid_argument("text_prompt", "the text encodes to no tokens");
    if (int64_t(p.ids.size()) > m.checkpoint.spec().max_position_embeddings)
      invalid_argument("text_prompt", "the text has " + std::to_string(p.ids.size()) + " tokens, more than the model's context of " +
                                          std::to_string(m.checkpoint.spec().max_position_embeddings));
    p.target_length = int64_t(p.ids.size());
    p.format = "plain";
    p.description = "text of " + std::to_string(p.ids.size()) + " tokens";
    p.parameters = {{"kind", "text"}, {"tokens", p.ids.size()}, {"add_special", add_special != 0}};
    *out = keep_prompt(j, m, std::move(p));
  });
}

attnscope_status prompt_info(attnscope_job* job, attnscope_prompt* handle, attnscope_prompt_info* out) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_prompt& p = owned(j.prompts, handle, "prompt");
    if (!out) invalid_argument("prompt_info", "out is NULL");
    out->tokens = int64_t(p.prompt.ids.size());
    out->text = p.prompt.text.c_str();
    out->description = p.prompt.description.c_str();
    out->expected_answer = p.prompt.expected_answer.c_str();
    out->parameters_json = p.parameters_text.c_str();
  });
}

void release_prompt(attnscope_job* job, attnscope_prompt* prompt) {
  if (job && prompt && !release(job->prompts, prompt)) log(*job, LogLevel::Warning, "release_prompt: not a live prompt handle");
}

}  // namespace

void add_model_services(attnscope_host_services& t) {
  t.load_model = load_model;
  t.model_info = model_info;
  t.release_model = release_model;
  t.task_prompt = task_prompt;
  t.text_prompt = text_prompt;
  t.prompt_info = prompt_info;
  t.release_prompt = release_prompt;
}

}  // namespace attnscope::plugins
