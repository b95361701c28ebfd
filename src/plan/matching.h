// Which observed devices an assignment's match selects. Matching joins the manifest's terms with
// the observation's, so it lives with the planner, not with either side.
#pragma once

#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"

namespace vfio {

// Every key the match gives holds for the device (an empty match holds for all; the decoder
// refuses one).
bool matches(const DeviceMatch& match, const PciDevice& device);

// A key of the match that does not hold for the device: what the manifest says, what the device
// is ("class", "0x03", "0x020000").
struct KeyMismatch {
  std::string key;
  std::string manifest;
  std::string device;
};

// The keys given beside `address` that do not hold for `device`, in the manifest's key order:
// with an address, the other keys are a check that the slot holds the device described.
std::vector<KeyMismatch> guard_mismatches(const DeviceMatch& match, const PciDevice& device);

}  // namespace vfio
