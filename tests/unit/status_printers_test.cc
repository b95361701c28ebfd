#define BOOST_TEST_MODULE status_printers
#include <boost/test/unit_test.hpp>

#include <sstream>

#include <fmt/format.h>

#include "cli/device_text.h"
#include "cli/status_json.h"
#include "cli/status_text.h"
#include "test_support.h"

using namespace vfio;
using test::contains;

namespace {

using vfio::test::addr;

PciDevice device(const char* address, uint16_t vendor, uint16_t dev, uint32_t class_code,
                 std::optional<std::string> driver, std::optional<unsigned> group) {
  PciDevice d;
  d.address = addr(address);
  d.ids = PciIds{vendor, dev, 0, 0, class_code};
  d.driver = std::move(driver);
  d.iommu_group = group;
  return d;
}

// What pci.ids says of workstation()'s devices (its USB controller is not in it).
const test::FixedNames kNames{
    {{0x8086, 0x1901},
     {"Intel Corporation",
      "Xeon E3-1200 v5/E3-1500 v5/6th Gen Core Processor PCIe Controller (x16)", "PCI bridge"}},
    {{0x10de, 0x2684},
     {"NVIDIA Corporation", "AD102 [GeForce RTX 4090]", "VGA compatible controller"}},
};

HostSnapshot workstation() {
  HostSnapshot s;
  auto port = device("0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 1);
  port.kind = DeviceKind::Bridge;
  auto gpu = device("0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 1);
  gpu.boot_vga = true;
  gpu.hazards = {{Hazard::Kind::BootDisplay, "boot display"}};  // as observe() notes it
  auto audio = device("0000:01:00.1", 0x10de, 0x22ba, 0x040300, "snd_hda_intel", 1);
  audio.driver_override = "vfio-pci";
  auto loose = device("0000:05:00.0", 0x1b21, 0x1242, 0x0c0330, std::nullopt, std::nullopt);
  s.devices = {port, gpu, audio, loose};
  s.groups[1] = IommuGroup{1, {port.address, gpu.address, audio.address}};
  s.iommu_units = {"dmar0", "dmar1"};
  s.vfio_pci_loaded = true;
  s.findings.emplace_back(Finding::Kind::DeviceVanished, "/sys/bus/pci/devices/0000:07:00.0",
                          "0000:07:00.0 vanished", PciAddress::parse("0000:07:00.0"));
  return s;
}

std::string text_of(const HostSnapshot& s, const OwnershipRecord& owned = {}) {
  std::ostringstream out;
  cli::print_status_text(s, owned, kNames, out);
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(text_groups_devices_and_says_what_matters) {
  std::string text = text_of(workstation());
  BOOST_TEST(
      contains(text, "IOMMU: on (dmar0, dmar1)   vfio-pci: loaded   4 devices in 1 IOMMU group\n"),
      text);
  BOOST_TEST(contains(text, "\nIOMMU group 1\n  0000:00:01.0  bridge"), text);
  BOOST_TEST(contains(text,
                      "[10de:2684]  nvidia         VGA compatible controller: NVIDIA "
                      "Corporation AD102 [GeForce RTX 4090]\n                boot display\n"),
             text);
  // Unknown names fall back to hex, the way lspci does.
  BOOST_TEST(contains(text,
                      "Class 0403: Vendor 10de Device 22ba\n                "
                      "driver_override=vfio-pci\n"),
             text);
  BOOST_TEST(contains(text,
                      "\nNot in an IOMMU group\n  0000:05:00.0  endpoint  [1b21:1242]  -           "
                      "   Class 0c03"),
             text);
  BOOST_TEST(contains(text,
                      "\nWhile observing:\n  /sys/bus/pci/devices/0000:07:00.0: 0000:07:00.0 "
                      "vanished\n"),
             text);
}

BOOST_AUTO_TEST_CASE(text_tells_how_to_turn_the_iommu_on) {
  HostSnapshot s;
  s.devices.push_back(device("0000:00:02.0", 0x8086, 0x3e92, 0x030000, "i915", std::nullopt));
  std::string text = text_of(s);
  BOOST_TEST(contains(text, "IOMMU: off   vfio-pci: not loaded"), text);
  BOOST_TEST(contains(text, "intel_iommu=on"), text);
}

BOOST_AUTO_TEST_CASE(numa_column_only_when_there_is_more_than_one_node) {
  HostSnapshot s = workstation();
  BOOST_TEST(!contains(text_of(s), "node "));
  s.devices[1].numa_node = 0;
  s.devices[2].numa_node = 1;
  BOOST_TEST(contains(text_of(s), "node 1 "), text_of(s));
}

BOOST_AUTO_TEST_CASE(a_device_whose_group_does_not_list_it_is_still_shown) {
  HostSnapshot s = workstation();
  s.groups[1].members.pop_back();  // the audio function links to group 1, but 1 does not list it
  std::string text = text_of(s);
  BOOST_TEST(contains(text, "\nNot in an IOMMU group\n  0000:01:00.1"), text);
}

BOOST_AUTO_TEST_CASE(json_has_the_documented_shape) {
  auto j = cli::status_json(workstation(), kNames);
  BOOST_TEST(j["format_version"] == "1.4");
  BOOST_TEST(j["iommu"]["active"] == true);
  BOOST_TEST(j["iommu"]["units"].size() == 2u);
  BOOST_TEST(j["vfio_pci"]["loaded"] == true);
  BOOST_TEST(j["groups"][0]["group"] == 1);
  BOOST_TEST(j["groups"][0]["devices"][1] == "0000:01:00.0");
  const auto& gpu = j["devices"][1];
  BOOST_TEST(gpu["address"] == "0000:01:00.0");
  BOOST_TEST(gpu["vendor"] == "10de");
  BOOST_TEST(gpu["device"] == "2684");
  BOOST_TEST(gpu["class"] == "0x030000");
  BOOST_TEST(gpu["kind"] == "endpoint");
  BOOST_TEST(gpu["driver"] == "nvidia");
  BOOST_TEST(gpu["driver_override"].is_null());
  BOOST_TEST(gpu["iommu_group"] == 1);
  BOOST_TEST(gpu["boot_vga"] == true);
  BOOST_TEST(gpu["names"]["device"] == "AD102 [GeForce RTX 4090]");
  BOOST_TEST(j["devices"][2]["driver_override"] == "vfio-pci");
  BOOST_TEST(j["devices"][3]["driver"].is_null());
  BOOST_TEST(j["devices"][3]["iommu_group"].is_null());
  BOOST_TEST(j["findings"][0]["message"] == "0000:07:00.0 vanished");
  // 1.3 (issue 17): what the text says, the JSON says, with a kind to branch on.
  BOOST_TEST(gpu["hazards"][0]["kind"] == "boot-display");
  BOOST_TEST(j["findings"][0]["kind"] == "device-vanished");
  BOOST_TEST(j["hints"].empty());
  // 1.4: a name pci.ids lacks is null, as every absent value (was "").
  BOOST_TEST(j["devices"][3]["names"]["device"].is_null(), j["devices"][3]["names"].dump());
}

// The host-wide hint of the text (no IOMMU: nothing can be passed through) is in the JSON too.
BOOST_AUTO_TEST_CASE(json_gives_the_hints_the_text_gives) {
  HostSnapshot s = workstation();
  s.groups.clear();
  s.iommu_units.clear();
  for (auto& d : s.devices) d.iommu_group.reset();
  const std::string text = text_of(s);
  auto j = cli::status_json(s, kNames);
  BOOST_TEST_REQUIRE(j["hints"].size() == 1u);
  BOOST_TEST(j["hints"][0]["kind"] == "no-iommu");
  const std::string message = j["hints"][0]["message"];
  BOOST_TEST(contains(message, "intel_iommu=on"), message);
  BOOST_TEST(contains(text, "  " + message + "\n"), text);
}

// Who holds each group is said beside its heading: the recorded owner and assignment, or, for a
// group with a member on vfio-pci that nobody recorded, that no owner holds it.
BOOST_AUTO_TEST_CASE(text_and_json_name_the_owner_holding_each_group) {
  HostSnapshot s = workstation();
  BOOST_TEST(contains(text_of(s), "\nIOMMU group 1\n"));
  s.devices[2].driver = "vfio-pci";
  BOOST_TEST(contains(text_of(s), "\nIOMMU group 1  on vfio-pci, held by no owner\n"));
  OwnershipRecord owned;
  owned.groups[1] = OwnedGroup{1, OwnedGroup::How::Bound, "gpu0", {}, false, "boot"};
  const std::string text = text_of(s, owned);
  BOOST_TEST(contains(text, "\nIOMMU group 1  held by owner boot (bound for gpu0)\n"), text);
  const auto j = cli::status_json(s, kNames, owned);
  BOOST_TEST(j["format_version"] == "1.4");
  BOOST_TEST(j["groups"][0]["held_by"]["owner"] == "boot");
  BOOST_TEST(j["groups"][0]["held_by"]["assignment"] == "gpu0");
  BOOST_TEST(j["groups"][0]["held_by"]["how"] == "bound");
  BOOST_TEST(j["groups"][0]["held_by"]["in_flight"] == false);
  BOOST_TEST(cli::status_json(s, kNames)["groups"][0]["held_by"].is_null());
}

BOOST_AUTO_TEST_CASE(text_is_cut_by_code_points_and_says_so) {
  BOOST_TEST(cli::fit_columns("GH100 [H100 PCIe]", 17) == "GH100 [H100 PCIe]");
  BOOST_TEST(cli::fit_columns("GH100 [H100 PCIe]", 16) == "GH100 [H100 P...");
  BOOST_TEST(cli::fit_columns("abcdef", 3) == "...");
  BOOST_TEST(cli::fit_columns("abcdef", 2) == "..");
  BOOST_TEST(cli::fit_columns("abcdef", 0) == "");
  // A multi-byte character is one column and is never split.
  BOOST_TEST(cli::fit_columns("Ger\xc3\xa4t X", 7) == "Ger\xc3\xa4t X");
  BOOST_TEST(cli::fit_columns("Ger\xc3\xa4t XYZ", 7) == "Ger\xc3\xa4...");
}

BOOST_AUTO_TEST_CASE(vendors_are_shortened_the_way_people_say_them) {
  BOOST_TEST(cli::short_vendor_name("NVIDIA Corporation") == "NVIDIA");
  BOOST_TEST(cli::short_vendor_name("Samsung Electronics Co Ltd") == "Samsung");
  BOOST_TEST(cli::short_vendor_name("ASPEED Technology, Inc.") == "ASPEED");
  BOOST_TEST(cli::short_vendor_name("Advanced Micro Devices, Inc. [AMD/ATI]") == "AMD/ATI");
  BOOST_TEST(cli::short_vendor_name("Red Hat, Inc.") == "Red Hat");
  BOOST_TEST(cli::short_vendor_name("Mellanox Technologies") == "Mellanox");
  BOOST_TEST(cli::short_vendor_name("Corporation") == "Corporation");  // never to nothing
}

BOOST_AUTO_TEST_CASE(a_description_gives_up_the_class_then_company_words_then_its_end) {
  PciDevice gpu = device("0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 1);
  const std::string whole =
      "VGA compatible controller: NVIDIA Corporation AD102 [GeForce RTX 4090]";
  BOOST_TEST(cli::description_fitting(gpu, kNames, 0) == whole);
  BOOST_TEST(cli::description_fitting(gpu, kNames, whole.size()) == whole);
  BOOST_TEST(cli::description_fitting(gpu, kNames, 60) ==
             "NVIDIA Corporation AD102 [GeForce RTX 4090]");
  BOOST_TEST(cli::description_fitting(gpu, kNames, 40) == "NVIDIA AD102 [GeForce RTX 4090]");
  BOOST_TEST(cli::description_fitting(gpu, kNames, 20) == "NVIDIA AD102 [GeF...");
  PciDevice unknown = device("0000:05:00.0", 0x1b21, 0x1242, 0x0c0330, std::nullopt, 1);
  BOOST_TEST(cli::description_fitting(unknown, kNames, 16) == "Vendor 1b21 D...");
}

BOOST_AUTO_TEST_CASE(device_lines_fit_the_width_given_and_notes_too) {
  HostSnapshot s = workstation();
  s.devices[1].label = std::string(80, 'x');
  std::ostringstream out;
  cli::print_status_text(s, {}, kNames, out, {.width = 80});
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("  0000:") || line.starts_with("        ")) {
      BOOST_TEST(line.size() <= 80u, line);
    }
  }
  BOOST_TEST(contains(out.str(), "...\n"), out.str());
}

// A big host's bridge-only groups are folded into a list wrapped at 100 columns, every number
// in it once.
BOOST_AUTO_TEST_CASE(folded_bridge_groups_wrap_at_100_columns) {
  HostSnapshot s;
  for (unsigned g = 0; g < 60; ++g) {
    auto port = device(fmt::format("0000:{:02x}:00.0", g).c_str(), 0x8086, 0x1901, 0x060400,
                       "pcieport", 1000 + g);
    port.kind = DeviceKind::Bridge;
    s.devices.push_back(port);
    s.groups[1000 + g] = IommuGroup{1000 + g, {port.address}};
  }
  std::ostringstream out;
  cli::print_status_text(s, {}, kNames, out);
  const std::string text = out.str();
  const auto list = text.find("lists one):\n");
  BOOST_TEST_REQUIRE(list != std::string::npos, text);
  std::istringstream lines(text.substr(list + 12));
  std::string all;
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    BOOST_TEST(line.size() <= 100u, line);
    BOOST_TEST(line.starts_with("  1"), line);
    all += line;
  }
  BOOST_TEST(count == 4);  // 16 numbers of 6 columns (" 1000,") to a line of 100
  for (unsigned g = 1000; g < 1060; ++g) {
    BOOST_TEST(contains(all, fmt::format(" {}{}", g, g < 1059 ? "," : "")), g);
  }
}
