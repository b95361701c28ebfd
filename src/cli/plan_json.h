// The plan for scripts, in the contract's shape (format_version 1.x; additive changes bump the
// minor version only).
#pragma once

#include <nlohmann/json.hpp>

#include "plan/plan.h"

namespace vfio::cli {

inline constexpr const char* kPlanFormatVersion = "1.4";

nlohmann::ordered_json plan_json(const Plan& plan);

}  // namespace vfio::cli
