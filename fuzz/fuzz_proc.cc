// The /proc parsers on any bytes, in context: the busy example host's sysfs tree (as the kernel
// simulator writes it, once, then held in memory) as /sys, and a /proc whose files are the input
// cut at NUL bytes, in this order: self/mountinfo, swaps, net/route, net/ipv6_route, net/if_inet6,
// cmdline, 4242/comm, the targets of 4242's fds 0, 1, 2... one per line, and nvidia's information
// file of the host's L40S (driver/nvidia/gpus/0000:88:00.0/information). Finding who uses each
// device (routes, addresses, mounts, swap, the console, VFIO holders, holders of the devices' own
// nodes) must never crash, throw or hang, whatever /proc says.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/filesystem/operations.hpp>

#include "fuzz/memory_files.h"
#include "observe/console_use.h"
#include "observe/device_nodes.h"
#include "observe/network_use.h"
#include "observe/node_holders.h"
#include "observe/storage_use.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"

namespace {

namespace fs = boost::filesystem;

// The tree in memory rather than the simulator itself, which builds its namespace on every
// read: a thousand times faster, and the parsers under test are the same.
vfio::Sysfs& host() {
  static vfio::fuzz::MemoryFiles* sysfs = [] {
    const fs::path dir = fs::temp_directory_path() / fs::unique_path("fuzz-proc-sys-%%%%-%%%%");
    vfio::sim::write_sysfs_tree(
        vfio::sim::load_topology(VFIO_SOURCE_DIR "/examples/hosts/busy-host.yaml"), dir);
    auto* tree = new vfio::fuzz::MemoryFiles;  // for the process's life
    tree->show_as("/sys/");
    tree->load_tree(dir);
    fs::remove_all(dir);
    return tree;
  }();
  return *sysfs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto parts = vfio::fuzz::split_input(data, size, 9);
  vfio::fuzz::MemoryFiles proc;
  proc.file("self/mountinfo", parts[0]);
  proc.file("swaps", parts[1]);
  proc.file("net/route", parts[2]);
  proc.file("net/ipv6_route", parts[3]);
  proc.file("net/if_inet6", parts[4]);
  proc.file("cmdline", parts[5]);
  proc.file("4242/comm", parts[6]);
  proc.file("driver/nvidia/gpus/0000:88:00.0/information", parts[8]);
  std::size_t fd = 0, start = 0;
  const std::string& links = parts[7];
  while (start <= links.size() && fd < 64) {
    const std::size_t end = std::min(links.find('\n', start), links.size());
    proc.link("4242/fd/" + std::to_string(fd++), links.substr(start, end - start));
    start = end + 1;
  }

  vfio::Sysfs& sysfs = host();
  std::vector<vfio::Finding> findings;
  (void)vfio::find_network_use(sysfs, &proc, findings);
  (void)vfio::find_storage_use(sysfs, &proc, findings);
  (void)vfio::find_console_use(sysfs, &proc, findings);
  const vfio::DeviceNodes nodes = vfio::device_nodes(sysfs, &proc, findings);
  (void)vfio::find_node_holders(proc, vfio::vfio_nodes(sysfs, findings), nodes);
  return 0;
}
