#include "sim/sysfs_tree_writer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "sim/device_attributes.h"
#include "sim/host_files.h"
#include "sysfs/sys_path.h"

namespace vfio::sim {
namespace fs = boost::filesystem;

namespace {

void write_file(const fs::path& file, const std::string& contents) {
  std::ofstream out(file.string(), std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) {
    throw fs::filesystem_error("cannot write", file,
                               boost::system::errc::make_error_code(boost::system::errc::io_error));
  }
}

// A link at root/link pointing at root/target, spelled relative to the link's directory.
void relative_link(const fs::path& root, const fs::path& link, const fs::path& target) {
  const fs::path dir = link.parent_path();
  fs::path up;
  for (auto it = dir.begin(); it != dir.end(); ++it) up /= "..";
  fs::create_symlink(up / target, root / link);
}

// Empties a directory this writer filled before, or refuses one it did not.
void prepare_root(const fs::path& root) {
  const fs::file_status status = fs::symlink_status(root);
  if (!fs::exists(status)) {
    fs::create_directories(root);
    return;
  }
  if (fs::is_symlink(status))
    throw RefusedDirectory(
        fmt::format("{}: is a symbolic link; give the directory itself", root.string()));
  if (!fs::is_directory(status))
    throw RefusedDirectory(fmt::format("{}: exists and is not a directory", root.string()));
  if (fs::is_empty(root)) return;
  if (!fs::is_regular_file(fs::symlink_status(root / kHostMarker))) {
    throw RefusedDirectory(fmt::format(
        "{}: not empty and not a test host written by vfio-sim-host (no {}); refusing to "
        "overwrite it",
        root.string(), kHostMarker));
  }
  // remove_all removes symbolic links themselves and never follows them out of the tree.
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(root), end; it != end; ++it) entries.push_back(it->path());
  for (const auto& entry : entries) fs::remove_all(entry);
}

std::string bus_dir_name(uint32_t domain, uint8_t bus) {
  return fmt::format("pci{:04x}:{:02x}", domain, bus);
}

// Names from the topology become path components: a parsed topology is always safe, but one
// built in code (or exported by the simulator) is checked too, so nothing can leave the root.
void check_names(const Topology& topology) {
  auto check = [](const std::string& what, const std::string& name) {
    if (!SysPath::is_valid_component(name))
      throw std::invalid_argument(
          fmt::format("{} '{}' is not a single path component", what, name));
  };
  for (const auto& driver : topology.drivers) {
    check("driver", driver.name);
    if (driver.module) check("module", *driver.module);
  }
  for (const auto& d : topology.devices)
    if (d.bound_driver) check("driver", *d.bound_driver);
  for (const auto& unit : topology.iommu_units) check("IOMMU unit", unit);
}

// The device's directory, finding parents with `find` (a linear search, or an index).
template <class Find>
fs::path device_dir_via(const TopologyDevice& device, const Find& find) {
  std::vector<PciAddress> chain{device.address};
  std::set<PciAddress> seen{device.address};
  std::optional<PciAddress> up = device.parent;
  while (up) {
    const TopologyDevice* parent = find(*up);
    if (!parent || !seen.insert(*up).second) break;  // the parser rejects both; stay finite
    chain.push_back(*up);
    up = parent->parent;
  }
  const PciAddress& top = chain.back();
  fs::path dir = fs::path("devices") / bus_dir_name(top.domain(), top.bus());
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) dir /= it->str();
  return dir;
}

// What write_sysfs_tree asks about every device, computed once for the whole topology:
// is_multifunction(), enabled_vfs(), find() and a VF's index are each a scan of every device,
// which made writing a 10,000-device host quadratic. Same answers, from maps.
class TopologyIndex {
 public:
  explicit TopologyIndex(const Topology& topology) {
    for (std::size_t i = 0; i < topology.devices.size(); ++i) {
      const TopologyDevice& d = topology.devices[i];
      first_.emplace(d.address, i);  // the first of duplicates, as Topology::find
      ++at_address_[d.address];
      ++in_slot_[slot(d.address)];
      if (d.physfn) vf_positions_[*d.physfn].push_back(i);
    }
    devices_ = &topology.devices;
  }

  const TopologyDevice* find(const PciAddress& address) const {
    auto it = first_.find(address);
    return it == first_.end() ? nullptr : &(*devices_)[it->second];
  }
  // Another device in the slot: one at another address than this one.
  bool is_multifunction(const PciAddress& address) const {
    return in_slot_.at(slot(address)) > at_address_.at(address);
  }
  unsigned enabled_vfs(const PciAddress& pf) const {
    auto it = vf_positions_.find(pf);
    return it == vf_positions_.end() ? 0 : static_cast<unsigned>(it->second.size());
  }
  // The VFs of `pf` listed before the first device at `vf`: the VF's virtfn index.
  unsigned vf_index(const PciAddress& vf, const PciAddress& pf) const {
    auto it = vf_positions_.find(pf);
    if (it == vf_positions_.end()) return 0;
    const auto& positions = it->second;
    return static_cast<unsigned>(
        std::lower_bound(positions.begin(), positions.end(), first_.at(vf)) - positions.begin());
  }

 private:
  using Slot = std::tuple<uint32_t, uint8_t, uint8_t>;
  static Slot slot(const PciAddress& a) { return {a.domain(), a.bus(), a.device()}; }

  const std::vector<TopologyDevice>* devices_ = nullptr;
  std::map<PciAddress, std::size_t> first_;
  std::map<PciAddress, unsigned> at_address_;
  std::map<Slot, unsigned> in_slot_;
  std::map<PciAddress, std::vector<std::size_t>> vf_positions_;  // per PF, in list order
};

