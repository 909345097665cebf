#include "analysis/profile/profile_job_spec.h"

#include <algorithm>

#include "analysis/profile/head_profile.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

std::string trimmed(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= list.size()) {
    const size_t comma = std::min(list.find(',', begin), list.size());
    items.push_back(trimmed(list.substr(begin, comma - begin)));
    begin = comma + 1;
  }
  return items;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string rule_scope_name(runtime::RuleScope scope) {
  return scope == runtime::RuleScope::FromLastPromptToken ? "from_last_prompt_token" : "all_rows";
}

}  // namespace

std::string profile_task_name(ProfileTask task) {
  switch (task) {
    case ProfileTask::Needle: return "needle";
    case ProfileTask::Passkey: return "passkey";
    case ProfileTask::RepeatedTokens: return "repeat";
    case ProfileTask::PromptFile: return "prompt-file";
  }
  return "unknown";
}

ProfileTask parse_profile_task(std::string_view name) {
  for (ProfileTask t : {ProfileTask::Needle, ProfileTask::Passkey, ProfileTask::RepeatedTokens, ProfileTask::PromptFile})
    if (name == profile_task_name(t)) return t;
  throw Error("--task", "'" + std::string(name) + "' is not a profiling task: use needle, passkey, repeat or prompt-file");
}

std::vector<ProfileTask> parse_profile_tasks(std::string_view list) {
  std::vector<ProfileTask> tasks;
  for (const std::string& name : split_list(list)) {
    if (name.empty()) throw Error("--task", "the list '" + std::string(list) + "' has an empty item");
    const ProfileTask t = parse_profile_task(name);
    if (std::find(tasks.begin(), tasks.end(), t) != tasks.end())
      throw Error("--task", "'" + name + "' is listed twice in '" + std::string(list) + "'");
    tasks.push_back(t);
  }
  return tasks;
}

const std::vector<std::string>& job_metric_names() {
  static const std::vector<std::string> names{
      std::string(metric::sink_mass),       std::string(metric::local_mass),
      std::string(metric::entropy),         std::string(metric::hidden_sinks),
      std::string(metric::pattern),         std::string(metric::density_90),
      std::string(metric::density_95),      std::string(metric::density_99),
      std::string(metric::span_90),
      std::string(metric::retrieval_score), std::string(metric::retrieval_reasoning_score),
      std::string(metric::induction_score), std::string(metric::echo_score),
      std::string(metric::streaming_gate),  "causality"};
  return names;
}

std::set<std::string> parse_job_metrics(std::string_view list) {
  const auto& known = job_metric_names();
  if (trimmed(list) == "all") return {known.begin(), known.end()};
  std::set<std::string> out;
  for (const std::string& name : split_list(list)) {
    if (name == "density") {
      out.insert({std::string(metric::density_90), std::string(metric::density_95), std::string(metric::density_99)});
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw Error("--metrics", "'" + name + "' is not a metric the profile computes: use all, density or some of " +
                                   joined(known));
    out.insert(name);
  }
  return out;
}

bool ProfileJobSpec::wants(std::string_view metric) const {
  return metrics.empty() || metrics.count(std::string(metric)) > 0;
}

nlohmann::json spec_parameters(const ProfileJobSpec& spec) {
  nlohmann::json tasks = nlohmann::json::array();
  for (ProfileTask t : spec.tasks) tasks.push_back(profile_task_name(t));
  std::vector<std::string> metrics(spec.metrics.begin(), spec.metrics.end());
  if (metrics.empty()) metrics = job_metric_names();
  const auto path = [](const std::filesystem::path& p) { return p.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.string()); };
  const auto& c = spec.capture;
  return {{"tasks", tasks},
          {"lengths", spec.lengths},
          {"depths", spec.depths},
          {"needles_file", path(spec.needles_file)},
          {"haystack_file", path(spec.haystack_file)},
          {"needle_template_file", path(spec.needle_template_file)},
          {"passkey_template_file", path(spec.passkey_template_file)},
          {"prompt_file", path(spec.prompt_file)},
          {"needle_count", spec.needle_count},
          {"passkeys_per_cell", spec.passkeys_per_cell},
          {"format", spec.format == tasks::PromptFormat::Chat ? "chat" : "plain"},
          {"seed", spec.seed},
          {"metrics", metrics},
          {"max_new_tokens", spec.max_new_tokens},
          {"stop_at_newline", spec.stop_at_newline},
          {"repeat_copies", spec.repeat_copies},
          {"streaming",
           {{"sink_tokens", spec.streaming.sink_tokens},
            {"recent_tokens", spec.streaming.recent_tokens},
            {"max_window_share", spec.streaming.max_window_share},
            {"length", spec.streaming.length},
            {"passkeys", spec.streaming.passkeys},
            {"words_per_passkey", spec.streaming.words_per_passkey}}},
          {"causality",
           {{"k", spec.causality.k},
            {"draws", spec.causality.draws},
            {"mask", kernels::describe(spec.causality.mask)},
            {"scope", rule_scope_name(spec.causality.scope)}}},
          {"capture",
           {{"sink_tokens", c.sink_tokens},
            {"local_window", c.local_window},
            {"pool_block", c.pool_block},
            {"exact_memory_limit", spec.exact_memory_limit}}},
          {"prefill_chunk", spec.prefill_chunk},
          {"pooled_maps", spec.pooled_maps},
          {"device", spec.device}};
}

}  // namespace attnscope::profile
