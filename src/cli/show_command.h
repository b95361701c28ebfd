// `vfio-reconcile show [--match-ids]`: the host's vfio bindings today as a manifest
// (bindings_manifest.h), on stdout. Reads only; the ownership record is read, never created.
#pragma once

#include "cli/command_env.h"

namespace vfio::cli {

struct ShowOptions {
  bool match_ids = false;  // vendor:device matches (fleet form) instead of addresses
};

// Exit 0; 69 when the root holds no PCI bus.
int run_show(const ShowOptions& options, const CommandEnv& env);

}  // namespace vfio::cli
