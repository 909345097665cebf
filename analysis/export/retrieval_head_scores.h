#pragma once
// Retrieval_Head's score file (FORMATS.md 4.2), also HeadKV's retrieval and
// retrieval-reasoning files (6.3): one line of JSON {"<layer>-<head>": [score per counted
// test], ...} with every layer and query head of the model as a key, layer-major. Readers
// (Retrieval_Head, HeadKV) read only the first line and rank heads by the mean of the
// list; HeadKV takes the keys in file order as the layers x heads table, so the writer
// keeps that order.
#include <string>
#include <string_view>
#include <vector>

#include "analysis/export/model_shape.h"
#include "analysis/masks/mask_plan.h"

namespace attnscope::exports {

struct RetrievalHeadScores {
  int layers = 0;
  int heads = 0;
  std::vector<std::vector<double>> tests;  // layer-major: the head's score in each counted test

  const std::vector<double>& at(int layer, int head) const { return tests[size_t(layer) * size_t(heads) + size_t(head)]; }
  // The mean over tests, as the readers rank; 0 for a head without tests (Retrieval_Head
  // appends to every head in each counted test, so lists are empty only when none counted).
  double mean(int layer, int head) const;
};

// One line, no line break at the end (Python's json.dump). attnscope::Error for another
// shape, or a score that is not finite or is negative.
std::string retrieval_head_text(const RetrievalHeadScores& scores, const ModelShape& shape);
// attnscope::Error naming `file` for text on more than one line (one line break at the
// end is allowed), a document that is not one object, a key that is not "L-H" of a
// layer and query head of the model, a head missing, or a value that is not a list of
// finite numbers >= 0 (HeadKV's reasoning scores may exceed 1).
RetrievalHeadScores parse_retrieval_head(std::string_view text, const ModelShape& shape, const std::string& file);

// An imported score file as a plan (docs/export-formats.md):
//   HeadKvBudgets  HeadKV's allocation: shares = mean / sum of means, to the power
//                  `temperature`, renormalised; pool = (b // beta) L H with b =
//                  base_capacity - window; each head keeps round(share pool + b - b // beta)
//                  earlier keys (at least 1) by SnapKV's vote plus its window (snapkv with
//                  capacity = that + window);
//   TopDense       the `top_heads` heads of highest mean (ties: layer-major order) dense,
//                  the others streaming with sink_tokens and window.
struct RetrievalPlanOptions {
  enum class Rule { HeadKvBudgets, TopDense };
  Rule rule = Rule::HeadKvBudgets;
  int64_t base_capacity = 128;  // HeadKV README's max_capacity_prompts (window included)
  int64_t window = 32;          // its SnapKV observation window
  double beta = 1.2;            // its pool knob (README sweeps 1.005 .. 10)
  double temperature = 1;       // its temp
  int64_t kernel = 7;
  int top_heads = 0;            // TopDense; 0: 5% of the heads, at least 1
  int64_t sink_tokens = 4;
  int64_t recent_tokens = 256;
};
masks::MaskPlan retrieval_head_to_plan(const RetrievalHeadScores& scores, const ModelShape& shape,
                                       const RetrievalPlanOptions& options = {});

}  // namespace attnscope::exports
