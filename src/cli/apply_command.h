// `vfio-reconcile apply MANIFEST... [--dry-run] [--json] [--jobs N] [--no-prune] [--wait]`:
// plan, then carry the plan out group by group (or, with --dry-run, show it and write nothing).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/command_env.h"

namespace vfio::cli {

struct ApplyCommandOptions {
  std::vector<std::string> manifests;
  bool dry_run = false;
  bool json = false;
  bool explain = false;
  bool no_prune = false;
  bool wait = false;             // wait for another run's lock instead of exiting 75
  std::optional<unsigned> jobs;  // none: the manifest's settings (default 4)
};

int run_apply(const ApplyCommandOptions& options, const CommandEnv& env);

}  // namespace vfio::cli
