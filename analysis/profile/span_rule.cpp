#include "analysis/profile/span_rule.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnscope::profile {

std::string span_lengths_problem(double shortest, double longest, bool any) {
  const std::string need =
      "a span rule alpha + beta N needs spans at two or more prompt lengths, the longest at least 1.25x the shortest";
  static_assert(kMinSpanLengthRatio == 1.25, "the message above");
  if (!any) return need + "; there are no spans";
  if (shortest == longest) return need + "; all spans are at one length (" + std::to_string(int64_t(shortest)) + " tokens)";
  if (longest < kMinSpanLengthRatio * shortest)
    return need + "; these are at " + std::to_string(int64_t(shortest)) + " to " + std::to_string(int64_t(longest)) +
           " tokens";
  return "";
}

SpanRule fit_span_rule(std::span<const SpanSample> samples, const std::string& where) {
  for (const SpanSample& s : samples)
    if (!std::isfinite(s.length) || !std::isfinite(s.span))
      throw Error(where, "a sample's length or span is not a finite number");
  const auto [shortest, longest] = std::minmax_element(
      samples.begin(), samples.end(), [](const SpanSample& a, const SpanSample& b) { return a.length < b.length; });
  if (const std::string problem = samples.empty() ? span_lengths_problem(0, 0, false)
                                                  : span_lengths_problem(shortest->length, longest->length, true);
      !problem.empty())
    throw Error(where, problem);
  const double n = double(samples.size());
  double mean_length = 0, mean_span = 0;
  for (const SpanSample& s : samples) {
    mean_length += s.length / n;
    mean_span += s.span / n;
  }
  double covariance = 0, variance = 0;
  for (const SpanSample& s : samples) {
    covariance += (s.length - mean_length) * (s.span - mean_span);
    variance += (s.length - mean_length) * (s.length - mean_length);
  }
  SpanRule rule;
  rule.beta = std::clamp(covariance / variance, 0.0, 1.0);
  // With beta clamped the least-squares alpha is the mean residual.
  rule.alpha = mean_span - rule.beta * mean_length;
  return rule;
}

}  // namespace attnscope::profile
