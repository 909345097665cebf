#include "app/gui/task_prompts.h"

#include <string>

#include "analysis/profile/profile_prompts.h"
#include "kernels/error.h"

namespace attnscope::gui {
namespace {

// The CLI's option names in the engine's messages, as the panel's fields are called.
std::string field_of(const std::string& where) {
  if (where == "--lengths") return "length";
  if (where == "--depths") return "depth";
  if (where == "--copies") return "copies";
  if (where == "--needle-count") return "needle";
  return where;
}

}  // namespace

profile::ProfileJobSpec task_spec(const TaskChoice& choice, const std::filesystem::path& prompts_dir) {
  profile::ProfileJobSpec spec;
  spec.tasks = {choice.task};
  spec.lengths = {choice.length};
  spec.depths = {choice.depth};
  spec.seed = choice.seed;
  spec.needles_file = prompts_dir / "needles.jsonl";
  spec.haystack_file = prompts_dir / "haystack.txt";
  spec.needle_template_file = prompts_dir / "needle.txt";
  spec.passkey_template_file = prompts_dir / "passkey.txt";
  // The grid of one cell holds the file's first needle_count needles in order.
  spec.needle_count = choice.needle + 1;
  spec.repeat_copies = choice.copies;
  return spec;
}

tasks::TaskPrompt make_task_prompt(const TaskChoice& choice, const std::filesystem::path& prompts_dir,
                                   const tokenizer::Tokenizer& tokenizer, const model::ModelSpec& model) {
  if (choice.task == profile::ProfileTask::PromptFile)
    throw Error("task", "a prompt file is opened as text, not generated");
  if (choice.needle < 0) throw Error("needle", "the needle number must not be negative");
  const profile::ProfileJobSpec spec = task_spec(choice, prompts_dir);
  std::vector<profile::PlannedPrompt> prompts;
  try {
    profile::check_spec(spec, model);
    prompts = profile::make_profile_prompts(spec, tasks::make_task_model(tokenizer, model));
  } catch (const Error& e) {
    throw Error(field_of(e.where()), e.problem());
  }
  const size_t index = choice.task == profile::ProfileTask::Needle ? size_t(choice.needle) : 0;
  if (index >= prompts.size())
    throw Error("needle", "needle " + std::to_string(choice.needle + 1) + " was asked for; " +
                              spec.needles_file.string() + " has " + std::to_string(prompts.size()));
  return std::move(prompts[index].prompt);
}

}  // namespace attnscope::gui
