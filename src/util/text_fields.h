// Reading the small text files the kernel writes: sysfs attributes (one value and a newline),
// the line-and-column files of /proc (net/route, mountinfo, swaps), whole numbers in them.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
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

// Without the blanks (space, tab) around it and the newline(s) the kernel ends a value with.
std::string_view trim(std::string_view text);

// The whole of `text` as a number in `base` (no sign, no blanks, nothing after it); none when it
// is anything else or does not fit in T.
template <class T>
std::optional<T> parse_whole_number(std::string_view text, int base = 10) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace vfio
