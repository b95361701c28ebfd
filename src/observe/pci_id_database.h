// PciIdDatabase: vendor, device and class names from pci.ids, through libpci. libpci parses
// the whole file on the first lookup, not before: constructing one costs nothing.
#pragma once

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "observe/device_names.h"

struct pci_access;

namespace vfio {

class PciIdDatabase final : public DeviceNames {
 public:
  // The environment variable that points at another pci.ids (tests use a fixed copy so their
  // expected output does not change with the distribution's database).
  static constexpr const char* kPathVariable = "VFIO_RECONCILE_PCI_IDS";

  // `ids_file`: a pci.ids file; none: $VFIO_RECONCILE_PCI_IDS, else libpci's default
  // (/usr/share/misc/pci.ids on Debian). A missing or unreadable file gives empty names, and the
  // printers fall back to hex ids. udev's hwdb is never asked, so names depend on the file alone.
  explicit PciIdDatabase(std::optional<std::string> ids_file = std::nullopt);
  ~PciIdDatabase() override;
  PciIdDatabase(const PciIdDatabase&) = delete;
  PciIdDatabase& operator=(const PciIdDatabase&) = delete;

  // Waits for a prefetch() in flight first.
  PciNames lookup(const PciIds& ids) const override;
  const std::string& path() const { return path_; }

  // Looks `ids` up on another thread, so that their names are ready when they are printed:
  // apply asks before its writes, and libpci parses pci.ids (16 ms on a 2-core machine) while
  // the kernel probes drivers, instead of after.
  void prefetch(std::vector<PciIds> ids);

 private:
  PciNames lookup_now(const PciIds& ids) const;
  void finish_prefetch() const;

  std::string path_;
  pci_access* access_;
  mutable bool unusable_ = false;
  // The only user of access_ (and unusable_) while it runs; joined before anyone else asks.
  mutable std::thread prefetching_;
};

}  // namespace vfio
