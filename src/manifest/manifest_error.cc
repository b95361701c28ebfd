#include "manifest/manifest_error.h"

#include <algorithm>
#include <utility>

namespace vfio {
namespace {

std::string join_lines(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) text += (text.empty() ? "" : "\n") + d.str();
  return text;
}

}  // namespace

std::string Diagnostic::str() const {
  if (location.file.empty()) return message;
  return location.str() + ": " + message;
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
