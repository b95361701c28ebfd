// `vfio-reconcile validate MANIFEST...`: decode the manifests and report; no sysfs access.
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
};

// Prints "MANIFEST...: valid, N assignments (V to vfio, H to host)" to `out` and returns 0, or
// prints every problem as "FILE:LINE:COLUMN: message" to `err` and returns 65 (invalid) or 66
// (missing or unreadable; 65 wins when both occur).
int run_validate(const ValidateOptions& options, Store& store, std::ostream& out, std::ostream& err,
                 LogStyle style);

}  // namespace vfio::cli
