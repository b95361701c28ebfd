// How every command reports a manifest that cannot be used.
#pragma once

#include <iosfwd>

namespace vfio {
class ManifestError;
}

namespace vfio::cli {

// Prints each problem as a plain "FILE:LINE:COLUMN: message" line, as compilers do, so editors
// can jump to each; returns 65 (invalid) or 66 (missing or unreadable).
int report_manifest_error(const ManifestError& error, std::ostream& err);

}  // namespace vfio::cli
