// The plan for scripts, in the contract's shape (additive changes bump the minor version only).
// 2.0 (issue 17): every key is snake_case: apply's `applied` counts are keyed `vfs_set`,
// `rolled_back`, `not_started`, `dry_run` (values that name a kind, as `result` and `action`,
// stay the contract's words: `rolled-back`, `set-vfs`); each change says whether it is `pruned`.
// 2.1: `held_by` says `in_flight` as `status --json` does; a device's `name` has lspci's stand-in
// for the half pci.ids lacks ("NVIDIA Corporation Device 2684", was "NVIDIA Corporation ").
#pragma once

#include <nlohmann/json.hpp>

#include "observe/device_names.h"
#include "plan/plan.h"

namespace vfio::cli {

inline constexpr const char* kPlanFormatVersion = "2.1";

// Who the ownership record says holds a group, the one shape `plan`, `apply` and `status` give
// it: {owner, assignment, how, in_flight}.
nlohmann::ordered_json holder_json(const Holder& holder);

// Each device's `name` is looked up in `names`.
nlohmann::ordered_json plan_json(const Plan& plan, const DeviceNames& names);

}  // namespace vfio::cli
