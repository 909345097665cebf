#include "analysis/profile/span_rule.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnscope::profile {

std::string span_lengths_problem(double shortest, double longest, bool any) {
  const std::string need = "a span rule alpha + beta N needs spans at two or more prompt lengths, the longest at least " +
                           std::to_string(kMinSpanLengthRatio).substr(0, 4) + "x the shortest";
  if (!any) return need + "; there are no spans";
  if (shortest == longest) return need + "; all spans are at one length (" + std::to_string(int64_t(shortest)) + " tokens)";
  if (longest < kMinSpanLengthRatio * shortest)
    return need + "; these are at " + std::to_string(int64_t(shortest)) + " to " + std::to_string(int64_t(longest)) +
           " tokens";
  return "";
}

SpanRule fit_span_rule(std::span<const SpanSample> samples, const std::string& where) {
  double shortest = 0, longest = 0;
  for (const SpanSample& s : samples) {
    if (!std::isfinite(s.length) || !std::isfinite(s.span))
      throw Error(where, "a sample's length or span is not a finite number");
    shortest = &s == samples.data() ? s.length : std::min(shortest, s.length);
    longest = &s == samples.data() ? s.length : std::max(longest, s.length);
  }
  if (const std::string problem = span_lengths_problem(shortest, longest, !samples.empty()); !problem.empty())
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
