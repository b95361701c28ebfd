// How every command reports a manifest that cannot be used.
#pragma once

#include <iosfwd>

#include "cli/logging.h"

namespace vfio {
class ManifestError;
}

namespace vfio::cli {

// Prints each problem as a plain "FILE:LINE:COLUMN: message" line, as compilers do, so editors
// can jump to each (in the journal, each with the error priority); returns 65 (invalid) or 66
// (missing or unreadable).
int report_manifest_error(const ManifestError& error, std::ostream& err, LogStyle style);

}  // namespace vfio::cli
