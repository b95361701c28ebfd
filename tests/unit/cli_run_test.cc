#define BOOST_TEST_MODULE cli_run
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <vector>

#include <boost/filesystem.hpp>

#include "cli/exit_codes.h"
#include "cli/run.h"

namespace fs = boost::filesystem;

namespace {

struct Ran {
  int code;
  std::string out;
  std::string err;
};

Ran run(std::vector<const char*> args) {
  args.insert(args.begin(), "vfio-reconcile");
  std::ostringstream out, err;
  vfio::cli::Context context;
  context.out = &out;
  context.err = &err;
  int code = vfio::cli::run(static_cast<int>(args.size()), args.data(), context);
  return {code, out.str(), err.str()};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(version_and_help_exit_zero) {
  auto version = run({"--version"});
  BOOST_TEST(version.code == 0);
  BOOST_TEST(contains(version.out, "vfio-reconcile " VFIO_RECONCILE_VERSION), version.out);
  auto help = run({"--help"});
  BOOST_TEST(help.code == 0);
  BOOST_TEST(contains(help.out, "status"), help.out);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_64) {
  BOOST_TEST(run({}).code == vfio::cli::kExitUsage);
  BOOST_TEST(run({"frobnicate"}).code == vfio::cli::kExitUsage);
  BOOST_TEST(run({"status", "--bogus"}).code == vfio::cli::kExitUsage);
  auto missing_root = run({"--sysfs-root", "/nonexistent/sysfs", "status"});
  BOOST_TEST(missing_root.code == vfio::cli::kExitUsage);
  BOOST_TEST(contains(missing_root.err, "/nonexistent/sysfs"), missing_root.err);
}

BOOST_AUTO_TEST_CASE(a_root_without_a_pci_bus_exits_69_and_says_where_it_looked) {
  fs::path empty = fs::temp_directory_path() / fs::unique_path("no-pci-%%%%-%%%%");
  fs::create_directories(empty);
  auto ran = run({"--sysfs-root", empty.c_str(), "status"});
  fs::remove_all(empty);
  BOOST_TEST(ran.code == vfio::cli::kExitUnavailable);
  BOOST_TEST(contains(ran.err, (empty / "bus/pci/devices").string()), ran.err);
  BOOST_TEST(contains(ran.err, "is this a sysfs tree with a PCI bus?"), ran.err);
  BOOST_TEST(ran.out.empty());
}
