// `status --json`: the snapshot for scripts. Additive changes bump the minor format version.
#pragma once

#include <nlohmann/json.hpp>

#include "observe/device_names.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio::cli {

// 1.3 (issue 17): `hints` (what the text says of the host as a whole, with a kind); each finding's
// `kind` and `device`; the boot display's `boot-display` hazard, as the plan refuses it.
// 1.4: a name pci.ids lacks is null in `names` (was ""), as every absent value.
inline constexpr const char* kStatusFormatVersion = "1.4";

// One device as scripts see it; the plan's JSON reuses the id fields.
nlohmann::ordered_json device_json(const PciDevice& device, const DeviceNames& names);
// `owned`: each group's "held_by" (null when the record does not hold it).
nlohmann::ordered_json status_json(const HostSnapshot& snapshot, const DeviceNames& names,
                                   const OwnershipRecord& owned = {});

}  // namespace vfio::cli
