#include "sim/host_files.h"

#include <charconv>
#include <set>

#include <fmt/format.h>

#include "sim/relative_link.h"

namespace vfio::sim {
namespace {

HostEntry file(std::string text) {
  return {HostEntry::Kind::File, std::move(text), std::nullopt, {}};
}
HostEntry dir() {
  return {HostEntry::Kind::Dir, {}, std::nullopt, {}};
}
// A link at `at` (from the root) to `target` (from the root).
HostEntry root_link(std::string_view at, const std::string& target) {
  return {HostEntry::Kind::Link, up(depth(at) - 1) + target, std::nullopt, target};
}

std::optional<unsigned> number(std::string_view text, unsigned max) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > max)
    return std::nullopt;
  return value;
}

// /proc/net/route spells an address as the u32 in the host's (little-endian) byte order.
std::string route_hex(uint32_t address) {
  return fmt::format("{:02X}{:02X}{:02X}{:02X}", address & 0xff, (address >> 8) & 0xff,
                     (address >> 16) & 0xff, address >> 24);
}

// "controlC0", "pcmC1D0p" -> "card0", "card1": the sound card the node belongs to.
std::string sound_card(std::string_view name) {
  const auto c = name.find('C');
  const auto end = name.find('D', c);
  return fmt::format("card{}",
                     name.substr(c + 1, end == std::string_view::npos ? end : end - c - 1));
}

// `name` is `prefix` and then a number (and, for sound, what follows its card number).
bool named(std::string_view name, std::string_view prefix) {
  return name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix &&
         name[prefix.size()] >= '0' && name[prefix.size()] <= '9';
}

class Renderer {
 public:
  Renderer(const Topology& t, const std::function<std::string(const TopologyDevice&)>& path)
      : t_(t), device_path_(path) {}

  HostFiles run() {
    for (const auto& d : t_.devices) {
      if (!d.bound_driver || d.bound_driver != d.host_driver) continue;
      for (const auto& i : d.net) interface(d, i);
      for (std::size_t k = 0; k < d.disks.size(); ++k) disk(d, d.disks[k], k);
      if (d.framebuffer) {
        in(d)["graphics/" + *d.framebuffer] = dir();
        into(d, "class/graphics/" + *d.framebuffer, "graphics/" + *d.framebuffer);
      }
      for (const auto& name : d.nodes) node(d, name);
    }
    virtual_devices();
    consoles();
    vfio_nodes();
    vfio_device_nodes();
    proc();
    return std::move(out_);
  }

 private:
  std::map<std::string, HostEntry>& in(const TopologyDevice& d) {
    return out_.in_device[d.address];
  }

  // class/<...> -> the device's directory + `within`.
  void into(const TopologyDevice& d, const std::string& at, const std::string& within) {
    out_.sysfs[at] = {HostEntry::Kind::Link, up(depth(at) - 1) + device_path_(d) + "/" + within,
                      d.address, within};
  }

  // A link within the device's directory (at `at`) to a path from the root.
  void out_of(const TopologyDevice& d, const std::string& at, const std::string& target) {
    const std::string from = device_path_(d) + "/" + at;
    in(d)[at] = {HostEntry::Kind::Link, up(depth(from) - 1) + target, std::nullopt, target};
  }

  void interface(const TopologyDevice& d, const TopologyInterface& i) {
    const std::string base = "net/" + i.name;
    in(d)[base + "/operstate"] = file(i.operstate + "\n");
    if (i.master) {
      out_of(d, base + "/master", "devices/virtual/net/" + *i.master);
      in(d)[base + (i.bond ? "/bonding_slave" : "/brport")] = dir();
    }
    into(d, "class/net/" + i.name, base);
  }

  void disk(const TopologyDevice& d, const TopologyDisk& disk, std::size_t k) {
    const std::string base =
        disk.name.rfind("nvme", 0) == 0
            ? fmt::format("nvme/nvme{}/{}", k, disk.name)
            : fmt::format("host{0}/target{0}:0:0/{0}:0:0:0/block/{1}", k, disk.name);
    block(d, disk, base);
    unsigned n = 0;
    for (const auto& part : disk.partitions) {
      block(d, part, base + "/" + part.name);
      in(d)[base + "/" + part.name + "/partition"] = file(fmt::format("{}\n", ++n));
    }
  }