void write_entries(const fs::path& root, const std::map<std::string, HostEntry>& entries) {
  for (const auto& [path, entry] : entries) {
    const fs::path at = root / path;
    if (entry.kind == HostEntry::Kind::Dir) {
      fs::create_directories(at);
      continue;
    }
    fs::create_directories(at.parent_path());
    if (entry.kind == HostEntry::Kind::File)
      write_file(at, entry.text);
    else
      fs::create_symlink(entry.text, at);
  }
}

}  // namespace

bool is_multifunction(const Topology& topology, const TopologyDevice& device) {
  for (const auto& other : topology.devices) {
    if (other.address != device.address && other.address.domain() == device.address.domain() &&
        other.address.bus() == device.address.bus() &&
        other.address.device() == device.address.device()) {
      return true;
    }
  }
  return false;
}

unsigned enabled_vfs(const Topology& topology, const PciAddress& pf) {
  unsigned count = 0;
  for (const auto& d : topology.devices)
    if (d.physfn == pf) ++count;
  return count;
}

fs::path device_dir(const Topology& topology, const TopologyDevice& device) {
  return device_dir_via(device, [&](const PciAddress& a) { return topology.find(a); });
}

void write_proc_tree(const Topology& topology, const fs::path& root) {
  prepare_root(root);
  write_file(root / kHostMarker, fmt::format("vfio-sim-host: {} (/proc)\n", topology.name));
  const HostFiles files = host_files(
      topology, [&](const TopologyDevice& d) { return device_dir(topology, d).string(); });
  write_entries(root, files.proc);
}

void write_sysfs_tree(const Topology& topology, const fs::path& root) {
  check_names(topology);
  prepare_root(root);
  write_file(root / kHostMarker, fmt::format("vfio-sim-host: {}\n", topology.name));

  const fs::path pci("bus/pci");
  const fs::path drivers = pci / "drivers";
  const fs::path groups("kernel/iommu_groups");
  fs::create_directories(root / pci / "devices");
  fs::create_directories(root / drivers);
  fs::create_directories(root / groups);
  fs::create_directories(root / "class/iommu");
  fs::create_directories(root / "module");
  write_file(root / pci / "drivers_probe", "");
  write_file(root / pci / "drivers_autoprobe", "1\n");
  write_file(root / pci / "rescan", "");

  // Drivers: every registered one, plus any a device is bound to (a topology exported by the
  // simulator is always consistent, but a link must never dangle).
  std::set<std::string> driver_names;
  for (const auto& driver : topology.drivers) driver_names.insert(driver.name);
  for (const auto& d : topology.devices)
    if (d.bound_driver) driver_names.insert(*d.bound_driver);
  for (const auto& name : driver_names) {
    const fs::path dir = drivers / name;
    fs::create_directories(root / dir);
    for (const char* file : {"bind", "unbind", "new_id", "remove_id", "uevent"})
      write_file(root / dir / file, "");
    const TopologyDriver* driver = topology.find_driver(name);
    const std::optional<std::string> module = driver ? driver->module : std::nullopt;
    if (module) {
      const fs::path module_dir = fs::path("module") / *module;
      fs::create_directories(root / module_dir / "drivers");
      relative_link(root, dir / "module", module_dir);
      relative_link(root, module_dir / "drivers" / ("pci:" + name), dir);
    }
  }

  if (topology.iommu) {
    for (const auto& unit : topology.iommu_units) {
      const fs::path target = fs::path("devices/virtual/iommu") / unit;
      fs::create_directories(root / target);
      relative_link(root, fs::path("class/iommu") / unit, target);
    }
  }

  // Parents before children: the sort by address does not guarantee it, so make every directory
  // on the way (a parent's attributes are written when its own turn comes).
  const TopologyIndex index(topology);
  auto find = [&](const PciAddress& a) { return index.find(a); };
  for (const auto& d : topology.devices) {
    const fs::path dir = device_dir_via(d, find);
    const std::string bdf = d.address.str();
    fs::create_directories(root / dir);
    for (const auto& [name, contents] :
         device_attributes(d, index.is_multifunction(d.address), index.enabled_vfs(d.address))) {
      write_file(root / dir / name, contents);
    }
    write_file(root / dir / "remove", "");
    write_file(root / dir / "rescan", "");
    relative_link(root, dir / "subsystem", pci);
    relative_link(root, pci / "devices" / bdf, dir);
    if (d.bound_driver) {
      relative_link(root, dir / "driver", drivers / *d.bound_driver);
      relative_link(root, drivers / *d.bound_driver / bdf, dir);
    }
    if (topology.iommu && d.iommu_group) {
      const fs::path group = groups / std::to_string(*d.iommu_group);
      if (!fs::exists(root / group)) {
        fs::create_directories(root / group / "devices");
        write_file(root / group / "type", "DMA\n");
      }
      relative_link(root, dir / "iommu_group", group);
      relative_link(root, group / "devices" / bdf, dir);
    }
    if (d.physfn) {
      if (const TopologyDevice* pf = index.find(*d.physfn)) {
        const fs::path pf_dir = device_dir_via(*pf, find);
        fs::create_directories(root / pf_dir);
        relative_link(root, dir / "physfn", pf_dir);
        relative_link(root, pf_dir / fmt::format("virtfn{}", index.vf_index(d.address, *d.physfn)),
                      dir);
      }
    }
  }

  const HostFiles files = host_files(
      topology, [&](const TopologyDevice& d) { return device_dir_via(d, find).string(); });
  for (const auto& [address, entries] : files.in_device)
    write_entries(root / device_dir_via(*index.find(address), find), entries);
  write_entries(root, files.sysfs);
}

}  // namespace vfio::sim
