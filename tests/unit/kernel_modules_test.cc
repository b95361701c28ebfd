#define BOOST_TEST_MODULE kernel_modules
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

#include <boost/filesystem.hpp>

#include "apply/kernel_modules.h"
#include "test_support.h"

namespace fs = boost::filesystem;

namespace {

// A modules directory for a made-up kernel in which vfio-pci is built in, indexed by the real
// depmod so libkmod reads exactly what it reads on a host.
struct ModulesDir {
  ModulesDir() : scratch("kmod"), base(scratch.path()) {
    dir = base / "lib/modules/9.9.9-test";
    fs::create_directories(dir);
    std::ofstream((dir / "modules.builtin").string()) << "kernel/drivers/vfio/pci/vfio-pci.ko\n";
    std::ofstream((dir / "modules.order").string());
    const std::string depmod = "depmod -b " + base.string() + " 9.9.9-test 2>/dev/null";
    BOOST_REQUIRE_MESSAGE(std::system(depmod.c_str()) == 0, "depmod (package kmod) must run");
  }
  vfio::test::ScratchDir scratch;
  fs::path base, dir;
};

}  // namespace

BOOST_AUTO_TEST_CASE(finds_a_built_in_module_by_name_and_by_alias) {
  ModulesDir modules;
  vfio::KmodModules kmod(modules.dir.string());
  BOOST_TEST(kmod.available("vfio-pci"));
  BOOST_TEST(kmod.available("vfio_pci"));
}

BOOST_AUTO_TEST_CASE(a_module_the_kernel_lacks_is_unavailable) {
  ModulesDir modules;
  vfio::KmodModules kmod(modules.dir.string());
  BOOST_TEST(!kmod.available("nvidia"));
}

BOOST_AUTO_TEST_CASE(a_missing_modules_directory_means_nothing_is_available) {
  vfio::KmodModules kmod(std::string("/nonexistent/lib/modules/0.0"));
  BOOST_TEST(!kmod.available("vfio-pci"));
}
