// PciIdDatabase: vendor, device and class names from pci.ids, through libpci. libpci parses
// the whole file on the first lookup, not before: constructing one costs nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>

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

  PciNames lookup(const PciIds& ids) const override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  pci_access* access_;
  mutable bool unusable_ = false;
};

}  // namespace vfio
