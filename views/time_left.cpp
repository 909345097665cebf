#include "views/time_left.h"

#include <QObject>
#include <cmath>

namespace attnscope::views {
namespace {

// Below this share the rate is mostly start-up cost: no estimate yet.
constexpr double kFirstEstimateShare = 0.02;

}  // namespace

QString time_left_text(double elapsed_seconds, double share) {
  if (!std::isfinite(elapsed_seconds) || !std::isfinite(share) || share <= kFirstEstimateShare || share > 1)
    return {};
  const double seconds = elapsed_seconds * (1 - share) / share;
  if (seconds < 60) return QObject::tr("about %1 s left").arg(int(std::ceil(seconds)));
  return QObject::tr("about %1 min left").arg(int(std::ceil(seconds / 60)));
}

}  // namespace attnscope::views
