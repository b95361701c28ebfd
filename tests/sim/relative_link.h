// Relative symlink targets as sysfs writes them ("../../../devices/pci0000:00/..."), for the
// simulator's namespace and the wider host's files alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vfio::sim {

// "../" `levels` times.
inline std::string up(std::size_t levels) {
  std::string out;
  for (std::size_t i = 0; i < levels; ++i) out += "../";
  return out;
}

// How many components "a/b/c" has (3).
inline std::size_t depth(std::string_view path) {
  std::size_t n = 1;
  for (char c : path) n += c == '/' ? 1 : 0;
  return n;
}

}  // namespace vfio::sim
