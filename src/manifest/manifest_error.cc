#include "manifest/manifest_error.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace vfio {
namespace {

std::string join_lines(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> lines;
  lines.reserve(diagnostics.size());
  for (const auto& d : diagnostics) lines.push_back(d.str());
  return fmt::format("{}", fmt::join(lines, "\n"));
}

}  // namespace

std::string Diagnostic::str() const {
  if (location.file.empty()) return message;
  return fmt::format("{}: {}", location.str(), message);
}

ManifestError::ManifestError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_lines(diagnostics)), diagnostics_(std::move(diagnostics)) {}

ManifestProblem ManifestError::problem() const {
  bool invalid = std::any_of(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& d) {
    return d.problem == ManifestProblem::Invalid;
  });
  return invalid || diagnostics_.empty() ? ManifestProblem::Invalid : ManifestProblem::Missing;
}

}  // namespace vfio
