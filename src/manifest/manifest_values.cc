#include "manifest/manifest_values.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "util/hex.h"

namespace vfio {
namespace {

bool fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

}  // namespace

namespace {

// Assignment and owner names share one syntax; `what` says which the message is about.
bool is_name(std::string_view text, std::string_view what, std::string* why) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (text.empty()) return fail(why, fmt::format("an {} name may not be empty", what));
  if (!lower_or_digit(text.front()) || !std::all_of(text.begin(), text.end(), [&](char c) {
        return lower_or_digit(c) || c == '-' || c == '_';
      })) {
    return fail(why, fmt::format("invalid {} name '{}': use lower-case letters, digits, "
                                 "'-' and '_', starting with a letter or digit",
                                 what, text));
  }
  if (text.size() > kMaxAssignmentNameLength) {
    return fail(why, fmt::format("{} name '{}' is {} characters long; at most {} are "
                                 "allowed",
                                 what, text, text.size(), kMaxAssignmentNameLength));
  }
  return true;
}

}  // namespace

bool is_assignment_name(std::string_view text, std::string* why) {
  return is_name(text, "assignment", why);
}

bool is_owner_name(std::string_view text, std::string* why) {
  return is_name(text, "owner", why);
}

std::optional<uint16_t> parse_pci_id(std::string_view text, std::string* why) {
  if (text.size() != 4 || !parse_hex(text)) {
    fail(why, fmt::format("must be 4 hex digits like \"8086\", not '{}'", text));
    return std::nullopt;
  }
  return static_cast<uint16_t>(*parse_hex(text));
}

std::optional<ClassPrefix> parse_class_prefix(std::string_view text, std::string* why) {
  std::string_view digits = text.substr(std::min<std::size_t>(2, text.size()));
  if (!text.starts_with("0x") || !parse_hex(digits) ||
      (digits.size() != 2 && digits.size() != 4 && digits.size() != 6)) {
    fail(why, fmt::format("must be 0x and 2, 4 or 6 hex digits (class, subclass, programming "
                          "interface) like \"0x0200\", not '{}'",
                          text));
    return std::nullopt;
  }
  return ClassPrefix{*parse_hex(digits), static_cast<int>(digits.size())};
}

std::optional<std::string> parse_driver_name(std::string_view text, std::string* why) {
  // A module's name: at most MODULE_NAME_LEN - 1 (55) characters; every PCI driver's name is
  // lower case, digits, '_' and '-'.
  constexpr std::size_t kMaxModuleName = 55;
  const bool valid =
      !text.empty() && text.size() <= kMaxModuleName &&
      std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
  if (!valid) {
    fail(why, fmt::format("must be vfio-pci, auto or a vfio driver's name (lower case letters, "
                          "digits, '_' and '-', at most {} characters) like \"mlx5_vfio_pci\", "
                          "not '{}'",
                          kMaxModuleName, text));
    return std::nullopt;
  }
  std::string name(text);
  std::replace(name.begin(), name.end(), '-', '_');
  if (name == "vfio_pci") return std::string("vfio-pci");
  return name;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* why) {
  constexpr std::string_view kShape = "must be a duration like \"5s\", \"500ms\" or \"2m\"";
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view number = text.substr(0, digits), unit = text.substr(digits);
  if (number.empty() || (number.size() > 1 && number.front() == '0') ||
      (unit != "ms" && unit != "s" && unit != "m")) {
    fail(why, fmt::format("{}, not '{}'", kShape, text));
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  const uint64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : 60000;
  const auto max = static_cast<uint64_t>(kMaxProbeTimeout.count());
  const auto min = static_cast<uint64_t>(kMinProbeTimeout.count());
  if (ec != std::errc() || value > max || value * scale > max || value * scale < min) {
    fail(why, fmt::format("must be between 100ms and 10m, not {}", text));
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(value * scale));
}

}  // namespace vfio
