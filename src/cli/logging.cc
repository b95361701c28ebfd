#include "cli/logging.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace vfio::cli {

std::shared_ptr<spdlog::logger> make_logger(int verbosity, std::ostream* err) {
  spdlog::sink_ptr sink;
  if (err) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*err);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  // A person reads these next to the command's output: no timestamps, just the level.
  sink->set_pattern("%^%l%$: %v");
  auto logger = std::make_shared<spdlog::logger>("vfio-reconcile", sink);
  logger->set_level(verbosity < 0    ? spdlog::level::err
                    : verbosity == 0 ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace vfio::cli
