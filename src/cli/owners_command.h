// `vfio-reconcile owners [OWNER...] [--json]`: what each owner holds, as the ownership record
// says (the equivalent of `terraform state list`), with each held group's members as they are
// now. Read-only: the record is read, never created or locked.
#pragma once

#include <string>
#include <vector>

#include "cli/command_env.h"

namespace vfio::cli {

inline constexpr const char* kOwnersFormatVersion = "1.0";

struct OwnersOptions {
  std::vector<std::string> owners;  // none: every owner in the record
  bool json = false;
};

// Exit 0, also when nothing is held; 64 for an OWNER that is not an owner name; 77 when the
// record cannot be read for want of permission (1 for any other reason it cannot be read).
int run_owners(const OwnersOptions& options, const CommandEnv& env);

}  // namespace vfio::cli
