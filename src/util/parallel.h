// Running independent reads on a few threads, with results that never depend on the threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace vfio {

// Runs f(0) ... f(n - 1), on several threads when there is enough work: every call reads sysfs
// (a few syscalls per attribute), so a large host reads in a fraction of the time on as many
// cores. Each index is handled by exactly one call; callers merge results in index order, so
// the outcome never depends on the threads. The first exception is rethrown after all joined.
template <class F>
void for_each_index(std::size_t n, const F& f) {
  constexpr std::size_t kParallelFrom = 256;  // below this, threads cost more than they save
  constexpr std::size_t kChunk = 32;
  constexpr unsigned kMaxThreads = 4;
  const unsigned threads =
      n < kParallelFrom ? 1u : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    try {
      for (;;) {
        const std::size_t start = next.fetch_add(kChunk);
        if (start >= n) return;
        for (std::size_t i = start; i < std::min(n, start + kChunk); ++i) f(i);
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running (and this one) do the work
    }
  }
  work();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace vfio
