// Summaries of a benchmark's timed repetitions, shared by the bench programs so that "median"
// and "p90" mean the same in every results table.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace vfio::bench {

struct SampleStats {
  double median = 0, min = 0, max = 0, p90 = 0;
};

// `samples` must not be empty.
inline SampleStats summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  SampleStats s;
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  // Nearest rank: the smallest sample with at least 90% of samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n)));
  s.p90 = samples[std::max<std::size_t>(rank, 1) - 1];
  return s;
}

}  // namespace vfio::bench
