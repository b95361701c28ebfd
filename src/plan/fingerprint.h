// A short, stable digest of the observed state a plan depends on, so a plan can be matched to
// the host it was made for (and a changed host noticed), and the facts it covers as typed
// values, so that a saved plan (cli/saved_plan.h) can name what changed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

// One device as the fingerprint sees it.
struct FingerprintDevice {
  std::string address;   // "0000:01:00.0"
  std::string identity;  // "vendor:device:subvendor:subdevice:class:kind", hex but the kind
  std::optional<std::string> driver;
  std::optional<std::string> driver_override;
  std::optional<unsigned> iommu_group;

  bool operator==(const FingerprintDevice&) const = default;
};

// Everything the fingerprint covers. Names and findings do not count.
struct FingerprintFacts {
  bool iommu_active = false;
  bool vfio_pci_loaded = false;
  std::vector<FingerprintDevice> devices;  // in address order, as observed

  bool operator==(const FingerprintFacts&) const = default;
};

FingerprintFacts fingerprint_facts(const HostSnapshot& host);

// "fnv1a64:<16 hex digits>" over every device's address, ids, kind, driver, override and group,
// and whether the IOMMU and vfio-pci are there.
std::string fingerprint(const FingerprintFacts& facts);
std::string fingerprint(const HostSnapshot& host);

// What differs from `before` to `after`, one line each ("0000:01:00.0: driver nvidia ->
// vfio-pci", "0000:02:00.0: gone", "vfio-pci: loaded"), in address order; at most `limit`
// lines, the last then saying how many more there are. Empty when nothing differs.
std::vector<std::string> describe_changes(const FingerprintFacts& before,
                                          const FingerprintFacts& after, std::size_t limit = 20);

}  // namespace vfio
