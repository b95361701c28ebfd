// How a device is named to a person, shared by every human-readable printer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "observe/device_names.h"
#include "observe/host_snapshot.h"

namespace vfio::cli {

// "[10de:2684]"
std::string ids_text(const PciIds& ids);

// "NVIDIA Corporation AD102 [GeForce RTX 4090]", with hex stand-ins ("Vendor 10de Device 2684")
// for names pci.ids lacks, the way lspci does.
std::string name_text(const PciIds& ids, const PciNames& names);
std::string name_text(const PciIds& ids, const DeviceNames& names);

// lspci's shape: "VGA compatible controller: NVIDIA Corporation AD102 [GeForce RTX 4090]".
std::string description_text(const PciDevice& device, const DeviceNames& names);

// The vendor as people say it: pci.ids's short form in brackets ("Advanced Micro Devices, Inc.
// [AMD/ATI]": "AMD/ATI"), else the name up to a comma without its company words ("Samsung
// Electronics Co Ltd": "Samsung", "NVIDIA Corporation": "NVIDIA").
std::string short_vendor_name(const std::string& vendor);

// The description in at most `columns` columns (UTF-8 code points), giving up what says least
// first: lspci's shape; without the class ("NVIDIA Corporation GH100 [H100 PCIe]"); with the
// short vendor ("NVIDIA GH100 [H100 PCIe]"); that, cut, ending in "...". 0: no limit.
std::string description_fitting(const PciDevice& device, const DeviceNames& names,
                                std::size_t columns);

// `text` cut to `columns` columns (UTF-8 code points), ending in "..." when it was cut.
std::string fit_columns(std::string_view text, std::size_t columns);

}  // namespace vfio::cli
