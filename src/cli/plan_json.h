// The plan for scripts, in the contract's shape (additive changes bump the minor version only).
// 2.0 (issue 17): every key is snake_case: apply's `applied` counts are keyed `vfs_set`,
// `rolled_back`, `not_started`, `dry_run` (values that name a kind, as `result` and `action`,
// stay the contract's words: `rolled-back`, `set-vfs`); each change says whether it is `pruned`.
#pragma once

#include <nlohmann/json.hpp>

#include "plan/plan.h"

namespace vfio::cli {

inline constexpr const char* kPlanFormatVersion = "2.0";

nlohmann::ordered_json plan_json(const Plan& plan);

}  // namespace vfio::cli
