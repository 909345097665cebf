#pragma once
// Overview grids from other sources than a live capture: a stored run's per-head metrics
// (numbers, and the pattern class as classes), the differences between two runs head by
// head, and the mask lab's per-head results added as metrics of their own.
#include <vector>

#include "analysis/masks/mask_lab.h"
#include "analysis/store/head_metric_records.h"
#include "views/head_grid_model.h"

namespace attnscope::views {

// One column per metric name (in name order); numbers are coloured from 0 (or their
// smallest value when negative) to their largest, texts become classes.
HeadGridModel grid_from_metrics(const std::vector<store::HeadMetric>& metrics, int layers, int heads);

// For every number both runs have: "<name> b-a" per head (NaN where either lacks it),
// coloured around 0 up to the largest difference either way.
HeadGridModel grid_from_differences(const std::vector<store::HeadMetric>& a, const std::vector<store::HeadMetric>& b,
                                    int layers, int heads);

// The names of the mask lab's columns.
inline constexpr const char* kMaskRecall = "mask recall";
inline constexpr const char* kMaskError = "mask output error";
inline constexpr const char* kMaskDensity = "mask density";
inline constexpr const char* kMaskMethod = "mask method";

// Adds (or replaces) the mask columns: recall, output relative L2 and density used per
// head, and the method each head runs as classes (a per-head plan or heads with masks of
// their own mix them). Heads not in `results` are NaN.
void set_mask_metrics(HeadGridModel& grid, const std::vector<masks::HeadResult>& results);

}  // namespace attnscope::views
