#pragma once
// Generated prompts for the prompt panel (a needle at a length and depth, a passkey,
// repeated random tokens), made exactly as `attnscope-cli profile` makes its grid's
// prompts: a one-cell ProfileJobSpec (the task, one length, one depth, the seed) over the
// bundled needles, haystack and templates, through profile::make_profile_prompts. So the
// prompt shown here is the one a profile job with the same settings measures.
#include <cstdint>
#include <filesystem>

#include "analysis/model/model_spec.h"
#include "analysis/profile/profile_job_spec.h"
#include "analysis/tasks/task_prompt.h"
#include "analysis/tokenizer/tokenizer.h"

namespace attnscope::gui {

struct TaskChoice {
  profile::ProfileTask task = profile::ProfileTask::Needle;  // Needle, Passkey or RepeatedTokens
  int64_t length = 1024;  // tokens of the whole prompt
  double depth = 0.5;     // the needle's depth, 0 to 1 (needle and passkey)
  uint64_t seed = 0;      // the job's seed: start paragraph, passkey, random tokens
  int64_t needle = 0;     // which needle of needles.jsonl (0-based; needle task)
  int64_t copies = 4;     // repeated tokens: copies of the random sequence
};

// The profile job's spec for `choice`, its files from `prompts_dir` (sample_data/prompts)
// as the CLI's defaults take them.
profile::ProfileJobSpec task_spec(const TaskChoice& choice, const std::filesystem::path& prompts_dir);

// The prompt of `choice` for the model. attnscope::Error naming the setting ("length",
// "depth", "needle", "copies") the model cannot take, or the file that is missing or bad.
tasks::TaskPrompt make_task_prompt(const TaskChoice& choice, const std::filesystem::path& prompts_dir,
                                   const tokenizer::Tokenizer& tokenizer, const model::ModelSpec& model);

}  // namespace attnscope::gui
