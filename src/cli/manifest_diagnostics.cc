#include "cli/manifest_diagnostics.h"

#include <ostream>

#include "cli/exit_codes.h"
#include "manifest/manifest_error.h"

namespace vfio::cli {

int report_manifest_error(const ManifestError& error, std::ostream& err, LogStyle style) {
  for (const auto& diagnostic : error.diagnostics()) write_error_line(err, style, diagnostic.str());
  return error.problem() == ManifestProblem::Missing ? kExitManifestMissing : kExitManifestInvalid;
}

}  // namespace vfio::cli
