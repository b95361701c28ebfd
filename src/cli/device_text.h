// How a device is named to a person, shared by every human-readable printer.
#pragma once

#include <string>

#include "observe/host_snapshot.h"

namespace vfio::cli {

// "[10de:2684]"
std::string ids_text(const PciIds& ids);

// "NVIDIA Corporation AD102 [GeForce RTX 4090]", with hex stand-ins ("Vendor 10de Device 2684")
// for names pci.ids lacks, the way lspci does.
std::string name_text(const PciIds& ids, const PciNames& names);

// lspci's shape: "VGA compatible controller: NVIDIA Corporation AD102 [GeForce RTX 4090]".
std::string description_text(const PciDevice& device);

}  // namespace vfio::cli
