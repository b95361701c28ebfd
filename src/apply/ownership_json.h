// The ownership journal's file format, version 3, apart from where the file lives:
//
//   {"format_version": 3, "boot_id": "...", "groups": [{"group": 12, "how": "bound",
//    "owner": "boot", "assignment": "gpu0", "in_flight": false, "devices": [{"address":
//    "0000:01:00.0", "original_driver": "nouveau", "original_override": null}], "vfs": []}]}
//
// A device may also say "vfio_driver" (the vfio variant a claim gave it). Version 3 (added with
// SR-IOV) added each group's "vfs": the PFs whose VF count this tool set, with their originals.
// Version 2 is the same without it; version 1 (before owners) also without "owner", read with
// every group held by the default owner. Older versions are read; the next save writes version 3.
//
// The file is read back by a later run as root and its names end up in sysfs paths and writes,
// so decoding checks every field and drops what does not hold, with a problem line saying why.
#pragma once

#include <string>
#include <string_view>

#include "apply/ownership_journal.h"
#include "plan/ownership.h"

namespace vfio {

inline constexpr int kOwnershipFormatVersion = 3;
inline constexpr int kOldestOwnershipFormatVersion = 1;  // still read

// Pretty-printed (2 spaces), groups in number order, ending in a newline. Throws
// std::invalid_argument for a record that decode_ownership() would not take back (a driver name
// that is not a single path component, say): that is a bug in the caller, not a state to keep.
std::string encode_ownership(const OwnershipRecord& record, const std::string& boot_id);

// `file` is how problems name the file; `boot_id` is the running kernel's.
LoadedRecord decode_ownership(std::string_view bytes, const std::string& file,
                              const std::string& boot_id);

}  // namespace vfio
