// Where log messages go: stderr (coloured on a terminal), or the stream a test hands in.
#pragma once

#include <iosfwd>
#include <memory>

#include <spdlog/logger.h>

namespace vfio::cli {

// verbosity: -1 quiet (errors only), 0 normal (warnings and up), 1 info, 2+ debug.
// The logger becomes spdlog's default for the run.
std::shared_ptr<spdlog::logger> make_logger(int verbosity, std::ostream* err);

}  // namespace vfio::cli