  void block(const TopologyDevice& d, const TopologyDisk& b, const std::string& base) {
    in(d)[base + "/dev"] = file(b.dev + "\n");
    in(d)[base + "/holders"] = dir();
    for (const auto& h : b.holders) out_of(d, base + "/holders/" + h, "devices/virtual/block/" + h);
    into(d, "class/block/" + b.name, base);
  }

  void node(const TopologyDevice& d, const std::string& name) {
    const auto node = sim_device_node(name);  // topology_yaml checked the name
    present_nodes_.insert(node->dev_path);
    if (!node->class_name) {  // nvidia's own table in /proc
      const std::string minor = name.substr(std::string_view("nvidia").size());
      out_.proc[fmt::format("driver/nvidia/gpus/{}/information", d.address.str())] =
          file(fmt::format("Model: \t\t NVIDIA (simulated)\nBus Location: \t {}\nDevice Minor: "
                           "\t {}\nGPU Excluded:\t No\n",
                           d.address.str(), minor));
      return;
    }
    in(d)[node->within + "/dev"] = file("226:0\n");
    into(d, fmt::format("class/{}/{}", *node->class_name, name), node->within);
  }

  void virtual_devices() {
    for (const auto& name : t_.host.virtual_interfaces) {
      const std::string base = "devices/virtual/net/" + name;
      out_.sysfs[base + "/operstate"] = file("up\n");
      out_.sysfs["class/net/" + name] = root_link("class/net/" + name, base);
    }
    for (const auto& b : t_.host.virtual_blocks) {
      const std::string base = "devices/virtual/block/" + b.name;
      out_.sysfs[base + "/dev"] = file(b.dev + "\n");
      out_.sysfs[base + "/holders"] = dir();
      if (b.dm_name) out_.sysfs[base + "/dm/name"] = file(*b.dm_name + "\n");
      out_.sysfs["class/block/" + b.name] = root_link("class/block/" + b.name, base);
    }
    // Every host with a framebuffer console has fbcon's own (virtual) graphics entry.
    if (t_.host.fbcon) {
      out_.sysfs["devices/virtual/graphics/fbcon/rotate"] = file("0\n");
      out_.sysfs["class/graphics/fbcon"] =
          root_link("class/graphics/fbcon", "devices/virtual/graphics/fbcon");
    }
  }

  void vtcon(unsigned n, const std::string& name, bool bound) {
    const std::string base = fmt::format("devices/virtual/vtconsole/vtcon{}", n);
    out_.sysfs[base + "/name"] = file(name + "\n");
    out_.sysfs[base + "/bind"] = file(bound ? "1\n" : "0\n");
    const std::string at = fmt::format("class/vtconsole/vtcon{}", n);
    out_.sysfs[at] = root_link(at, base);
  }

  void consoles() {
    if (t_.host.fbcon) {
      vtcon(0, "(S) dummy device", false);
      vtcon(1, "(M) frame buffer device", true);
    } else {
      vtcon(0, "(S) VGA+", true);
    }
  }

  // class/vfio/<N> for each group with a device on vfio-pci, as /dev/vfio/<N> exists then.
  void vfio_nodes() {
    if (t_.vfio_pci != Topology::VfioPci::Loaded) return;
    out_.sysfs["class/vfio/vfio"] = root_link("class/vfio/vfio", "devices/virtual/misc/vfio");
    out_.sysfs["devices/virtual/misc/vfio/dev"] = file("10:196\n");
    std::set<unsigned> groups;
    for (const auto& d : t_.devices) {
      if (d.iommu_group && d.bound_driver == std::string("vfio-pci")) groups.insert(*d.iommu_group);
    }
    for (unsigned g : groups) {
      const std::string base = fmt::format("devices/virtual/vfio/{}", g);
      out_.sysfs[base + "/dev"] = file(fmt::format("242:{}\n", g));
      const std::string at = fmt::format("class/vfio/{}", g);
      out_.sysfs[at] = root_link(at, base);
    }
  }

