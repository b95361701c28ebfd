// The ownership record as plan and apply read it: problems are warnings, never fatal.
#pragma once

#include "apply/ownership_journal.h"
#include "cli/command_env.h"

namespace vfio::cli {

// Reads the journal in env.state_dir without writing anything, and logs each problem found.
// An unreadable boot id is a problem too: the record is then ignored.
LoadedRecord read_ownership(const CommandEnv& env);

// The boot id to stamp records with: env.boot_id, or the running kernel's. Throws StateDirError.
std::string current_boot_id(const CommandEnv& env);

}  // namespace vfio::cli
