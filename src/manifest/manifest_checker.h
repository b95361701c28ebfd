// The manifest decoder's checks of single values and mappings: each reports what is wrong at its
// FILE:LINE:COLUMN and in words a person can act on (a did-you-mean for a misspelt key or word,
// a hint to quote a number that must be a string). Internal to src/manifest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/manifest_error.h"
#include "manifest/yaml_reader.h"

namespace vfio {

using Keys = std::vector<std::string_view>;

// "version, settings, assignments"
std::string join_keys(const Keys& names);

// How a person would name what was written instead of the expected kind: "a list", "the number
// 3", "the string \"x\"".
std::string described(const YamlNode& node);

// Reports problems of one file into a list.
class Checker {
 public:
  explicit Checker(std::vector<Diagnostic>& diagnostics) : diagnostics_(diagnostics) {}

  void error(const SourceLocation& at, std::string message);

  // Unknown keys (with a did-you-mean) and missing required keys of a mapping; `what` names it.
  // A required key that a misspelt one was taken for is not reported missing as well. Returns
  // the keys suggested for misspelt ones.
  std::vector<std::string_view> check_keys(const YamlNode& map, std::string_view what,
                                           const Keys& known, const Keys& required);
  // The entry's value is of `kind`; else reported (`kind_name`: "a mapping", "a list").
  bool expect_kind(const YamlEntry& entry, YamlNode::Kind kind, std::string_view kind_name);
  // A string; a number or boolean written unquoted gets a hint to quote it when `example` (what
  // a good value looks like) is given.
  std::optional<std::string> string_of(const YamlEntry& entry, std::string_view example = {});
  // A decimal whole number from `min` to `max`.
  std::optional<long long> integer_of(const YamlEntry& entry, long long min, long long max);
  // One of a few words; a misspelt one gets a did-you-mean.
  std::optional<std::string> word_of(const YamlEntry& entry, const Keys& words);

 private:
  std::vector<Diagnostic>& diagnostics_;
};

}  // namespace vfio
