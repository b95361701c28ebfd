// DesiredState: what the manifests ask for, decoded and checked. Plain data, no I/O.
//
// Every value keeps the place it was written, so the planner's explanations and any later error
// can send a person to FILE:LINE:COLUMN.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sysfs/pci_address.h"

namespace vfio {

struct SourceLocation {
  std::string file;
  int line = 0;             // 1-based; 0: unknown
  int column = 0;           // 1-based
  std::string str() const;  // "manifest.yaml:12:7"
};

// `class: "0x02"`, `"0x0200"` or `"0x020000"`: a prefix of the 6-digit class code.
struct ClassPrefix {
  uint32_t value = 0;
  int digits = 6;  // 2, 4 or 6 hex digits
  bool matches(uint32_t class_code) const { return (class_code >> (4 * (6 - digits))) == value; }
};

// All given fields must hold (an empty match is rejected by the decoder).
struct DeviceMatch {
  std::optional<PciAddress> address;
  std::optional<uint16_t> vendor;
  std::optional<uint16_t> device;
  std::optional<ClassPrefix> class_prefix;
  std::optional<uint16_t> subsystem_vendor;
  std::optional<uint16_t> subsystem_device;
  SourceLocation location;  // of the `match:` mapping

  // "address 0000:01:00.0", "vendor 8086, device 10d3", "class 0x0200": as a person wrote it.
  std::string describe() const;
};

enum class WantedState { Vfio, Host };

// `driver:` of a claim: which vfio driver takes the devices (docs/contract.md, key `driver`).
struct DriverChoice {
  // Default: vfio-pci, and a device on any vfio driver (a variant too) counts as claimed.
  // Auto: per device, the most specific `vfio_pci:` alias of modules.alias, else vfio-pci.
  // Named: exactly `name` for the devices the assignment selects (companions: vfio-pci).
  enum class Kind { Default, Auto, Named };
  Kind kind = Kind::Default;
  std::string name;  // Named: as the kernel spells it ("mlx5_vfio_pci")
  SourceLocation location;
};
enum class Companions { Auto, Listed };

// Who an assignment belongs to: its file's `owner:` (docs/contract.md, "Owners"). A run prunes
// and forgets only what the owners in its manifest set hold, and never takes a group that the
// ownership record says another owner holds.
inline constexpr const char* kDefaultOwner = "default";

struct Assignment {
  std::string name;
  std::string owner = kDefaultOwner;  // its file's `owner:`
  SourceLocation location;            // of the assignment's mapping
  WantedState state = WantedState::Vfio;
  DeviceMatch match;
  std::optional<unsigned> count;
  // SR-IOV: each matched PF carries exactly this many VFs, all claimed for vfio-pci; the PF
  // itself stays on its host driver (`count` counts PFs).
  std::optional<unsigned> vfs;
  SourceLocation vfs_location;  // of the `vfs:` value
  Companions companions = Companions::Auto;
  DriverChoice driver;
  std::optional<std::string> force;  // the reason; overrides safety refusals
};

struct Settings {
  std::chrono::milliseconds probe_timeout{5000};
  unsigned jobs = 4;
  std::optional<SourceLocation> location;  // where settings were given, if anywhere
};

struct DesiredState {
  std::vector<std::string> files;  // the manifest files read, in order
  Settings settings;
  std::vector<Assignment> assignments;  // in file order, then document order
  // The owners this manifest set speaks for: that of every file with an `assignments` list,
  // empty or not (a settings-only file speaks for none), each where it was first declared (the
  // `owner:` value, or the file when it gives none). Their groups that no assignment names are
  // released (or, when adopted, forgotten); other owners' groups are not this run's.
  std::map<std::string, SourceLocation> owners;

  bool speaks_for(const std::string& owner) const { return owners.count(owner) > 0; }
};

}  // namespace vfio
