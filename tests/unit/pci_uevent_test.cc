#define BOOST_TEST_MODULE pci_uevent
#include <boost/test/unit_test.hpp>

#include "observe/pci_uevent.h"
#include "util/text_fields.h"

using namespace vfio;

BOOST_AUTO_TEST_CASE(a_bound_devices_uevent_gives_ids_class_and_driver) {
  const PciUevent u = parse_pci_uevent(
      "DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\n"
      "PCI_SLOT_NAME=0000:02:00.0\nMODALIAS=pci:"
      "v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n");
  BOOST_REQUIRE(u.ids);
  BOOST_TEST(u.ids->vendor == 0x8086);
  BOOST_TEST(u.ids->device == 0x10d3);
  BOOST_TEST(u.ids->subsystem_vendor == 0x8086);
  BOOST_TEST(u.ids->subsystem_device == 0xa01f);
  BOOST_TEST(u.ids->class_code == 0x020000u);
  BOOST_TEST(u.driver.value_or("-") == "e1000e");
  BOOST_TEST(u.odd_lines.empty());
}

BOOST_AUTO_TEST_CASE(no_driver_line_means_no_driver) {
  const PciUevent u =
      parse_pci_uevent("PCI_CLASS=C0330\nPCI_ID=1B21:1242\nPCI_SUBSYS_ID=1B21:1242\n");
  BOOST_REQUIRE(u.ids);
  BOOST_TEST(u.ids->class_code == 0x0c0330u);
  BOOST_TEST(!u.driver);
}

BOOST_AUTO_TEST_CASE(a_missing_key_or_an_odd_value_leaves_the_ids_to_the_attribute_files) {
  BOOST_TEST(!parse_pci_uevent("PCI_CLASS=20000\nPCI_ID=8086:10D3\n").ids);  // no PCI_SUBSYS_ID
  const PciUevent odd = parse_pci_uevent(
      "PCI_CLASS=1020000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:10000\nDRIVER=../x\n");
  BOOST_TEST(!odd.ids);
  BOOST_TEST(!odd.driver);
  BOOST_TEST(
      (odd.odd_lines ==
       std::vector<std::string>{"PCI_CLASS=1020000", "PCI_SUBSYS_ID=8086:10000", "DRIVER=../x"}));
  // Every id there, but a driver that is no driver name: the files are read instead.
  const PciUevent bad_driver =
      parse_pci_uevent("DRIVER=../x\nPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\n");
  BOOST_TEST(!bad_driver.ids);
  BOOST_TEST(bad_driver.odd_lines.size() == 1u);
  // Lines without '=' and unknown keys are not odd: the kernel may add keys.
  const PciUevent extra = parse_pci_uevent(
      "junk\nNEW_KEY=whatever\nPCI_CLASS=20000\nPCI_ID=8086:10D3\n"
      "PCI_SUBSYS_ID=8086:A01F");
  BOOST_TEST(extra.ids.has_value());
  BOOST_TEST(extra.odd_lines.empty());
}

BOOST_AUTO_TEST_CASE(trim_and_whole_numbers_read_values_as_the_kernel_writes_them) {
  BOOST_TEST(trim(" \t0x10de\n") == "0x10de");
  BOOST_TEST(trim("\n\n") == "");
  BOOST_TEST(parse_whole_number<unsigned>("12").value_or(0) == 12u);
  BOOST_TEST(parse_whole_number<unsigned>("ff", 16).value_or(0) == 255u);
  for (const char* bad : {"", "12 ", "-1", "+1", "1x", "99999999999"}) {
    BOOST_TEST(!parse_whole_number<unsigned>(bad), bad);
  }
}
