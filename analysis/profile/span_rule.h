#pragma once
// MoA's elastic rule for one head: a span of alpha + beta N tokens for a sequence of N
// (FORMATS.md 2.1), fitted to spans the head needed at several lengths (e.g. span_90 of
// profile runs at 2K, 4K and 8K tokens). Least squares over (N_i, S_i), beta clamped to
// [0, 1] (MoA's range; alpha then refitted as the mean of S_i - beta N_i). docs/metrics.md.
// The length-scaling batch job calls it per head, like the MoA export does.
#include <cstdint>
#include <span>
#include <string>

namespace attnscope::profile {

struct SpanSample {
  double length = 0;  // N: the prompt's tokens
  double span = 0;    // S: the span the head needed at that length
};

struct SpanRule {
  double alpha = 0;  // tokens
  double beta = 0;   // tokens per token of the sequence, in [0, 1]
  double at(double length) const { return alpha + beta * length; }
};

// A line through spans measured at nearly one length is noise (prompts of 510 and 512
// tokens gave alphas of -128..254): the longest length must be at least this times the
// shortest.
inline constexpr double kMinSpanLengthRatio = 1.25;

// Why lengths from `shortest` to `longest` cannot carry a span rule ("" when they can):
// no length, one, or a spread under kMinSpanLengthRatio.
std::string span_lengths_problem(double shortest, double longest, bool any);

// attnscope::Error(where, ...) when span_lengths_problem says so, or for a length or span
// that is not finite.
SpanRule fit_span_rule(std::span<const SpanSample> samples, const std::string& where);

}  // namespace attnscope::profile
