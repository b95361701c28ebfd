#include "cli/write_trace.h"

#include <chrono>

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

namespace vfio::cli {

void WriteTracingSysfs::set_write_timeout(std::chrono::milliseconds timeout) {
  Sysfs::set_write_timeout(timeout);
  inner_.set_write_timeout(timeout);
}

Result<void> WriteTracingSysfs::write(const SysPath& path, std::string_view value) {
  const auto when = std::chrono::system_clock::now();
  const auto start = std::chrono::steady_clock::now();
  Result<void> result = inner_.write(path, value);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  // The value as written, less the newline some attributes are given.
  std::string_view shown = value;
  if (!shown.empty() && shown.back() == '\n') shown.remove_suffix(1);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
  spdlog::info("write '{}' to {}: {} in {:.1f} ms ({:%H:%M:%S}.{:03})", shown, inner_.display(path),
               result ? std::string("ok") : describe_errno(result.error().error), took.count(),
               fmt::localtime(std::chrono::system_clock::to_time_t(when)), millis);
  return result;
}

}  // namespace vfio::cli
