#define BOOST_TEST_MODULE real_sysfs
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <fstream>

#include <boost/filesystem.hpp>

#include "sysfs/real_sysfs.h"
#include "test_support.h"

using vfio::IoError;
using vfio::RealSysfs;
using vfio::SysPath;
namespace fs = boost::filesystem;

namespace {

// A small sysfs tree in a scratch directory, removed at the end.
struct TempTree {
  TempTree() : dir("real-sysfs"), root(dir.path()) {
    fs::create_directories(root / "bus" / "pci" / "drivers" / "e1000e");
    std::ofstream((root / "bus" / "pci" / "drivers_probe").string());
    std::ofstream((root / "bus" / "pci" / "vendor").string()) << "0x8086\n";
    fs::create_symlink("drivers/e1000e", root / "bus" / "pci" / "link");
  }
  vfio::test::ScratchDir dir;
  fs::path root;
};

const SysPath kPci = SysPath() / "bus" / "pci";

}  // namespace

BOOST_AUTO_TEST_CASE(reads_whole_attributes_and_honours_the_limit) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto full = sysfs.read(kPci / "vendor", 4096);
  BOOST_REQUIRE(full.ok());
  BOOST_TEST(*full == "0x8086\n");
  BOOST_TEST(*sysfs.read(kPci / "vendor", 3) == "0x8");
}

BOOST_AUTO_TEST_CASE(errors_carry_op_path_and_errno) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto missing = sysfs.read(kPci / "nope", 64);
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().error == ENOENT);
  BOOST_TEST(missing.error().path == (t.root / "bus/pci/nope").string());
  BOOST_TEST(missing.error().to_string().find("No such file or directory (ENOENT)") !=
             std::string::npos);

  auto not_a_link = sysfs.read_link(kPci / "vendor");
  BOOST_REQUIRE(!not_a_link.ok());
  BOOST_TEST(not_a_link.error().error == EINVAL);

  auto not_a_dir = sysfs.list(kPci / "vendor");
  BOOST_REQUIRE(!not_a_dir.ok());
  BOOST_TEST(not_a_dir.error().error == ENOTDIR);

  auto write_missing = sysfs.write(kPci / "drivers" / "nope" / "bind", "0000:01:00.0");
  BOOST_REQUIRE(!write_missing.ok());
  BOOST_TEST(write_missing.error().error == ENOENT);
  BOOST_TEST(write_missing.error().value == "0000:01:00.0");
  BOOST_TEST(write_missing.error().to_string() ==
             "write '0000:01:00.0' to " + (t.root / "bus/pci/drivers/nope/bind").string() +
                 ": No such file or directory (ENOENT)");
}

BOOST_AUTO_TEST_CASE(writes_exactly_the_value) {
  TempTree t;
  RealSysfs sysfs(t.root);
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "0000:01:00.0").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "0000:01:00.0");
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "\n").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "\n");
}

BOOST_AUTO_TEST_CASE(lists_and_reads_links) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto names = sysfs.list(kPci);
  BOOST_REQUIRE(names.ok());
  auto sorted = *names;
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST(sorted == (std::vector<std::string>{"drivers", "drivers_probe", "link", "vendor"}),
             boost::test_tools::per_element());
  BOOST_TEST(*sysfs.read_link(kPci / "link") == "drivers/e1000e");
  BOOST_TEST(sysfs.display(kPci / "link") == (t.root / "bus/pci/link").string());
}

BOOST_AUTO_TEST_CASE(error_text_escapes_what_was_written) {
  IoError e{IoError::Op::Write, "/sys/x/driver_override", EINVAL, "\n"};
  BOOST_TEST(e.to_string() == "write '\\n' to /sys/x/driver_override: Invalid argument (EINVAL)");
}