  // On kernels with VFIO device nodes, each device on vfio-pci has one: vfio-dev/vfio<M> below
  // it (its `dev`, and `device` back to it), linked from class/vfio-dev. M is the device's own
  // (vfio_device) or the lowest one free, in address order (the kernel's ida, when they bound
  // in that order).
  void vfio_device_nodes() {
    if (!t_.vfio_device_nodes) return;
    std::set<unsigned> used;
    std::vector<const TopologyDevice*> unnumbered;
    for (const auto& d : t_.devices) {
      // The simulator numbers its devices itself, and keeps a node while an unbind of its
      // device waits for a holder (when no `driver` link shows vfio-pci any more).
      if (d.vfio_device) {
        used.insert(*d.vfio_device);
        device_nodes_[d.address] = *d.vfio_device;
      } else if (d.bound_driver == std::string("vfio-pci")) {
        unnumbered.push_back(&d);
      }
    }
    unsigned next = 0;
    for (const TopologyDevice* d : unnumbered) {
      while (used.count(next)) ++next;
      device_nodes_[d->address] = next;
      used.insert(next);
    }
    for (const auto& d : t_.devices) {
      const auto it = device_nodes_.find(d.address);
      if (it == device_nodes_.end()) continue;
      const std::string name = fmt::format("vfio{}", it->second);
      const std::string base = "vfio-dev/" + name;
      in(d)[base + "/dev"] = file(fmt::format("{}:{}\n", kVfioDeviceMajor, it->second));
      in(d)[base + "/device"] = {HostEntry::Kind::Link, "../..", d.address, ""};
      into(d, "class/vfio-dev/" + name, base);
    }
  }

  void process(unsigned pid, const std::string& command, const std::vector<std::string>& fds) {
    const std::string base = std::to_string(pid);
    out_.proc[base + "/comm"] = file(command + "\n");
    std::vector<std::string> all{"/dev/null", "/dev/null", "/dev/null"};
    all.insert(all.end(), fds.begin(), fds.end());
    for (std::size_t fd = 0; fd < all.size(); ++fd) {
      out_.proc[fmt::format("{}/fd/{}", base, fd)] = {
          HostEntry::Kind::Link, all[fd], std::nullopt, {}};
    }
  }

  void proc() {
    auto& p = out_.proc;
    // Whoever reads /proc/self is pid 1 here: a fixed tree cannot know the reader.
    p["self"] = {HostEntry::Kind::Link, "1", std::nullopt, "1"};
    process(1, "systemd", {});
    std::string mountinfo =
        "21 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n";
    unsigned id = 22;
    for (const auto& m : t_.host.mounts) {
      mountinfo += fmt::format("{} 1 {} / {} rw,relatime shared:{} - {} {} rw\n", id, m.dev,
                               m.target, id, m.fstype, m.source);
      ++id;
    }
    p["1/mountinfo"] = file(mountinfo);
    for (const auto& proc : t_.host.processes) {
      std::vector<std::string> fds;
      if (!proc.vfio_groups.empty()) fds.emplace_back("/dev/vfio/vfio");
      for (unsigned g : proc.vfio_groups) fds.push_back(fmt::format("/dev/vfio/{}", g));
      for (unsigned k = 0; k < proc.device_fds; ++k) fds.emplace_back("anon_inode:[vfio-device]");
      if (!proc.vfio_devices.empty()) fds.emplace_back("/dev/iommu");
      for (const auto& address : proc.vfio_devices) {
        // Only a device that has a node can be held (topology_yaml and start_process check).
        if (auto it = device_nodes_.find(address); it != device_nodes_.end())
          fds.push_back(fmt::format("/dev/vfio/devices/vfio{}", it->second));
      }
      // A node removed while held (its driver unbound) stays open, under its old name marked
      // as the kernel marks an unlinked file's.
      for (const auto& f : proc.files)
        fds.push_back(present_nodes_.count(f) || !is_any_node(f) ? f : f + " (deleted)");
      process(proc.pid, proc.command, fds);
    }
    std::string swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    for (const auto& s : t_.host.swaps) swaps += s + "\t\t\t\tpartition\t8388604\t\t0\t\t-2\n";
    p["swaps"] = file(swaps);
    std::string route =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
    for (const auto& r : t_.host.routes) {
      const auto to = r.to == "default" ? std::make_pair(0u, 0u) : *ipv4_route(r.to, true);
      const uint32_t mask = to.second == 0 ? 0 : ~0u << (32 - to.second);
      const uint32_t via = r.via ? ipv4_route(*r.via, false)->first : 0;
      route +=
          fmt::format("{}\t{}\t{}\t{:04X}\t0\t0\t{}\t{}\t0\t0\t0\n", r.dev, route_hex(to.first),
                      route_hex(via), r.via ? 3 : 1, r.via ? 100 : 0, route_hex(mask));
    }
    p["net/route"] = file(route);
    p["net/ipv6_route"] = file("");
    std::string inet6;
    unsigned index = 2;
    for (const auto& [dev, address] : t_.host.ipv6_addresses) {
      const auto hex = *ipv6_hex(address);
      inet6 += fmt::format("{} {:02x} {:02x} 00 80 {:>8}\n", hex.first, index++, hex.second, dev);
    }
    p["net/if_inet6"] = file(inet6);
    p["cmdline"] = file("BOOT_IMAGE=/boot/vmlinuz-6.1.0-56-amd64 ro quiet\n");
  }

