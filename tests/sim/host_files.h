// The wider host of a topology as files: what lies below its devices in sysfs (network
// interfaces, disks and partitions, framebuffers), the virtual devices and classes around them
// (bridges, dm devices, class/net, class/block, class/graphics, class/vtconsole, class/vfio),
// and a /proc (processes and their open VFIO nodes, mountinfo, swaps, routes, IPv6 addresses).
//
// One function renders them for both the on-disk host writer and the kernel simulator, as
// device_attributes() does for attributes, so the two cannot disagree.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sim/topology.h"

namespace vfio::sim {

struct HostEntry {
  enum class Kind { File, Link, Dir };
  Kind kind = Kind::File;
  std::string text;  // File: the contents; Link: the target as readlink(2) returns it
  // Link: where it leads - a path within a device's directory, or (no device) from the root.
  std::optional<PciAddress> device;
  std::string target;
};

struct HostFiles {
  std::map<PciAddress, std::map<std::string, HostEntry>> in_device;  // within a device's dir
  std::map<std::string, HostEntry> sysfs;                            // from the sysfs root
  std::map<std::string, HostEntry> proc;                             // from the /proc root
};

// `device_path(d)`: d's directory from the sysfs root ("devices/pci0000:00/0000:00:1f.6").
// A device's interfaces, disks and framebuffer are there only while its host driver is bound
// (on vfio-pci, or driverless, it has none).
HostFiles host_files(const Topology& topology,
                     const std::function<std::string(const TopologyDevice&)>& device_path);

// A device node a host driver makes, by its name: where its class puts it below the device
// ("drm/card0", "sound/card0/controlC0"; none for nvidia's, which sysfs does not show), its
// class ("drm"; none for nvidia's), and its /dev path ("/dev/dri/card0", "/dev/nvidia0").
// `blocks_unbind`: the unbind from its driver waits while a process holds it open (sound: the
// kernel's snd_card_free waits for every file of the card to be closed). None: not a node name
// the simulator knows.
struct SimDeviceNode {
  std::optional<std::string> class_name;
  std::string within;
  std::string dev_path;
  bool blocks_unbind = false;
};
std::optional<SimDeviceNode> sim_device_node(std::string_view name);

// An IPv4 address ("192.168.1.1"), or with prefix = true a prefix ("192.168.1.0/24"):
// the address as a number (a.b.c.d -> a << 24 | ...) and the prefix length (32 without).
std::optional<std::pair<uint32_t, unsigned>> ipv4_route(std::string_view text, bool prefix);

// "2001:db8:0:0:0:0:0:10/64" (all eight groups) -> 32 hex digits and the prefix length.
std::optional<std::pair<std::string, unsigned>> ipv6_hex(std::string_view text);

}  // namespace vfio::sim
