// DeviceNames: a device's vendor, device and class names, which printers ask for as they print
// a device, and only then. Names are not observed: a run that prints no name (a converged apply,
// a plan with no change) never reads pci.ids, which was most of a small run's time (issue 18:
// libpci parses the whole 1.3 MB file on its first lookup, 17-28 ms of a 39 ms plan).
// PciIdDatabase (pci_id_database.h) is the real one.
#pragma once

#include <string>

#include "observe/host_snapshot.h"

namespace vfio {

// Human names from pci.ids; empty when unknown (printers fall back to the hex ids).
struct PciNames {
  std::string vendor;
  std::string device;
  std::string class_name;  // subclass name ("VGA compatible controller"), else base class name
};

class DeviceNames {
 public:
  virtual ~DeviceNames() = default;
  virtual PciNames lookup(const PciIds& ids) const = 0;
};

// No names at all: printers show lspci's hex stand-ins ("Vendor 10de Device 2684").
class NoDeviceNames final : public DeviceNames {
 public:
  PciNames lookup(const PciIds&) const override { return {}; }
};

}  // namespace vfio
