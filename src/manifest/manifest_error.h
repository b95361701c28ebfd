// ManifestError: everything wrong with a set of manifests, each problem at its FILE:LINE:COLUMN.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "manifest/desired_state.h"

namespace vfio {

// What kind of failure a problem is; the CLI maps it to an exit code.
enum class ManifestProblem {
  Invalid,  // the content is wrong (exit 65)
  Missing,  // a file or directory is missing or unreadable (exit 66)
};

struct Diagnostic {
  SourceLocation location;  // line 0: about the whole file ("FILE: message")
  std::string message;
  ManifestProblem problem = ManifestProblem::Invalid;

  // "manifest.yaml:4:11: message"
  std::string str() const;
};

class ManifestError : public std::runtime_error {
 public:
  explicit ManifestError(std::vector<Diagnostic> diagnostics);

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // Invalid when any problem is (65 wins over 66 in the contract's order), else Missing.
  ManifestProblem problem() const;

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace vfio
