#include "analysis/profile/span_rule.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/error.h"

namespace attnscope::profile {

SpanRule fit_span_rule(std::span<const SpanSample> samples, const std::string& where) {
  std::set<double> lengths;
  for (const SpanSample& s : samples) {
    if (!std::isfinite(s.length) || !std::isfinite(s.span))
      throw Error(where, "a sample's length or span is not a finite number");
    lengths.insert(s.length);
  }
  if (lengths.size() < 2)
    throw Error(where, "a span rule alpha + beta N needs spans at two or more prompt lengths; the samples have " +
                           std::to_string(lengths.size()) + (lengths.size() == 1 ? " length" : " lengths"));
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
