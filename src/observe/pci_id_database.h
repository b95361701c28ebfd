// PciIdDatabase: vendor, device and class names from pci.ids, through libpci.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "observe/host_snapshot.h"

struct pci_access;

namespace vfio {

class PciIdDatabase {
 public:
  // The environment variable that points at another pci.ids (tests use a fixed copy so their
  // expected output does not change with the distribution's database).
  static constexpr const char* kPathVariable = "VFIO_RECONCILE_PCI_IDS";

  // `ids_file`: a pci.ids file; none: $VFIO_RECONCILE_PCI_IDS, else libpci's default
  // (/usr/share/misc/pci.ids on Debian). A missing or unreadable file gives empty names, and the
  // printers fall back to hex ids. udev's hwdb is never asked, so names depend on the file alone.
  explicit PciIdDatabase(std::optional<std::string> ids_file = std::nullopt);
  ~PciIdDatabase();
  PciIdDatabase(const PciIdDatabase&) = delete;
  PciIdDatabase& operator=(const PciIdDatabase&) = delete;

  PciNames lookup(const PciIds& ids) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  pci_access* access_;
  mutable bool unusable_ = false;
};

}  // namespace vfio
