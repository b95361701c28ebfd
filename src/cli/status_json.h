// `status --json`: the snapshot for scripts. Additive changes bump the minor format version.
#pragma once

#include <nlohmann/json.hpp>

#include "observe/host_snapshot.h"

namespace vfio::cli {

inline constexpr const char* kStatusFormatVersion = "1.1";

// One device as scripts see it; the plan's JSON reuses the id fields.
nlohmann::ordered_json device_json(const PciDevice& device);
nlohmann::ordered_json status_json(const HostSnapshot& snapshot);

}  // namespace vfio::cli
