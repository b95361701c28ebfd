#include "cli/device_text.h"

#include <algorithm>

#include <fmt/format.h>

namespace vfio::cli {
namespace {

// A UTF-8 continuation byte: not the start of a code point.
bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

// Columns of `text`, a column per code point.
std::size_t width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

}  // namespace

std::string ids_text(const PciIds& ids) {
  return fmt::format("[{:04x}:{:04x}]", ids.vendor, ids.device);
}

std::string name_text(const PciIds& ids, const PciNames& n) {
  std::string vendor = n.vendor.empty() ? fmt::format("Vendor {:04x}", ids.vendor) : n.vendor;
  std::string device = n.device.empty() ? fmt::format("Device {:04x}", ids.device) : n.device;
  return fmt::format("{} {}", vendor, device);
}

std::string name_text(const PciIds& ids, const DeviceNames& names) {
  return name_text(ids, names.lookup(ids));
}

std::string description_text(const PciIds& ids, const PciNames& n) {
  std::string class_name =
      n.class_name.empty() ? fmt::format("Class {:04x}", ids.class_code >> 8) : n.class_name;
  return fmt::format("{}: {}", class_name, name_text(ids, n));
}

std::string description_text(const PciDevice& d, const DeviceNames& names) {
  return description_text(d.ids, names.lookup(d.ids));
}

std::string short_vendor_name(const std::string& vendor) {
  const auto open = vendor.rfind('[');
  const auto close = vendor.rfind(']');
  if (open != std::string::npos && close != std::string::npos && close > open + 1) {
    return vendor.substr(open + 1, close - open - 1);
  }
  std::string name = vendor.substr(0, vendor.find(','));
  // Company words, dropped from the end while something is left.
  static constexpr std::string_view kCompanyWords[] = {
      "Corporation", "Corp.",      "Corp",         "Inc.",        "Inc",           "Co.",
      "Co",          "Ltd.",       "Ltd",          "Limited",     "LLC",           "GmbH",
      "AG",          "Technology", "Technologies", "Electronics", "Semiconductor", "Systems"};
  for (bool dropped = true; dropped;) {
    dropped = false;
    const auto space = name.rfind(' ');
    if (space == std::string::npos) break;
    const std::string_view last = std::string_view(name).substr(space + 1);
    for (std::string_view word : kCompanyWords) {
      if (last == word) {
        name.erase(space);
        dropped = true;
        break;
      }
    }
  }
  return name;
}

std::string description_fitting(const PciDevice& d, const DeviceNames& names, std::size_t columns) {
  const PciNames n = names.lookup(d.ids);
  std::string full = description_text(d.ids, n);
  if (columns == 0) return full;
  if (width(full) <= columns) return full;
  const std::string named = name_text(d.ids, n);
  if (width(named) <= columns) return named;
  std::string shorter = named;
  if (!n.vendor.empty()) {
    const std::string vendor = short_vendor_name(n.vendor);
    if (!vendor.empty()) shorter = vendor + named.substr(n.vendor.size());
  }
  return fit_columns(shorter, columns);
}

std::string fit_columns(std::string_view text, std::size_t columns) {
  constexpr std::string_view kCut = "...";
  if (width(text) <= columns) return std::string(text);
  // Keep columns - 3 code points, then "..." (fewer than 4 columns: only dots).
  const std::size_t keep = columns > kCut.size() ? columns - kCut.size() : 0;
  std::size_t end = 0;
  for (std::size_t kept = 0; end < text.size(); ++end) {
    if (!is_continuation(text[end]) && kept++ == keep) break;
  }
  return std::string(text.substr(0, end)) +
         std::string(kCut.substr(0, std::min(columns, kCut.size())));
}

}  // namespace vfio::cli
