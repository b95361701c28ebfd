// vfio-sim-host TOPOLOGY.yaml DIR [PROC_DIR [MODULES_DIR]]: writes a topology as an on-disk
// sysfs tree, its /proc and its kernel's modules.alias, for running the real binary with
// --sysfs-root DIR --proc-root PROC_DIR --modules-dir MODULES_DIR.
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "sim/simulated_modules.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"

namespace {

// sysexits.h
constexpr int kUsage = 64;
constexpr int kDataError = 65;
constexpr int kNoInput = 66;
constexpr int kSoftware = 70;
constexpr int kCantCreate = 73;
constexpr int kIoError = 74;

constexpr const char* kUsageText =
    "usage: vfio-sim-host TOPOLOGY.yaml DIR [PROC_DIR [MODULES_DIR]]\n"
    "Writes the host described by TOPOLOGY.yaml to DIR in the sysfs layout, its /proc to\n"
    "PROC_DIR and its kernel's modules.alias to MODULES_DIR, for vfio-reconcile --sysfs-root\n"
    "DIR --proc-root PROC_DIR --modules-dir MODULES_DIR. Each directory must be missing, empty\n"
    "or written by an earlier run.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    fmt::print("{}", kUsageText);
    return 0;
  }
  if (argc < 3 || argc > 5) {
    fmt::print(stderr, "{}", kUsageText);
    return kUsage;
  }
  const std::string file = argv[1];
  const boost::filesystem::path dir = argv[2];
  if (!std::ifstream(file)) {
    fmt::print(stderr, "vfio-sim-host: {}: cannot read the topology file\n", file);
    return kNoInput;
  }
  vfio::sim::Topology topology;
  try {
    topology = vfio::sim::load_topology(file);
  } catch (const vfio::sim::TopologyError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kDataError;
  }
  try {
    vfio::sim::write_sysfs_tree(topology, dir);
    if (argc >= 4) vfio::sim::write_proc_tree(topology, argv[3]);
    if (argc == 5) {
      boost::filesystem::create_directories(argv[4]);
      std::ofstream(boost::filesystem::path(argv[4]) / "modules.alias")
          << vfio::sim::modules_alias_text(
                 topology, topology.drivers,
                 topology.vfio_pci != vfio::sim::Topology::VfioPci::Missing);
    }
  } catch (const vfio::sim::RefusedDirectory& e) {
    fmt::print(stderr, "vfio-sim-host: {}\n", e.what());
    return kCantCreate;
  } catch (const boost::filesystem::filesystem_error& e) {
    fmt::print(stderr, "vfio-sim-host: {}\n", e.what());
    return kIoError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "vfio-sim-host: {}\n", e.what());
    return kSoftware;
  }
  std::set<unsigned> groups;
  for (const auto& d : topology.devices)
    if (d.iommu_group) groups.insert(*d.iommu_group);
  fmt::print("wrote host '{}' ({} devices, {} IOMMU groups) to {}\n", topology.name,
             topology.devices.size(), groups.size(), dir.string());
  return 0;
}
