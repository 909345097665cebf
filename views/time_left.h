#pragma once
// The time a job has left, as the app's forms show it next to their progress: the elapsed
// time scaled by the share of the work still to do.
#include <QString>

namespace attnscope::views {

// "about 40 s left", "about 3 min left"; empty while too little is done to tell (under 2%)
// or when `elapsed_seconds` or `share` is not a usable number.
QString time_left_text(double elapsed_seconds, double share);

}  // namespace attnscope::views
