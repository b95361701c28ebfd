// Which observed devices an assignment's match selects. Matching joins the manifest's terms with
// the observation's, so it lives with the planner, not with either side.
#pragma once

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"

namespace vfio {

// Every key the match gives holds for the device (an empty match holds for all; the decoder
// refuses one).
bool matches(const DeviceMatch& match, const PciDevice& device);

}  // namespace vfio
