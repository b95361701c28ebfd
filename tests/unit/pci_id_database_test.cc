#define BOOST_TEST_MODULE pci_id_database
#include <boost/test/unit_test.hpp>

#include <cstdio>

#include "observe/pci_id_database.h"
#include "test_support.h"

using vfio::PciIdDatabase;
using vfio::PciIds;
using vfio::test::ScratchFile;

namespace {

const char* const kFixture =
    "10de  NVIDIA Corporation\n"
    "\t2684  AD102 [GeForce RTX 4090]\n"
    "8086  Intel Corporation\n"
    "C 03  Display controller\n"
    "\t00  VGA compatible controller\n"
    "C 06  Bridge\n";

}  // namespace

BOOST_AUTO_TEST_CASE(names_vendor_device_and_class) {
  ScratchFile ids(kFixture, "pci.ids");
  PciIdDatabase db(ids.path());
  auto names = db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000});
  BOOST_TEST(names.vendor == "NVIDIA Corporation");
  BOOST_TEST(names.device == "AD102 [GeForce RTX 4090]");
  BOOST_TEST(names.class_name == "VGA compatible controller");
}

BOOST_AUTO_TEST_CASE(unknown_ids_give_empty_names_not_numbers) {
  ScratchFile ids(kFixture, "pci.ids");
  PciIdDatabase db(ids.path());
  auto names = db.lookup(PciIds{0x8086, 0x9999, 0, 0, 0x0c0330});
  BOOST_TEST(names.vendor == "Intel Corporation");
  BOOST_TEST(names.device.empty());
  BOOST_TEST(names.class_name.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_database_gives_empty_names) {
  PciIdDatabase db(std::string("/nonexistent/pci.ids"));
  auto names = db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000});
  BOOST_TEST(names.vendor.empty());
  BOOST_TEST(names.device.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_database_does_not_end_the_run) {
  ScratchFile ids("10de  NVIDIA Corporation\n\t\t\t\tnonsense here\nzz\n", "pci.ids");
  PciIdDatabase db(ids.path());
  auto names = db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000});
  BOOST_TEST(names.device.empty());
  // Later lookups are answered (empty) rather than re-parsing or aborting.
  BOOST_TEST(db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000}).device.empty());
}

BOOST_AUTO_TEST_CASE(the_environment_variable_names_the_file) {
  ScratchFile ids(kFixture, "pci.ids");
  setenv(PciIdDatabase::kPathVariable, ids.path().c_str(), 1);
  PciIdDatabase db;
  unsetenv(PciIdDatabase::kPathVariable);
  BOOST_TEST(db.path() == ids.path());
  BOOST_TEST(db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000}).vendor == "NVIDIA Corporation");
}

BOOST_AUTO_TEST_CASE(names_prefetched_are_the_names_looked_up) {
  ScratchFile ids(kFixture, "pci.ids");
  const PciIds gpu{0x10de, 0x2684, 0, 0, 0x030000};
  const PciIds intel{0x8086, 0x9999, 0, 0, 0x0c0330};
  PciIdDatabase direct(ids.path());
  PciIdDatabase prefetched(ids.path());
  prefetched.prefetch({gpu, gpu, intel});
  for (const PciIds& i : {gpu, intel, PciIds{0x10de, 0x22ba, 0, 0, 0x040300}}) {
    const auto a = direct.lookup(i);
    const auto b = prefetched.lookup(i);  // the last one was not prefetched: looked up now
    BOOST_TEST(a.vendor == b.vendor);
    BOOST_TEST(a.device == b.device);
    BOOST_TEST(a.class_name == b.class_name);
  }
  BOOST_TEST(prefetched.lookup(gpu).device == "AD102 [GeForce RTX 4090]");
  // A second prefetch after the first, and one never waited for: joined by the destructor.
  prefetched.prefetch({intel});
  PciIdDatabase abandoned(ids.path());
  abandoned.prefetch({gpu});
}

BOOST_AUTO_TEST_CASE(a_malformed_database_prefetched_gives_empty_names) {
  ScratchFile ids("10de  NVIDIA Corporation\n\t\t\t\tnonsense here\nzz\n", "pci.ids");
  PciIdDatabase db(ids.path());
  db.prefetch({PciIds{0x10de, 0x2684, 0, 0, 0x030000}});
  BOOST_TEST(db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000}).device.empty());
  BOOST_TEST(db.lookup(PciIds{0x10de, 0x2684, 0, 0, 0x030000}).vendor.empty());
}
