#include "observe/device_nodes.h"

#include <array>
#include <cerrno>
#include <string_view>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "sysfs/sys_path.h"
#include "sysfs/sysfs.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

// A class whose entries below PCI functions are device nodes, and where devtmpfs puts them: the
// devnode callbacks of drm (drm_devnode: "dri/%s"), accel ("accel/%s"), sound (sound_devnode:
// "snd/%s"), infiniband_verbs (uverbs_devnode: "infiniband/%s"); video4linux has none (/dev/%s).
struct NodeClass {
  std::string_view name;
  std::string_view dev_dir;                  // under /dev, with its trailing '/'
  std::array<std::string_view, 4> prefixes;  // the entry names that are nodes
  DeviceNode::Kind kind;
};
constexpr std::array<NodeClass, 5> kNodeClasses{{
    // Not card0-HDMI-A-1 and the like: connectors have no node.
    {"drm", "/dev/dri/", {"card", "renderD"}, DeviceNode::Kind::Gpu},
    {"accel", "/dev/accel/", {"accel"}, DeviceNode::Kind::Gpu},
    // Not card0 itself, nor seq and timer, which are the sound core's and no device's.
    {"sound", "/dev/snd/", {"controlC", "pcmC", "hwC", "midiC"}, DeviceNode::Kind::Sound},
    {"video4linux", "/dev/", {"video", "vbi", "radio", "v4l-subdev"}, DeviceNode::Kind::Other},
    {"infiniband_verbs", "/dev/infiniband/", {"uverbs"}, DeviceNode::Kind::Other},
}};

// "card0", "renderD128", "pcmC0D3p": a prefix and then a digit.
bool is_node_name(const NodeClass& c, std::string_view name) {
  for (std::string_view prefix : c.prefixes) {
    if (prefix.empty() || name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rest = name.substr(prefix.size());
    if (!rest.empty() && rest.front() >= '0' && rest.front() <= '9' &&
        rest.find('-') == std::string_view::npos)
      return true;
  }
  return false;
}

// nvidia's own table of its GPUs: /proc/driver/nvidia/gpus/<address>/information holds
// "Device Minor: \t 0" for /dev/nvidia0. No directory: no nvidia driver loaded.
void nvidia_nodes(KernelFiles& proc, DeviceNodes& out, std::vector<Finding>& findings) {
  const SysPath dir = SysPath() / "driver" / "nvidia" / "gpus";
  auto gpus = proc.list(dir);
  if (!gpus) return;
  for (const auto& name : *gpus) {
    auto address = PciAddress::parse(name);
    if (!address) continue;
    const SysPath file = dir / name / "information";
    auto text = proc.read(file);
    if (!text) {
      if (text.error().error != ENOENT) {
        findings.emplace_back(Finding::Kind::Unreadable, proc.display(file),
                              fmt::format("cannot {}; a process using this GPU is not seen",
                                          text.error().to_string()),
                              *address);
      }
      continue;
    }
    std::optional<unsigned> minor;
    for_each_line(*text, [&](std::string_view line) {
      constexpr std::string_view key = "Device Minor:";
      if (line.substr(0, key.size()) == key)
        minor = parse_whole_number<unsigned>(trim(line.substr(key.size())));
    });
    if (!minor) {
      findings.emplace_back(Finding::Kind::Malformed, proc.display(file),
                            "no 'Device Minor:' line; a process using this GPU is not seen",
                            *address);
      continue;
    }
    out.emplace(fmt::format("/dev/nvidia{}", *minor), DeviceNode{*address, DeviceNode::Kind::Gpu});
  }
}

}  // namespace

DeviceNodes device_nodes(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings) {
  DeviceNodes out;
  for (const NodeClass& c : kNodeClasses) {
    for (const auto& entry : class_devices(sysfs, c.name, findings)) {
      if (!entry.device || !is_node_name(c, entry.name)) continue;
      out.emplace(fmt::format("{}{}", c.dev_dir, entry.name), DeviceNode{*entry.device, c.kind});
    }
  }
  if (proc) nvidia_nodes(*proc, out, findings);
  return out;
}

}  // namespace vfio
