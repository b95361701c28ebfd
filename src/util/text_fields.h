// Reading the line-and-column text files of /proc (net/route, mountinfo, swaps).
#pragma once

#include <string_view>
#include <vector>

namespace vfio {

// The blank-separated (space or tab) fields of one line.
std::vector<std::string_view> text_fields(std::string_view line);

// f(line) for each line of `text`, without its newline.
template <class F>
void for_each_line(std::string_view text, const F& f) {
  while (!text.empty()) {
    const auto newline = text.find('\n');
    f(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
}

}  // namespace vfio
