#include "observe/node_holders.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sys_path.h"
#include "sysfs/sysfs.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

constexpr std::string_view kVfioDeviceFd = "anon_inode:[vfio-device]";
constexpr std::string_view kNoIommuPrefix = "noiommu-";

constexpr std::string_view kGroupNodes = "/dev/vfio/";
constexpr std::string_view kDeviceNodes = "/dev/vfio/devices/";

constexpr std::string_view kWhoIsNotKnown =
    "processes holding a VFIO group or a device's node open";

// "/dev/vfio/12" or "/dev/vfio/noiommu-12" -> 12.
std::optional<unsigned> group_of_node(std::string_view target) {
  if (target.substr(0, kGroupNodes.size()) != kGroupNodes) return std::nullopt;
  target.remove_prefix(kGroupNodes.size());
  if (target.substr(0, kNoIommuPrefix.size()) == kNoIommuPrefix)
    target.remove_prefix(kNoIommuPrefix.size());
  return parse_whole_number<unsigned>(target);
}

// "/dev/vfio/devices/vfio0" -> the group of device node vfio0, when it is one of `nodes`.
std::optional<unsigned> group_of_device_node(std::string_view target, const VfioNodes& nodes) {
  if (target.substr(0, kDeviceNodes.size()) != kDeviceNodes) return std::nullopt;
  target.remove_prefix(kDeviceNodes.size());
  const auto it = nodes.devices.find(std::string(target));
  if (it == nodes.devices.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::set<unsigned> vfio_group_nodes(Sysfs& sysfs) {
  std::set<unsigned> groups;
  auto entries = sysfs.list(SysPath() / "class" / "vfio");
  if (!entries) return groups;  // vfio not loaded: no node at all
  for (std::string_view name : *entries) {
    if (name.substr(0, kNoIommuPrefix.size()) == kNoIommuPrefix)
      name.remove_prefix(kNoIommuPrefix.size());
    if (auto group = parse_whole_number<unsigned>(name))
      groups.insert(*group);  // not "vfio", the container
  }
  return groups;
}

VfioNodes vfio_nodes(Sysfs& sysfs, std::vector<Finding>& findings) {
  VfioNodes nodes{vfio_group_nodes(sysfs), {}};
  for (const auto& node : class_devices(sysfs, "vfio-dev", findings)) {
    // Its `device` is the PCI function it lies below; that function's group is the node's.
    std::optional<unsigned> group;
    std::string why = "it lies below no PCI device";
    if (node.device) {
      const SysPath link = paths::pci_device_file(*node.device, "iommu_group");
      auto target = sysfs.read_link(link);
      if (!target && target.error().error == ENOENT) continue;  // removed while we looked
      if (target) {
        group = parse_whole_number<unsigned>(link_leaf(*target));
        if (!group) why = fmt::format("{} names '{}', not a group", sysfs.display(link), *target);
      } else {
        why = fmt::format("cannot {}", target.error().to_string());
      }
    }
    if (!group) {
      findings.emplace_back(Finding::Kind::HoldersUnknown,
                            sysfs.display(SysPath() / "class" / "vfio-dev" / node.name),
                            fmt::format("the group of VFIO device node {}{} is not known: {}; a "
                                        "process holding it is not seen",
                                        kDeviceNodes, node.name, why));
      continue;
    }
    nodes.devices.emplace(node.name, *group);
    nodes.groups.insert(*group);
  }
  return nodes;
}

NodeHolders find_node_holders(KernelFiles& proc, const VfioNodes& nodes,
                              const DeviceNodes& devices) {
  NodeHolders out;
  out.nodes = nodes.groups;
  out.device_nodes = devices;
  if (nodes.groups.empty() && devices.empty()) return out;
  auto entries = proc.list(SysPath());
  if (!entries) {
    out.unseen = fmt::format("cannot {}", entries.error().to_string());
    out.findings.emplace_back(Finding::Kind::HoldersUnknown, proc.display(SysPath()),
                              fmt::format("{}; {} are not known", *out.unseen, kWhoIsNotKnown));
    return out;
  }
  std::vector<int> pids;
  for (const auto& name : *entries) {
    if (auto pid = parse_whole_number<unsigned>(name); pid && *pid > 0 && *pid <= 0x7fffffff)
      pids.push_back(static_cast<int>(*pid));
  }
  std::sort(pids.begin(), pids.end());
  // Any /proc shows at least the process reading it: one that lists none is not a process table
  // at all (a mistaken --proc-root). A container's own /proc, in a PID namespace of its own, lists
  // its processes and is not caught here: run it with the host's (hostPID).
  if (pids.empty()) {
    out.unseen = fmt::format(
        "{} lists no process at all (is it the host's /proc? in a container, "
        "share the host's PID namespace)",
        proc.display(SysPath()));
    out.findings.emplace_back(Finding::Kind::HoldersUnknown, proc.display(SysPath()),
                              fmt::format("{}; {} are not known", *out.unseen, kWhoIsNotKnown));
    return out;
  }
  unsigned unreadable = 0;
  for (const int pid : pids) {
    const SysPath dir = SysPath() / std::to_string(pid);
    auto fds = proc.list(dir / "fd");
    if (!fds) {
      if (fds.error().error == EACCES || fds.error().error == EPERM) ++unreadable;
      continue;  // otherwise it exited while we looked
    }
    std::map<unsigned, std::set<std::string>> held;    // group -> the nodes of it held
    std::map<PciAddress, std::set<std::string>> used;  // device -> its own nodes held
    unsigned device_fds = 0;
    for (const auto& fd : *fds) {
      if (!SysPath::is_valid_component(fd)) continue;
      auto target = proc.read_link(dir / "fd" / fd);
      if (!target) continue;  // closed meanwhile
      if (*target == kVfioDeviceFd) {
        ++device_fds;
      } else if (auto group = group_of_node(*target); group && nodes.groups.count(*group)) {
        held[*group].insert(*target);
      } else if (auto of_device = group_of_device_node(*target, nodes)) {
        held[*of_device].insert(*target);
      } else if (auto node = devices.find(*target); node != devices.end()) {
        used[node->second.device].insert(*target);
      }
    }
    std::string command = "?";
    if (!held.empty() || !used.empty()) {
      if (auto comm = proc.read(dir / "comm")) command = std::string(trim(*comm));
    }
    for (auto& [device, used_nodes] : used)
      out.by_device[device].push_back(NodeHolder{pid, command, 0, std::move(used_nodes)});
    if (held.empty()) {
      if (device_fds > 0) {
        out.findings.emplace_back(
            Finding::Kind::HoldersUnknown, proc.display(dir / "fd"),
            fmt::format("pid {} holds {} VFIO device fd{} but no group node: which device cannot "
                        "be told from /proc; releasing a device it uses would block",
                        pid, device_fds, device_fds == 1 ? "" : "s"));
      }
      continue;
    }
    for (auto& [group, held_nodes] : held)
      out.by_group[group].push_back(NodeHolder{pid, command, device_fds, std::move(held_nodes)});
  }
  if (unreadable > 0) {
    out.unseen = fmt::format("the open files of {} process{} could not be read (not permitted)",
                             unreadable, unreadable == 1 ? "" : "es");
    out.findings.emplace_back(Finding::Kind::HoldersUnknown, proc.display(SysPath()),
                              fmt::format("{}: a VFIO group or device node they hold is not "
                                          "seen; run as root to see every holder",
                                          *out.unseen));
  }
  return out;
}

std::vector<NodeHolder> holders_of_group(Sysfs& sysfs, KernelFiles& proc, unsigned group) {
  std::vector<Finding> ignored;  // observation reports them; here only this group matters
  VfioNodes nodes = vfio_nodes(sysfs, ignored);
  if (!nodes.groups.count(group)) return {};
  nodes.groups = {group};
  std::erase_if(nodes.devices, [group](const auto& node) { return node.second != group; });
  NodeHolders found = find_node_holders(proc, nodes);
  auto it = found.by_group.find(group);
  return it == found.by_group.end() ? std::vector<NodeHolder>{} : std::move(it->second);
}

std::string describe_holders(const std::vector<NodeHolder>& holders) {
  std::vector<std::string> each;
  for (const auto& h : holders) each.push_back(fmt::format("{} ({})", h.pid, h.command));
  return fmt::format("pid{} {}", holders.size() == 1 ? "" : "s", fmt::join(each, " and "));
}

std::string describe_held_nodes(const std::vector<NodeHolder>& holders) {
  std::set<std::string> nodes;
  for (const auto& h : holders) nodes.insert(h.nodes.begin(), h.nodes.end());
  return fmt::format("{}", fmt::join(nodes, " and "));
}

}  // namespace vfio
