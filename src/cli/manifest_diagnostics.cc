#include "cli/manifest_diagnostics.h"

#include <ostream>

#include "cli/exit_codes.h"
#include "manifest/manifest_error.h"

namespace vfio::cli {

int report_manifest_error(const ManifestError& error, std::ostream& err) {
  for (const auto& diagnostic : error.diagnostics()) err << diagnostic.str() << '\n';
  return error.problem() == ManifestProblem::Missing ? kExitManifestMissing : kExitManifestInvalid;
}

}  // namespace vfio::cli
