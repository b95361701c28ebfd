// The simulator's sysfs tree: what exists at each path, and how paths walk through links.
#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "sim/device_attributes.h"
#include "sim/kernel_simulator_state.h"
#include "sim/relative_link.h"

namespace vfio::sim {
namespace {

Node dir(std::vector<std::string> entries) {
  Node n;
  n.kind = Node::Kind::Dir;
  n.entries = std::move(entries);
  return n;
}

Node file(std::optional<std::string> content, bool writable) {
  Node n;
  n.kind = Node::Kind::File;
  n.content = std::move(content);
  n.writable = writable;
  return n;
}

Node write_only() {
  return file(std::nullopt, true);
}

Node link(std::string text, Components target) {
  Node n;
  n.kind = Node::Kind::Link;
  n.link_text = std::move(text);
  n.target = std::move(target);
  return n;
}

Components device_dir(const SimDevice& d) {
  return {std::string(kDeviceDir), d.info.address.str()};
}

// Group numbers are spelt in decimal without leading zeros.
std::optional<unsigned> parse_group(const std::string& text) {
  if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

Components split(std::string_view path) {
  Components out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Whether host_files() puts anything below the device: interfaces, disks, a framebuffer, device
// nodes, a VFIO device node. Most devices have none, and rendering the host's files for each
// would be slow.
bool has_host_files(const SimDevice& d) {
  return !d.info.net.empty() || !d.info.disks.empty() || d.info.framebuffer ||
         !d.info.nodes.empty() || d.vfio_device;
}

// The node at `rel` ("net/eno1/operstate") among `entries`: an entry itself, or a directory
// that some entries lie in.
Node extra(const std::map<std::string, HostEntry>& entries, const Components& rel) {
  std::string key;
  for (const auto& c : rel) key += (key.empty() ? "" : "/") + c;
  if (auto it = entries.find(key); it != entries.end()) {
    const HostEntry& e = it->second;
    if (e.kind == HostEntry::Kind::File) return file(e.text, false);
    if (e.kind == HostEntry::Kind::Link) {
      Components target = split(e.target);
      if (e.device) target.insert(target.begin(), {std::string(kDeviceDir), e.device->str()});
      return link(e.text, std::move(target));
    }
  }
  const std::string prefix = key.empty() ? "" : key + "/";
  std::set<std::string> names;
  for (auto it = entries.lower_bound(prefix); it != entries.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const std::string rest = it->first.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('/')));
  }
  if (names.empty() && !(entries.count(key) && entries.at(key).kind == HostEntry::Kind::Dir))
    return {};
  return dir({names.begin(), names.end()});
}

}  // namespace

HostFiles KernelSimulator::State::host_files_now(const SimDevice* only) const {
  Topology now;
  now.host = meta.host;
  now.vfio_pci = Topology::VfioPci::Missing;  // class/vfio is vfio_nodes()'s
  now.kernel = meta.kernel;
  now.vfio_device_nodes = meta.vfio_device_nodes;
  for (const auto& [address, d] : devices) {
    if (!d.present || (only && only != &d) || !has_host_files(d)) continue;
    now.devices.push_back(current(d));
  }
  if (only) now.host = TopologyHost{};
  return host_files(
      now, [&](const TopologyDevice& d) { return device_sys_path(devices.at(d.address)); });
}

std::set<unsigned> KernelSimulator::State::vfio_nodes() const {
  std::set<unsigned> out;
  if (!registered_driver(kVfioPci)) return out;
  for (const auto& [address, d] : devices) {
    if (d.present && on_vfio_driver(d)) {
      if (auto g = group_of(d)) out.insert(*g);
    }
  }
  return out;
}

std::string KernelSimulator::State::device_sys_path(const SimDevice& device) const {
  std::vector<const SimDevice*> chain{&device};
  for (int guard = 0; guard < 32; ++guard) {
    const TopologyDevice& info = chain.back()->info;
    std::optional<PciAddress> up_addr = info.parent;
    if (!up_addr && info.physfn) {
      auto pf = devices.find(*info.physfn);
      if (pf != devices.end()) up_addr = pf->second.info.parent;
    }
    if (!up_addr) break;
    auto it = devices.find(*up_addr);
    if (it == devices.end()) break;
    chain.push_back(&it->second);
  }
  const PciAddress& top = chain.back()->info.address;
  std::string out = fmt::format("devices/pci{:04x}:{:02x}", top.domain(), top.bus());
  // Two appends, not "/" + str(): g++ 12 at -O3 warns (-Wrestrict, GCC bug 105329) on the latter.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out += '/';
    out += (*it)->info.address.str();
  }
  return out;
}

