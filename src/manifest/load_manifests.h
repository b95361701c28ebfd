// Reading a manifest set from disk: files, and directories of *.yaml files.
#pragma once

#include <string>
#include <vector>

#include "manifest/desired_state.h"

namespace vfio {

// Each path is a file or a directory whose *.yaml files (not hidden ones) are read in name
// order; at least one file must result. Throws ManifestError: problem Missing when a path is
// missing or unreadable or a directory holds no *.yaml, Invalid when any content is wrong.
DesiredState load_manifests(const std::vector<std::string>& paths);

}  // namespace vfio
