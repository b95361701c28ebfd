#define BOOST_TEST_MODULE sys_path
#include <boost/test/unit_test.hpp>

#include "sysfs/sys_path.h"

using vfio::InvalidPathComponent;
using vfio::PciAddress;
using vfio::SysPath;
namespace paths = vfio::paths;

BOOST_AUTO_TEST_CASE(builders_name_the_kernel_files) {
  auto a = *PciAddress::parse("0000:01:00.0");
  BOOST_TEST(paths::pci_device_file(a, "driver_override").str() ==
             "bus/pci/devices/0000:01:00.0/driver_override");
  BOOST_TEST(paths::pci_driver_file("vfio-pci", "bind").str() == "bus/pci/drivers/vfio-pci/bind");
  BOOST_TEST(paths::drivers_probe().str() == "bus/pci/drivers_probe");
  BOOST_TEST(paths::iommu_group_devices(12).str() == "kernel/iommu_groups/12/devices");
  BOOST_TEST(paths::iommu_units().str() == "class/iommu");
  BOOST_TEST(SysPath().str() == "");
}

BOOST_AUTO_TEST_CASE(no_component_can_leave_the_root) {
  for (const char* bad : {"", ".", "..", "a/b", "/etc", "../x"}) {
    BOOST_CHECK_THROW(paths::pci_driver(bad), InvalidPathComponent);
  }
  BOOST_CHECK_THROW(paths::pci_driver(std::string("vfio\0pci", 8)), InvalidPathComponent);
  BOOST_CHECK_THROW(paths::pci_driver(std::string(256, 'a')), InvalidPathComponent);
  BOOST_TEST(paths::pci_driver("...").leaf() == "...");  // odd but a single name
}

BOOST_AUTO_TEST_CASE(parent_and_ordering) {
  auto p = paths::drivers_probe();
  BOOST_TEST(p.parent().str() == "bus/pci");
  BOOST_TEST(p.leaf() == "drivers_probe");
  BOOST_TEST((paths::pci_driver("e1000e").parent() == paths::pci_drivers()));
}