// The node at `c`: each top-level directory of sysfs is read by a function of its own.
Node KernelSimulator::State::lookup(const Components& c) const {
  const std::size_t n = c.size();
  if (n == 0) return dir({"bus", "class", "devices", "kernel", "module"});
  if (c[0] == kDeviceDir) return lookup_device(c);
  if (c[0] == "bus") return lookup_bus(c);
  if (c[0] == "kernel") return lookup_iommu_groups(c);
  if (c[0] == "devices") return extra(host_files_now().sysfs, c);
  if (c[0] == "class") return lookup_class(c);
  if (c[0] == "module") return lookup_module(c);
  return {};
}

// a device directory: devices/.../<address>
Node KernelSimulator::State::lookup_device(const Components& c) const {
  const std::size_t n = c.size();
  if (n < 2) return {};
  const SimDevice* d = present_device(c[1]);
  if (!d) return {};
  const std::string home = device_sys_path(*d);
  const std::string back = up(depth(home));
  auto attributes = device_attributes(current(*d), multifunction(*d), enabled_vfs(*d));
  const auto driver = visible_driver(*d);
  const auto group = group_of(*d);
  const auto vfs = vfs_of(*d);
  if (n == 2) {
    std::vector<std::string> entries;
    for (const auto& [name, _] : attributes) entries.push_back(name);
    entries.insert(entries.end(), {"remove", "rescan", "subsystem"});
    if (driver) entries.emplace_back("driver");
    if (group) entries.emplace_back("iommu_group");
    if (d->info.physfn) entries.emplace_back("physfn");
    for (std::size_t i = 0; i < vfs.size(); ++i) entries.push_back(fmt::format("virtfn{}", i));
    if (has_host_files(*d)) {
      const Node more = extra(host_files_now(d).in_device[d->info.address], {});
      entries.insert(entries.end(), more.entries.begin(), more.entries.end());
    }
    return dir(std::move(entries));
  }
  if (n > 3) {
    if (!has_host_files(*d)) return {};
    return extra(host_files_now(d).in_device[d->info.address], Components(c.begin() + 2, c.end()));
  }
  const std::string& name = c[2];
  if (auto it = attributes.find(name); it != attributes.end()) {
    const bool writable =
        name == "driver_override" || name == "sriov_numvfs" || name == "sriov_drivers_autoprobe";
    return file(it->second, writable);
  }
  if (name == "remove" || name == "rescan") return write_only();
  if (name == "subsystem") return link(back + "bus/pci", {"bus", "pci"});
  if (name == "driver" && driver) {
    return link(back + "bus/pci/drivers/" + *driver, {"bus", "pci", "drivers", *driver});
  }
  if (name == "iommu_group" && group) {
    return link(fmt::format("{}kernel/iommu_groups/{}", back, *group),
                {"kernel", "iommu_groups", std::to_string(*group)});
  }
  if (name == "physfn" && d->info.physfn) {
    const SimDevice* pf = present_device(d->info.physfn->str());
    if (pf) return link("../" + pf->info.address.str(), device_dir(*pf));
  }
  for (std::size_t i = 0; i < vfs.size(); ++i) {
    if (name == fmt::format("virtfn{}", i)) {
      return link("../" + vfs[i]->info.address.str(), device_dir(*vfs[i]));
    }
  }
  if (!has_host_files(*d)) return {};
  return extra(host_files_now(d).in_device[d->info.address], {name});
}

// bus/pci: its devices, drivers and their files
Node KernelSimulator::State::lookup_bus(const Components& c) const {
  const std::size_t n = c.size();
  if (n == 1) return dir({"pci"});
  if (c[1] != "pci") return {};
  if (n == 2) return dir({"devices", "drivers", "drivers_autoprobe", "drivers_probe", "rescan"});
  if (n == 3) {
    if (c[2] == "drivers_autoprobe") return file(autoprobe ? "1\n" : "0\n", true);
    if (c[2] == "drivers_probe" || c[2] == "rescan") return write_only();
  }
  if (c[2] == "devices") {
    if (n == 3) {
      std::vector<std::string> entries;
      for (const auto& [address, d] : devices) {
        if (d.present) entries.push_back(address.str());
      }
      return dir(std::move(entries));
    }
    const SimDevice* d = present_device(c[3]);
    if (n == 4 && d) return link(up(3) + device_sys_path(*d), device_dir(*d));
    return {};
  }
  if (c[2] == "drivers") {
    if (n == 3) {
      std::vector<std::string> entries;
      for (const auto& drv : drivers) {
        if (drv.registered) entries.push_back(drv.info.name);
      }
      return dir(std::move(entries));
    }
    const SimDriver* drv = registered_driver(c[3]);
    if (!drv) return {};
    if (n == 4) {
      std::vector<std::string> entries{"bind", "unbind", "new_id", "remove_id"};
      if (drv->info.module) entries.emplace_back("module");
      for (const auto& [address, d] : devices) {
        if (d.present && visible_driver(d) == drv->info.name) entries.push_back(address.str());
      }
      return dir(std::move(entries));
    }
    if (n > 5) return {};
    const std::string& name = c[4];
    if (name == "bind" || name == "unbind" || name == "new_id" || name == "remove_id") {
      return write_only();
    }
    if (name == "module" && drv->info.module) {
      return link(up(4) + "module/" + *drv->info.module, {"module", *drv->info.module});
    }
    const SimDevice* d = present_device(name);
    if (d && visible_driver(*d) == drv->info.name) {
      return link(up(4) + device_sys_path(*d), device_dir(*d));
    }
  }
  return {};
}