  // The char major Linux gives VFIO device nodes is dynamic (alloc_chrdev_region); the tool
  // never reads it.
  static constexpr unsigned kVfioDeviceMajor = 239;

  const Topology& t_;
  const std::function<std::string(const TopologyDevice&)>& device_path_;
  HostFiles out_;
  std::map<PciAddress, unsigned> device_nodes_;  // vfio_device_nodes(): device -> M of vfio<M>
  std::set<std::string> present_nodes_;          // the /dev paths of the nodes rendered

  // Whether `path` is a node some device of the topology makes (bound or not).
  bool is_any_node(const std::string& path) const {
    for (const auto& d : t_.devices) {
      for (const auto& name : d.nodes) {
        if (sim_device_node(name)->dev_path == path) return true;
      }
    }
    return false;
  }
};

}  // namespace

HostFiles host_files(const Topology& topology,
                     const std::function<std::string(const TopologyDevice&)>& device_path) {
  return Renderer(topology, device_path).run();
}

std::optional<SimDeviceNode> sim_device_node(std::string_view name) {
  const std::string n(name);
  if (named(name, "card") || named(name, "renderD"))
    return SimDeviceNode{"drm", "drm/" + n, "/dev/dri/" + n, false};
  if (named(name, "controlC") || named(name, "pcmC") || named(name, "hwC"))
    return SimDeviceNode{"sound", fmt::format("sound/{}/{}", sound_card(name), n), "/dev/snd/" + n,
                         true};
  if (named(name, "video"))
    return SimDeviceNode{"video4linux", "video4linux/" + n, "/dev/" + n, false};
  if (named(name, "uverbs"))
    return SimDeviceNode{"infiniband_verbs", "infiniband_verbs/" + n, "/dev/infiniband/" + n,
                         false};
  if (named(name, "nvidia")) return SimDeviceNode{std::nullopt, "", "/dev/" + n, false};
  return std::nullopt;
}

std::optional<std::pair<uint32_t, unsigned>> ipv4_route(std::string_view text, bool prefix) {
  unsigned length = 32;
  if (prefix) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto l = number(text.substr(slash + 1), 32);
    if (!l) return std::nullopt;
    length = *l;
    text = text.substr(0, slash);
  }
  uint32_t address = 0;
  for (int i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return std::nullopt;
    auto octet = number(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    address = address << 8 | *octet;
    text = i == 3 ? std::string_view() : text.substr(dot + 1);
  }
  return std::make_pair(address, length);
}

std::optional<std::pair<std::string, unsigned>> ipv6_hex(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto length = number(text.substr(slash + 1), 128);
  if (!length) return std::nullopt;
  text = text.substr(0, slash);
  std::string hex;
  for (int i = 0; i < 8; ++i) {
    const auto colon = text.find(':');
    if ((colon == std::string_view::npos) != (i == 7)) return std::nullopt;
    const std::string_view group = text.substr(0, colon);
    if (group.empty() || group.size() > 4 ||
        group.find_first_not_of("0123456789abcdef") != std::string_view::npos)
      return std::nullopt;
    hex += std::string(4 - group.size(), '0') + std::string(group);
    text = i == 7 ? std::string_view() : text.substr(colon + 1);
  }
  return std::make_pair(hex, *length);
}

}  // namespace vfio::sim
