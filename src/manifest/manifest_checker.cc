#include "manifest/manifest_checker.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include <fmt/format.h>

#include "util/did_you_mean.h"

namespace vfio {

std::string join_keys(const Keys& names) {
  std::string out;
  for (auto name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::string described(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::Mapping:
      return "a mapping";
    case YamlNode::Kind::Sequence:
      return "a list";
    case YamlNode::Kind::Null:
      return "nothing";
    case YamlNode::Kind::Scalar:
      break;
  }
  switch (scalar_type(node)) {
    case ScalarType::Null:
      return "nothing";
    case ScalarType::Bool:
      return "the boolean " + node.value;
    case ScalarType::Int:
    case ScalarType::Float:
      return "the number " + node.value;
    case ScalarType::String:
      break;
  }
  return fmt::format("the string \"{}\"", node.value);
}

void Checker::error(const SourceLocation& at, std::string message) {
  diagnostics_.push_back({at, std::move(message), ManifestProblem::Invalid});
}

// Unknown keys (with a did-you-mean) and missing required keys of a mapping; `what` names it.
// A required key that a misspelt one was taken for is not reported missing as well. Returns
// the keys suggested for misspelt ones.
std::vector<std::string_view> Checker::check_keys(const YamlNode& map, std::string_view what,
                                                  const Keys& known, const Keys& required) {
  std::vector<std::string_view> suggested;
  for (const auto& entry : map.entries) {
    const std::string& name = entry.key.value;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (auto closest = closest_name(name, known)) {
      suggested.push_back(*closest);
      error(entry.key.location,
            fmt::format("unknown key '{}' in {}; did you mean '{}'?", name, what, *closest));
    } else {
      error(entry.key.location,
            fmt::format("unknown key '{}' in {}; known keys: {}", name, what, join_keys(known)));
    }
  }
  for (auto key : required) {
    if (!map.find(key) && std::find(suggested.begin(), suggested.end(), key) == suggested.end())
      error(map.location, fmt::format("{} is missing required key '{}'", what, key));
  }
  return suggested;
}

bool Checker::expect_kind(const YamlEntry& entry, YamlNode::Kind kind, std::string_view kind_name) {
  if (entry.value.kind == kind) return true;
  if (entry.value.kind == YamlNode::Kind::Null) {
    error(entry.key.location, fmt::format("'{}' has no value", entry.key.value));
  } else {
    error(entry.value.location, fmt::format("'{}' must be {}, not {}", entry.key.value, kind_name,
                                            described(entry.value)));
  }
  return false;
}

// A string; a number or boolean written unquoted gets a hint to quote it when `example` (what
// a good value looks like) is given.
std::optional<std::string> Checker::string_of(const YamlEntry& entry, std::string_view example) {
  const YamlNode& v = entry.value;
  if (v.kind == YamlNode::Kind::Scalar && scalar_type(v) == ScalarType::String) return v.value;
  if (v.kind == YamlNode::Kind::Null || scalar_type(v) == ScalarType::Null) {
    error(entry.key.location, fmt::format("'{}' has no value", entry.key.value));
  } else if (v.kind == YamlNode::Kind::Scalar && !example.empty()) {
    error(v.location,
          fmt::format("'{}' must be a string{}, not {}; quote it: \"{}\"", entry.key.value,
                      example.empty() ? "" : fmt::format(" like \"{}\"", example), described(v),
                      v.value));
  } else {
    error(v.location, fmt::format("'{}' must be a string, not {}", entry.key.value, described(v)));
  }
  return std::nullopt;
}

std::optional<long long> Checker::integer_of(const YamlEntry& entry, long long min, long long max) {
  const YamlNode& v = entry.value;
  if (v.kind == YamlNode::Kind::Null || scalar_type(v) == ScalarType::Null) {
    error(entry.key.location, fmt::format("'{}' has no value", entry.key.value));
    return std::nullopt;
  }
  long long value = 0;
  const std::string& text = v.value;
  const char* begin = text.data() + (text.starts_with('+') ? 1 : 0);
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value, 10);
  bool decimal = v.kind == YamlNode::Kind::Scalar && scalar_type(v) == ScalarType::Int &&
                 end == text.data() + text.size() && ec != std::errc::invalid_argument;
  if (!decimal) {
    error(v.location,
          fmt::format("'{}' must be a whole number, not {}", entry.key.value, described(v)));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    error(v.location,
          fmt::format("'{}' must be between {} and {}, not {}", entry.key.value, min, max, text));
    return std::nullopt;
  }
  return value;
}

// One of a few words; a misspelt one gets a did-you-mean.
std::optional<std::string> Checker::word_of(const YamlEntry& entry, const Keys& words) {
  auto text = string_of(entry);
  if (!text) return std::nullopt;
  if (std::find(words.begin(), words.end(), *text) != words.end()) return text;
  std::string message =
      fmt::format("'{}' must be {} or {}, not '{}'", entry.key.value, words[0], words[1], *text);
  if (auto closest = closest_name(*text, words))
    message += fmt::format("; did you mean '{}'?", *closest);
  error(entry.value.location, std::move(message));
  return std::nullopt;
}

}  // namespace vfio