// kernel/iommu_groups
Node KernelSimulator::State::lookup_iommu_groups(const Components& c) const {
  const std::size_t n = c.size();
  if (n == 1) return dir({"iommu_groups"});
  if (c[1] != "iommu_groups") return {};
  std::set<unsigned> groups;
  for (const auto& [address, d] : devices) {
    if (auto g = group_of(d)) groups.insert(*g);
  }
  if (n == 2) {
    std::vector<std::string> entries;
    for (unsigned g : groups) entries.push_back(std::to_string(g));
    return dir(std::move(entries));
  }
  const auto group = parse_group(c[2]);
  if (!group || !groups.contains(*group)) return {};
  if (n == 3) return dir({"devices"});
  if (c[3] != "devices") return {};
  std::vector<const SimDevice*> members;
  for (const auto& [address, d] : devices) {
    if (group_of(d) == group) members.push_back(&d);
  }
  if (n == 4) {
    std::vector<std::string> entries;
    for (const SimDevice* d : members) entries.push_back(d->info.address.str());
    return dir(std::move(entries));
  }
  if (n > 5) return {};
  for (const SimDevice* d : members) {
    if (d->info.address.str() == c[4]) return link(up(4) + device_sys_path(*d), device_dir(*d));
  }
  return {};
}

// class/: iommu and vfio here, the rest from the wider host
Node KernelSimulator::State::lookup_class(const Components& c) const {
  const std::size_t n = c.size();
  if (n == 1) {
    Node classes = extra(host_files_now().sysfs, c);
    classes.entries.insert(classes.entries.end(), {"iommu", "vfio"});
    return dir(std::move(classes.entries));
  }
  if (c[1] == "vfio") {
    // The vfio class while vfio-pci is loaded: the container, and one node per group in use.
    if (!registered_driver(kVfioPci)) return {};
    std::vector<std::string> entries{"vfio"};
    for (unsigned g : vfio_nodes()) entries.push_back(std::to_string(g));
    if (n == 2) return dir(std::move(entries));
    if (n > 3 || std::find(entries.begin(), entries.end(), c[2]) == entries.end()) return {};
    const std::string target = c[2] == "vfio" ? "misc/vfio" : "vfio/" + c[2];
    return link("../../devices/virtual/" + target, split("devices/virtual/" + target));
  }
  if (c[1] != "iommu") return extra(host_files_now().sysfs, c);
  const std::vector<std::string> units = meta.iommu ? meta.iommu_units : std::vector<std::string>{};
  if (n == 2) return dir(units);
  if (n == 3) {
    for (const auto& unit : units) {
      if (unit == c[2]) {
        return link("../../devices/virtual/iommu/" + unit, {"devices", "virtual", "iommu", unit});
      }
    }
  }
  return {};
}

// module/<name>/drivers
Node KernelSimulator::State::lookup_module(const Components& c) const {
  const std::size_t n = c.size();
  std::set<std::string> modules;
  for (const auto& drv : drivers) {
    if (drv.registered && drv.info.module) modules.insert(*drv.info.module);
  }
  if (n == 1) return dir({modules.begin(), modules.end()});
  if (!modules.contains(c[1])) return {};
  if (n == 2) return dir({"drivers"});
  if (c[2] != "drivers") return {};
  std::vector<std::string> entries;
  for (const auto& drv : drivers) {
    if (drv.registered && drv.info.module == c[1]) entries.push_back("pci:" + drv.info.name);
  }
  if (n == 3) return dir(std::move(entries));
  if (n == 4) {
    for (const auto& entry : entries) {
      if (entry == c[3]) {
        const std::string name = entry.substr(4);
        return link(up(3) + "bus/pci/drivers/" + name, {"bus", "pci", "drivers", name});
      }
    }
  }
  return {};
}

std::variant<Resolved, int> KernelSimulator::State::resolve(const Components& path,
                                                            bool follow_last) const {
  Resolved out;
  out.node = lookup(out.canonical);
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (out.node.kind == Node::Kind::File) return ENOTDIR;
    out.canonical.push_back(path[i]);
    out.node = lookup(out.canonical);
    const bool last = i + 1 == path.size();
    if (out.node.kind == Node::Kind::Missing) return ENOENT;
    if (out.node.kind == Node::Kind::Link && (!last || follow_last)) {
      out.canonical = out.node.target;
      out.node = lookup(out.canonical);
      // A link whose target is not modelled (class/iommu/<unit>) leads nowhere.
      if (out.node.kind == Node::Kind::Missing) return ENOENT;
    }
  }
  return out;
}

}  // namespace vfio::sim
