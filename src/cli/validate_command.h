// `vfio-reconcile validate MANIFEST... [--json]`: decode the manifests and report; no sysfs
// access.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/logging.h"

namespace vfio {
class Store;
}  // namespace vfio

namespace vfio::cli {

struct ValidateOptions {
  std::vector<std::string> manifests;  // files or directories of *.yaml and *.yml
  bool json = false;  // the verdict and every problem as JSON on `out`, nothing on `err`
};

// `validate --json`'s format; additive changes bump the minor version.
inline constexpr const char* kValidateFormatVersion = "1.0";

// Prints "MANIFEST...: valid, N assignments (V to vfio, H to host)" to `out` and returns 0, or
// prints every problem as "FILE:LINE:COLUMN: message" to `err` and returns 65 (invalid) or 66
// (missing or unreadable; 65 wins when both occur). With --json the same verdict, counts and
// problems (each with its file, line and column) are one JSON object on `out`.
int run_validate(const ValidateOptions& options, Store& store, std::ostream& out, std::ostream& err,
                 LogStyle style);

}  // namespace vfio::cli
