// `vfio-reconcile apply MANIFEST... [--dry-run] [--json] [--jobs N] [--no-prune] [--wait]`:
// plan, then carry the plan out group by group (or, with --dry-run, show it and write nothing).
// `apply --plan FILE` carries out a plan saved by `plan --out FILE` (cli/saved_plan.h), only
// while the host is as it was. `apply --boot [--config-dir DIR]` is the boot unit's run: with no
// MANIFEST it reads DIR/manifest.yaml (or .yml) and DIR/manifest.d/*.yaml and *.yml (none at all:
// nothing to do), and it waits for another run's lock instead of giving up. `apply --early` is the
// initramfs's boot run and `apply --boot --device ADDR` the udev rule's: each narrowed to a
// PlanScope (plan/plan.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/command_env.h"
#include "manifest/load_manifests.h"

namespace vfio::cli {

struct ApplyCommandOptions {
  std::vector<std::string> manifests;
  std::string plan_file;  // not empty: apply this saved plan (no MANIFEST)
  bool dry_run = false;
  bool json = false;
  bool explain = false;
  bool no_prune = false;
  bool yes = false;              // prune without asking, also on a terminal
  bool wait = false;             // wait for another run's lock instead of exiting 75
  std::optional<unsigned> jobs;  // none: the manifest's settings (default 4)
  bool boot = false;             // the boot unit's run: default manifests, waits for the lock
  bool early = false;            // the initramfs's run (implies boot): PlanScope::Kind::Early
  std::string device;            // not empty: PlanScope::Kind::Device, an address parse() took
  std::string config_dir =
      kDefaultConfigDir;  // --boot without MANIFEST reads its manifests from here
};

int run_apply(const ApplyCommandOptions& options, const CommandEnv& env);

}  // namespace vfio::cli
