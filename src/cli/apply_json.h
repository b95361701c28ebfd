// `apply --json`: the plan's JSON (plan_json.h) with, per change, an "outcome" object, and an
// "applied" summary. Additive to format 1.0, as the contract allows.
#pragma once

#include <nlohmann/json.hpp>

#include "apply/apply_outcome.h"
#include "observe/device_names.h"
#include "plan/plan.h"

namespace vfio::cli {

nlohmann::ordered_json apply_json(const Plan& plan, const ApplyOutcome& outcome,
                                  const DeviceNames& names, bool dry_run);

}  // namespace vfio::cli
