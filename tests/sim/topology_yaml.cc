#include "sim/topology_yaml.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include <yaml-cpp/yaml.h>
#include "util/hex.h"

#include "sim/device_attributes.h"
#include "sim/host_files.h"
#include "sysfs/sys_path.h"
#include "util/did_you_mean.h"
#include "util/text_fields.h"

namespace vfio::sim {
namespace {

struct KnownDriver {
  std::string_view name;
  std::optional<std::string_view> module;
  bool dma_safe;
};

// Driver names differ from module names; these are the ones examples and tests meet.
constexpr KnownDriver kKnownDrivers[] = {
    {"pcieport", std::nullopt, true},
    {"pci-stub", "pci_stub", true},
    {"vfio-pci", "vfio_pci", true},
    {"shpchp", "shpchp", true},
    {"snd_hda_intel", "snd_hda_intel", false},
    {"xhci_hcd", "xhci_pci", false},
    {"i801_smbus", "i2c_i801", false},
    {"ahci", "ahci", false},
    {"nvme", "nvme", false},
    {"e1000e", "e1000e", false},
    {"e1000", "e1000", false},
    {"igb", "igb", false},
    {"igc", "igc", false},
    {"ixgbe", "ixgbe", false},
    {"ixgbevf", "ixgbevf", false},
    {"i40e", "i40e", false},
    {"iavf", "iavf", false},
    {"ice", "ice", false},
    {"mlx5_core", "mlx5_core", false},
    {"nouveau", "nouveau", false},
    {"nvidia", "nvidia", false},
    {"amdgpu", "amdgpu", false},
    {"i915", "i915", false},
    {"virtio-pci", "virtio_pci", false},
    {"lpc_ich", "lpc_ich", false},
};

const KnownDriver* known_driver(std::string_view name) {
  for (const auto& d : kKnownDrivers)
    if (d.name == name) return &d;
  return nullptr;
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Driver names as the kernel spells them: "snd_hda_intel", "virtio-pci", "8139too".
bool is_driver_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  };
  return std::all_of(name.begin(), name.end(), ok) && name.front() != '.' && name.front() != '-';
}

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Topology parse(const std::string& text);

 private:
  struct Located {
    TopologyDevice device;
    YAML::Mark mark;        // where the device (or its PF's sriov block) was given
    YAML::Node node;        // the device's mapping (the PF's for a VF)
    unsigned vf_index = 0;  // for VFs: which one
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    if (mark.line < 0) throw TopologyError(fmt::format("{}: {}", file_, message));
    throw TopologyError(
        fmt::format("{}:{}:{}: {}", file_, mark.line + 1, mark.column + 1, message));
  }
  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    fail(at.Mark(), message);
  }

  // Checks that `node` is a mapping whose keys are all known, none twice, every required one
  // present; `what` names it in messages ("a device").
  void check_map(const YAML::Node& node, std::string_view what,
                 const std::vector<std::string_view>& known,
                 const std::vector<std::string_view>& required,
                 const std::vector<std::string_view>& nullable = {}) const;

  std::string string_of(const YAML::Node& node, std::string_view key) const;
  long long integer_of(const YAML::Node& node, std::string_view key, long long min,
                       long long max) const;
  bool bool_of(const YAML::Node& node, std::string_view key) const;
  std::pair<uint16_t, uint16_t> ids_of(const YAML::Node& node, std::string_view key) const;
  uint32_t hex_of(const YAML::Node& node, std::string_view key, std::size_t digits,
                  std::string_view example) const;
  PciAddress address_of(const YAML::Node& node, std::string_view key) const;
  std::string driver_of(const YAML::Node& node, std::string_view key) const;

  void parse_drivers(const YAML::Node& list, Topology& topology,
                     std::map<std::string, TopologyDriver>& drivers) const;
  void parse_vfio_aliases(const YAML::Node& list, TopologyDriver& driver) const;
  void parse_device(const YAML::Node& node, const Topology& topology,
                    std::vector<Located>& out) const;
  void check_links(const std::vector<Located>& devices) const;
  // The wider host: a device's net/disks/framebuffer, and the top-level `host`.
  std::string name_of(const YAML::Node& node, std::string_view key) const;
  std::string dev_of(const YAML::Node& node, std::string_view key) const;
  std::vector<std::string> names_of(const YAML::Node& node, std::string_view key) const;
  template <class F>
  void each(const YAML::Node& list, std::string_view key, const F& f) const;
  TopologyDisk disk_of(const YAML::Node& node, bool partition) const;
  void parse_host_facts(const YAML::Node& node, TopologyDevice& d) const;
  void parse_kind(const YAML::Node& node, TopologyDevice& d) const;
  void parse_binding(const YAML::Node& node, const Topology& topology, TopologyDevice& d) const;
  void parse_status_attributes(const YAML::Node& node, TopologyDevice& d) const;
  TopologyHost parse_host(const YAML::Node& node) const;
  KernelVersion kernel_of(const YAML::Node& node) const;
  // A process can hold only the VFIO device node of a device that has one.
  void check_held_device_nodes(const YAML::Node& processes, const Topology& topology) const;

  std::string file_;
};

void Parser::check_map(const YAML::Node& node, std::string_view what,
                       const std::vector<std::string_view>& known,
                       const std::vector<std::string_view>& required,
                       const std::vector<std::string_view>& nullable) const {
  if (!node.IsMap()) fail(node, fmt::format("{} must be a mapping, not {}", what, node_kind(node)));
  std::map<std::string, int> seen;  // key -> line
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) fail(key, fmt::format("keys of {} must be plain names", what));
    const std::string name = key.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      if (auto closest = closest_name(name, known)) {
        fail(key, fmt::format("unknown key '{}' in {}; did you mean '{}'?", name, what, *closest));
      }
      fail(key, fmt::format("unknown key '{}' in {}; known keys: {}", name, what, join(known)));
    }
    // A key with nothing after it: yaml-cpp marks the null where the next token starts, so
    // point at the key instead.
    if (entry.second.IsNull() &&
        std::find(nullable.begin(), nullable.end(), name) == nullable.end())
      fail(key, fmt::format("'{}' has no value", name));
    auto [it, inserted] = seen.emplace(name, key.Mark().line + 1);
    if (!inserted) {
      fail(key, fmt::format("duplicate key '{}' in {} (first given on line {})", name, what,
                            it->second));
    }
  }
  for (auto key : required) {
    if (!seen.count(std::string(key)))
      fail(node, fmt::format("{} is missing required key '{}'", what, key));
  }
}

std::string Parser::string_of(const YAML::Node& node, std::string_view key) const {
  if (!node.IsScalar())
    fail(node, fmt::format("'{}' must be a string, not {}", key, node_kind(node)));
  return node.Scalar();
}

long long Parser::integer_of(const YAML::Node& node, std::string_view key, long long min,
                             long long max) const {
  const std::string text = string_of(node, key);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size())
    fail(node, fmt::format("'{}' must be a whole number, not '{}'", key, text));
  if (value < min || value > max)
    fail(node, fmt::format("'{}' must be between {} and {}, not {}", key, min, max, value));
  return value;
}

bool Parser::bool_of(const YAML::Node& node, std::string_view key) const {
  const std::string text = string_of(node, key);
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  fail(node, fmt::format("'{}' must be true or false, not '{}'", key, text));
}

std::pair<uint16_t, uint16_t> Parser::ids_of(const YAML::Node& node, std::string_view key) const {
  const std::string text = string_of(node, key);
  if (text.size() != 9 || text[4] != ':' || !parse_hex(text.substr(0, 4)) ||
      !parse_hex(text.substr(5))) {
    fail(node,
         fmt::format("'{}' must be vendor:device in hex, like \"8086:1901\", not '{}'", key, text));
  }
  return {static_cast<uint16_t>(*parse_hex(text.substr(0, 4))),
          static_cast<uint16_t>(*parse_hex(text.substr(5)))};
}

uint32_t Parser::hex_of(const YAML::Node& node, std::string_view key, std::size_t digits,
                        std::string_view example) const {
  const std::string text = string_of(node, key);
  if (text.size() != digits + 2 || (text.rfind("0x", 0) != 0 && text.rfind("0X", 0) != 0) ||
      !parse_hex(text.substr(2))) {
    fail(node, fmt::format("'{}' must be 0x and {} hex digits, like \"{}\", not '{}'", key, digits,
                           example, text));
  }
  return *parse_hex(text.substr(2));
}

PciAddress Parser::address_of(const YAML::Node& node, std::string_view key) const {
  const std::string text = string_of(node, key);
  std::string why;
  auto address = PciAddress::parse(text, &why);
  if (!address) fail(node, fmt::format("bad '{}': {}", key, why));
  return *address;
}

std::string Parser::driver_of(const YAML::Node& node, std::string_view key) const {
  const std::string name = string_of(node, key);
  if (!is_driver_name(name)) {
    fail(node, fmt::format("'{}': '{}' is not a driver name (letters, digits, '_', '-', '.')", key,
                           name));
  }
  return name;
}

std::string Parser::name_of(const YAML::Node& node, std::string_view key) const {
  std::string name = string_of(node, key);
  if (!SysPath::is_valid_component(name) || name.find(' ') != std::string::npos)
    fail(node, fmt::format("'{}': '{}' is not a usable name", key, name));
  return name;
}

std::string Parser::dev_of(const YAML::Node& node, std::string_view key) const {
  const std::string text = string_of(node, key);
  const auto colon = text.find(':');
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 7 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (colon == std::string::npos || !digits(text.substr(0, colon)) ||
      !digits(text.substr(colon + 1)))
    fail(node, fmt::format("'{}' must be major:minor, like \"259:1\", not '{}'", key, text));
  return text;
}

std::vector<std::string> Parser::names_of(const YAML::Node& node, std::string_view key) const {
  std::vector<std::string> out;
  each(node, key, [&](const YAML::Node& item) { out.push_back(name_of(item, key)); });
  return out;
}

template <class F>
void Parser::each(const YAML::Node& list, std::string_view key, const F& f) const {
  if (!list.IsSequence())
    fail(list, fmt::format("'{}' must be a list, not {}", key, node_kind(list)));
  for (const auto& item : list) f(item);
}

TopologyDisk Parser::disk_of(const YAML::Node& node, bool partition) const {
  check_map(node, partition ? "a partition" : "a disk",
            partition ? std::vector<std::string_view>{"name", "dev", "holders"}
                      : std::vector<std::string_view>{"name", "dev", "holders", "partitions"},
            {"name", "dev"});
  TopologyDisk disk{name_of(node["name"], "name"), dev_of(node["dev"], "dev"), {}, {}};
  if (const auto n = node["holders"]) disk.holders = names_of(n, "holders");
  if (const auto n = node["partitions"])
    each(n, "partitions",
         [&](const YAML::Node& p) { disk.partitions.push_back(disk_of(p, true)); });
  return disk;
}

void Parser::parse_host_facts(const YAML::Node& node, TopologyDevice& d) const {
  if (const auto list = node["net"]) {
    each(list, "net", [&](const YAML::Node& n) {
      check_map(n, "a network interface", {"name", "state", "master", "bond"}, {"name"});
      TopologyInterface i;
      i.name = name_of(n["name"], "name");
      if (const auto s = n["state"]) {
        i.operstate = string_of(s, "state");
        if (i.operstate != "up" && i.operstate != "down" && i.operstate != "unknown")
          fail(s, fmt::format("'state' must be up, down or unknown, not '{}'", i.operstate));
      }
      if (const auto m = n["master"]) i.master = name_of(m, "master");
      if (const auto b = n["bond"]) i.bond = bool_of(b, "bond");
      d.net.push_back(std::move(i));
    });
  }
  if (const auto list = node["disks"])
    each(list, "disks", [&](const YAML::Node& n) { d.disks.push_back(disk_of(n, false)); });
  if (const auto n = node["framebuffer"]) d.framebuffer = name_of(n, "framebuffer");
  if (const auto list = node["nodes"]) {
    each(list, "nodes", [&](const YAML::Node& n) {
      std::string name = name_of(n, "nodes");
      if (!sim_device_node(name))
        fail(n, fmt::format("'nodes': '{}' is not a device node the simulator knows (card<N>, "
                            "renderD<N>, controlC<N>, pcmC<N>D<M>p|c, hwC<N>D<M>, video<N>, "
                            "uverbs<N>, nvidia<N>)",
                            name));
      d.nodes.push_back(std::move(name));
    });
  }
}

TopologyHost Parser::parse_host(const YAML::Node& node) const {
  check_map(node, "'host'",
            {"fbcon", "processes", "mounts", "swaps", "routes", "ipv6-addresses",
             "virtual-interfaces", "virtual-blocks"},
            {});
  TopologyHost host;
  if (const auto n = node["fbcon"]) host.fbcon = bool_of(n, "fbcon");
  if (const auto list = node["processes"]) {
    each(list, "processes", [&](const YAML::Node& n) {
      check_map(n, "a process",
                {"pid", "command", "vfio-groups", "device-fds", "vfio-devices", "files"},
                {"pid", "command"});
      TopologyProcess p;
      p.pid = static_cast<unsigned>(integer_of(n["pid"], "pid", 2, 4194304));
      p.command = string_of(n["command"], "command");
      if (p.command.empty() || p.command.size() > 15 || p.command.find('\n') != std::string::npos)
        fail(n["command"], "'command' must be one line of 1 to 15 characters, as comm is");
      if (const auto g = n["vfio-groups"]) {
        each(g, "vfio-groups", [&](const YAML::Node& v) {
          p.vfio_groups.push_back(static_cast<unsigned>(integer_of(v, "vfio-groups", 0, 0xffffff)));
        });
      }
      if (const auto f = n["device-fds"])
        p.device_fds = static_cast<unsigned>(integer_of(f, "device-fds", 0, 64));
      if (const auto held = n["vfio-devices"]) {  // checked against the devices in parse()
        each(held, "vfio-devices",
             [&](const YAML::Node& v) { p.vfio_devices.push_back(address_of(v, "vfio-devices")); });
      }
      if (const auto files = n["files"]) {
        each(files, "files", [&](const YAML::Node& v) {
          std::string path = string_of(v, "files");
          if (path.rfind("/dev/", 0) != 0 || path.find('\n') != std::string::npos)
            fail(v, fmt::format("'files' holds paths under /dev, not '{}'", path));
          p.files.push_back(std::move(path));
        });
      }
      host.processes.push_back(std::move(p));
    });
  }
  if (const auto list = node["mounts"]) {
    each(list, "mounts", [&](const YAML::Node& n) {
      check_map(n, "a mount", {"source", "target", "fstype", "dev"}, {"source", "target", "dev"});
      TopologyMount m;
      m.source = string_of(n["source"], "source");
      m.target = string_of(n["target"], "target");
      m.dev = dev_of(n["dev"], "dev");
      if (const auto t = n["fstype"]) m.fstype = name_of(t, "fstype");
      for (const auto* text : {&m.source, &m.target}) {
        if (text->empty() || text->front() != '/' || text->find('\n') != std::string::npos)
          fail(n, fmt::format("a mount's source and target are absolute paths, not '{}'", *text));
      }
      host.mounts.push_back(std::move(m));
    });
  }
  if (const auto list = node["swaps"]) {
    each(list, "swaps", [&](const YAML::Node& n) {
      std::string source = string_of(n, "swaps");
      if (source.empty() || source.front() != '/' ||
          source.find_first_of(" \n") != std::string::npos)
        fail(n, fmt::format("'swaps' are absolute paths without blanks, not '{}'", source));
      host.swaps.push_back(std::move(source));
    });
  }
  if (const auto list = node["routes"]) {
    each(list, "routes", [&](const YAML::Node& n) {
      check_map(n, "a route", {"dev", "to", "via"}, {"dev", "to"});
      TopologyRoute r{name_of(n["dev"], "dev"), string_of(n["to"], "to"), std::nullopt};
      if (r.to != "default" && !ipv4_route(r.to, true))
        fail(n["to"],
             fmt::format("'to' must be default or an IPv4 prefix like 192.168.1.0/24, not '{}'",
                         r.to));
      if (const auto v = n["via"]) {
        r.via = string_of(v, "via");
        if (!ipv4_route(*r.via, false))
          fail(v, fmt::format("'via' must be an IPv4 address, not '{}'", *r.via));
      }
      host.routes.push_back(std::move(r));
    });
  }
  if (const auto list = node["ipv6-addresses"]) {
    each(list, "ipv6-addresses", [&](const YAML::Node& n) {
      check_map(n, "an IPv6 address", {"dev", "address"}, {"dev", "address"});
      const std::string address = string_of(n["address"], "address");
      if (!ipv6_hex(address))
        fail(n["address"], fmt::format("'address' must be a full IPv6 address with a prefix, like "
                                       "2001:db8:0:0:0:0:0:10/64, not '{}'",
                                       address));
      host.ipv6_addresses.emplace_back(name_of(n["dev"], "dev"), address);
    });
  }
  if (const auto n = node["virtual-interfaces"])
    host.virtual_interfaces = names_of(n, "virtual-interfaces");
  if (const auto list = node["virtual-blocks"]) {
    each(list, "virtual-blocks", [&](const YAML::Node& n) {
      check_map(n, "a virtual block device", {"name", "dev", "dm-name"}, {"name", "dev"});
      TopologyVirtualBlock b{name_of(n["name"], "name"), dev_of(n["dev"], "dev"), std::nullopt};
      if (const auto m = n["dm-name"]) b.dm_name = name_of(m, "dm-name");
      host.virtual_blocks.push_back(std::move(b));
    });
  }
  return host;
}

KernelVersion Parser::kernel_of(const YAML::Node& node) const {
  const std::string text = string_of(node, "kernel");
  KernelVersion version;
  const auto dot = text.find('.');
  const auto major = dot == std::string::npos
                         ? std::nullopt
                         : parse_whole_number<unsigned>(std::string_view(text).substr(0, dot));
  const auto minor = dot == std::string::npos
                         ? std::nullopt
                         : parse_whole_number<unsigned>(std::string_view(text).substr(dot + 1));
  if (!major || !minor || *major < 3 || *major > 99 || *minor > 99)
    fail(node, fmt::format("'kernel' must be a version like \"6.12\", not '{}'", text));
  version.major = *major;
  version.minor = *minor;
  return version;
}

void Parser::check_held_device_nodes(const YAML::Node& processes, const Topology& topology) const {
  if (!processes) return;
  for (const auto& process : processes) {
    const auto list = process["vfio-devices"];
    if (!list) continue;
    for (const auto& item : list) {
      const PciAddress address = address_of(item, "vfio-devices");
      const TopologyDevice* d = topology.find(address);
      if (!d || d->bound_driver != std::string("vfio-pci"))
        fail(item, fmt::format("'vfio-devices': {} is not a device on vfio-pci, so it has no VFIO "
                               "device node to hold",
                               address.str()));
      if (!topology.vfio_device_nodes)
        fail(item,
             "'vfio-devices': this kernel has no VFIO device nodes (say "
             "'vfio-device-nodes: true', kernel 6.6 on)");
    }
  }
}

void Parser::parse_drivers(const YAML::Node& list, Topology& topology,
                           std::map<std::string, TopologyDriver>& drivers) const {
  if (!list.IsSequence())
    fail(list, fmt::format("'drivers' must be a list, not {}", node_kind(list)));
  std::map<std::string, int> seen;
  for (const auto& node : list) {
    check_map(node, "a driver", {"name", "module", "dma-safe", "vfio-aliases", "loaded"}, {"name"},
              {"module"});
    TopologyDriver driver;
    driver.name = driver_of(node["name"], "name");
    if (!seen.emplace(driver.name, node["name"].Mark().line + 1).second) {
      fail(node["name"], fmt::format("driver '{}' is listed twice (first on line {})", driver.name,
                                     seen[driver.name]));
    }
    if (driver.name == "vfio-pci" && topology.vfio_pci != Topology::VfioPci::Loaded) {
      fail(node["name"], "vfio-pci is listed as a driver, but 'vfio-pci' is not 'loaded'");
    }
    driver.module = default_module(driver.name);
    driver.dma_safe = default_dma_safe(driver.name);
    if (const auto module = node["module"]) {
      if (module.IsNull()) {
        driver.module.reset();
      } else {
        std::string name = string_of(module, "module");
        if (!is_driver_name(name) || name.find('-') != std::string::npos)
          fail(module, fmt::format("'module': '{}' is not a module name", name));
        driver.module = name;
      }
    }
    if (const auto dma_safe = node["dma-safe"]) driver.dma_safe = bool_of(dma_safe, "dma-safe");
    if (const auto loaded = node["loaded"]) driver.loaded = bool_of(loaded, "loaded");
    if (const auto aliases = node["vfio-aliases"]) parse_vfio_aliases(aliases, driver);
    drivers[driver.name] = driver;
  }
}

// A variant driver's `vfio_pci:` aliases, as modules.alias writes them; its name is its module's.
void Parser::parse_vfio_aliases(const YAML::Node& list, TopologyDriver& driver) const {
  if (!list.IsSequence() || list.size() == 0)
    fail(list, "'vfio-aliases' must be a list of vfio_pci: patterns");
  if (driver.name == "vfio-pci" || !driver.module || *driver.module != driver.name)
    fail(list, fmt::format("'vfio-aliases': a vfio variant driver's name is its module's, and "
                           "'{}' is not",
                           driver.name));
  for (const auto& alias : list) {
    std::string pattern = string_of(alias, "vfio-aliases");
    if (!pattern.starts_with("vfio_pci:v") || pattern.find_first_of(" \t\n") != std::string::npos)
      fail(alias, fmt::format("'{}' is not a vfio_pci: alias (vfio_pci:v...d...sv...)", pattern));
    driver.vfio_aliases.push_back(std::move(pattern));
  }
  driver.dma_safe = true;  // driver_managed_dma, as vfio-pci: the group stays viable
}

// The header type: from the class code, unless `kind` says otherwise.
void Parser::parse_kind(const YAML::Node& node, TopologyDevice& d) const {
  const uint32_t class_prefix = d.class_code >> 8;
  if (class_prefix == 0x0604 || class_prefix == 0x0609)
    d.header = HeaderType::Bridge;
  else if (class_prefix == 0x0607)
    d.header = HeaderType::CardBus;
  if (const auto n = node["kind"]) {
    const std::string kind = string_of(n, "kind");
    if (kind == "endpoint")
      d.header = HeaderType::Endpoint;
    else if (kind == "bridge")
      d.header = HeaderType::Bridge;
    else if (kind == "cardbus")
      d.header = HeaderType::CardBus;
    else
      fail(n, fmt::format("'kind' must be endpoint, bridge or cardbus, not '{}'", kind));
  }
}

// Where the device sits and who has it: parent, IOMMU group, host driver, bound driver, override.
void Parser::parse_binding(const YAML::Node& node, const Topology& topology,
                           TopologyDevice& d) const {
  if (const auto n = node["parent"]) d.parent = address_of(n, "parent");
  if (const auto n = node["group"]) {
    if (!topology.iommu)
      fail(n, "'group' given but 'iommu' is false: there are no IOMMU groups without an IOMMU");
    d.iommu_group = static_cast<unsigned>(integer_of(n, "group", 0, 0xffffff));
  }

  if (const auto n = node["driver"]) {
    const std::string name = driver_of(n, "driver");
    if (name == "none") fail(n, "'driver: none': omit 'driver' when no host driver matches");
    if (name == "vfio-pci") {
      fail(n,
           "'driver' is the host driver whose ID table matches the device; vfio-pci matches none "
           "(use 'bound: vfio-pci' and 'override: vfio-pci')");
    }
    d.host_driver = name;
  }
  d.bound_driver = d.host_driver;
  if (const auto n = node["bound"]) {
    const std::string name = driver_of(n, "bound");
    if (name == "none") {
      d.bound_driver.reset();
    } else {
      d.bound_driver = name;
      if (name == "vfio-pci") {
        if (topology.vfio_pci != Topology::VfioPci::Loaded)
          fail(n, "'bound: vfio-pci' but 'vfio-pci' is not 'loaded'");
        if (d.header != HeaderType::Endpoint)
          fail(n, "'bound: vfio-pci' on a bridge: vfio-pci binds endpoints only");
        if (!d.iommu_group)
          fail(n, "'bound: vfio-pci' needs an IOMMU group: vfio-pci refuses untranslated devices");
      }
    }
  }
  if (const auto n = node["override"]) {
    const std::string text = string_of(n, "override");
    if (text == "(null)" || text == "none")
      fail(n, fmt::format("'override: {}': omit 'override' when none is set", text));
    d.driver_override = driver_of(n, "override");
  }
}

// What `status` shows besides: boot-vga, NUMA node, slot label.
void Parser::parse_status_attributes(const YAML::Node& node, TopologyDevice& d) const {
  if (const auto n = node["boot-vga"]) {
    if (!is_vga_class(d.class_code)) {
      fail(n, fmt::format("'boot-vga' is only for VGA devices (class 0x0300xx), not class 0x{:06x}",
                          d.class_code));
    }
    d.boot_vga = bool_of(n, "boot-vga");
  } else if (is_vga_class(d.class_code)) {
    d.boot_vga = false;
  }
  if (const auto n = node["numa-node"])
    d.numa_node = static_cast<int>(integer_of(n, "numa-node", -1, 1023));
  if (const auto n = node["label"]) {
    std::string label = string_of(n, "label");
    if (std::any_of(label.begin(), label.end(), [](char c) { return c == '\n' || c == '\0'; }))
      fail(n, "'label' must be one line");
    d.label = label;
  }
}

void Parser::parse_device(const YAML::Node& node, const Topology& topology,
                          std::vector<Located>& out) const {
  check_map(node, "a device",
            {"address", "ids", "subsystem", "class", "revision", "kind", "parent", "group",
             "driver", "bound", "override", "boot-vga", "numa-node", "label", "sriov", "net",
             "disks", "framebuffer", "nodes"},
            {"address", "ids", "class"});
  TopologyDevice d;
  d.address = address_of(node["address"], "address");
  std::tie(d.vendor, d.device) = ids_of(node["ids"], "ids");
  if (const auto n = node["subsystem"])
    std::tie(d.subsystem_vendor, d.subsystem_device) = ids_of(n, "subsystem");
  d.class_code = hex_of(node["class"], "class", 6, "0x030000");
  if (const auto n = node["revision"])
    d.revision = static_cast<uint8_t>(hex_of(n, "revision", 2, "0x01"));

  parse_kind(node, d);
  parse_binding(node, topology, d);
  parse_status_attributes(node, d);
  parse_host_facts(node, d);

  const YAML::Node sriov = node["sriov"];
  if (sriov) {
    check_map(sriov, "'sriov'",
              {"total-vfs", "vfs", "vf-ids", "vf-driver", "vf-offset", "vf-stride", "vf-group",
               "drivers-autoprobe"},
              {"total-vfs", "vf-ids"});
    if (d.header != HeaderType::Endpoint)
      fail(sriov, "'sriov' on a bridge: only endpoints are PFs");
    d.sriov_total_vfs =
        static_cast<unsigned>(integer_of(sriov["total-vfs"], "total-vfs", 1, 65535));
    std::tie(d.vf_template.vendor, d.vf_template.device) = ids_of(sriov["vf-ids"], "vf-ids");
    if (const auto n = sriov["vf-driver"]) {
      d.vf_template.driver = driver_of(n, "vf-driver");
      if (*d.vf_template.driver == "none" || *d.vf_template.driver == "vfio-pci")
        fail(n, "'vf-driver' is the VFs' host driver (iavf, mlx5_core...)");
    }
    if (const auto n = sriov["vf-offset"])
      d.vf_template.offset = static_cast<uint16_t>(integer_of(n, "vf-offset", 1, 65535));
    if (const auto n = sriov["vf-stride"])
      d.vf_template.stride = static_cast<uint16_t>(integer_of(n, "vf-stride", 1, 65535));
    if (const auto n = sriov["drivers-autoprobe"])
      d.sriov_drivers_autoprobe = bool_of(n, "drivers-autoprobe");
  }
  out.push_back({d, node.Mark(), node, 0});
  if (!sriov) return;

  unsigned vfs = 0;
  if (const auto n = sriov["vfs"])
    vfs = static_cast<unsigned>(integer_of(n, "vfs", 0, d.sriov_total_vfs));
  const long long offset = d.vf_template.offset, stride = d.vf_template.stride;
  std::optional<long long> vf_group;
  if (const auto n = sriov["vf-group"]) {
    if (!topology.iommu)
      fail(n, "'vf-group' given but 'iommu' is false: there are no IOMMU groups without an IOMMU");
    vf_group = integer_of(n, "vf-group", 0, 0xffffff);
  } else if (topology.iommu && vfs > 0) {
    fail(sriov, "'sriov' with VFs enabled needs 'vf-group', the group of the first VF");
  }
  for (unsigned i = 0; i < vfs; ++i) {
    auto vf = make_vf(d, i);
    if (!vf) {
      fail(sriov, fmt::format("VF {} of {} would have routing ID 0x{:x}, past bus ff", i,
                              d.address.str(), d.address.routing_id() + offset + stride * i));
    }
    if (vf_group) vf->iommu_group = static_cast<unsigned>(*vf_group + i);
    vf->bound_driver = vf->host_driver;
    out.push_back({*vf, sriov.Mark(), node, i});
  }
}

void Parser::check_links(const std::vector<Located>& devices) const {
  std::map<PciAddress, const Located*> by_address;
  for (const auto& located : devices) {
    auto [it, inserted] = by_address.emplace(located.device.address, &located);
    if (inserted) continue;
    const Located& first = *it->second;
    if (located.device.physfn) {
      fail(located.mark,
           fmt::format("VF {} of {} would be at {}, which is already a device (line {})",
                       located.vf_index, located.device.physfn->str(), located.device.address.str(),
                       first.mark.line + 1));
    }
    if (first.device.physfn) {
      fail(located.node["address"],
           fmt::format("duplicate address {}: already a VF of {} (sriov on line {})",
                       located.device.address.str(), first.device.physfn->str(),
                       first.mark.line + 1));
    }
    fail(located.node["address"], fmt::format("duplicate address {} (also on line {})",
                                              located.device.address.str(), first.mark.line + 1));
  }
  for (const auto& located : devices) {
    const TopologyDevice& d = located.device;
    if (!d.parent || d.physfn) continue;
    const YAML::Mark at = located.node["parent"].Mark();
    auto parent = by_address.find(*d.parent);
    if (parent == by_address.end())
      fail(at,
           fmt::format("{}: parent {} is not a listed device", d.address.str(), d.parent->str()));
    if (parent->second->device.header == HeaderType::Endpoint) {
      fail(at, fmt::format("{}: parent {} is not a bridge", d.address.str(), d.parent->str()));
    }
    if (d.parent->domain() != d.address.domain()) {
      fail(at,
           fmt::format("{}: parent {} is in another PCI domain", d.address.str(), d.parent->str()));
    }
    // Walk up: a chain longer than the device count loops.
    std::optional<PciAddress> up = d.parent;
    for (std::size_t steps = 0; up; ++steps) {
      if (steps > devices.size() || *up == d.address)
        fail(at, fmt::format("{}: the parent chain loops", d.address.str()));
      auto next = by_address.find(*up);
      up = next == by_address.end() ? std::nullopt : next->second->device.parent;
    }
  }
}

Topology Parser::parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(e.mark, e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) fail(YAML::Mark(), "the topology is empty");
  check_map(root, "the topology",
            {"name", "description", "kernel", "vfio-device-nodes", "iommu", "iommu-units",
             "vfio-pci", "drivers", "devices", "host"},
            {"name", "devices"});

  Topology topology;
  topology.name = string_of(root["name"], "name");
  if (!SysPath::is_valid_component(topology.name) || topology.name.find(' ') != std::string::npos)
    fail(root["name"],
         fmt::format("'name': '{}' must be usable as a directory name", topology.name));
  if (const auto n = root["description"]) topology.description = string_of(n, "description");
  if (const auto n = root["kernel"]) topology.kernel = kernel_of(n);
  if (const auto n = root["vfio-device-nodes"]) {
    topology.vfio_device_nodes = bool_of(n, "vfio-device-nodes");
    if (topology.vfio_device_nodes && topology.kernel < kFirstWithVfioDeviceNodes)
      fail(n, fmt::format("'vfio-device-nodes': kernel {}.{} has none ({}.{} on)",
                          topology.kernel.major, topology.kernel.minor,
                          kFirstWithVfioDeviceNodes.major, kFirstWithVfioDeviceNodes.minor));
  }
  if (const auto n = root["iommu"]) topology.iommu = bool_of(n, "iommu");
  if (const auto n = root["iommu-units"]) {
    if (!topology.iommu) fail(n, "'iommu-units' given but 'iommu' is false");
    if (!n.IsSequence() || n.size() == 0)
      fail(n, "'iommu-units' must be a non-empty list of names, like [dmar0]");
    topology.iommu_units.clear();
    for (const auto& unit : n) {
      std::string name = string_of(unit, "iommu-units");
      if (!SysPath::is_valid_component(name))
        fail(unit, fmt::format("'{}' is not an IOMMU unit name", name));
      topology.iommu_units.push_back(name);
    }
  }
  if (!topology.iommu) topology.iommu_units.clear();
  if (const auto n = root["vfio-pci"]) {
    const std::string state = string_of(n, "vfio-pci");
    if (state == "loaded")
      topology.vfio_pci = Topology::VfioPci::Loaded;
    else if (state == "loadable")
      topology.vfio_pci = Topology::VfioPci::Loadable;
    else if (state == "missing")
      topology.vfio_pci = Topology::VfioPci::Missing;
    else
      fail(n, fmt::format("'vfio-pci' must be loaded, loadable or missing, not '{}'", state));
  }

  std::map<std::string, TopologyDriver> drivers;
  if (const auto n = root["drivers"]) parse_drivers(n, topology, drivers);
  if (const auto n = root["host"]) topology.host = parse_host(n);

  const YAML::Node list = root["devices"];
  if (!list.IsSequence())
    fail(list, fmt::format("'devices' must be a list, not {}", node_kind(list)));
  std::vector<Located> located;
  for (const auto& node : list) parse_device(node, topology, located);
  check_links(located);

  for (auto& l : located) topology.devices.push_back(std::move(l.device));
  std::sort(topology.devices.begin(), topology.devices.end(),
            [](const TopologyDevice& a, const TopologyDevice& b) { return a.address < b.address; });
  if (const auto n = root["host"]) check_held_device_nodes(n["processes"], topology);

  auto add_driver = [&](const std::string& name) {
    if (drivers.count(name)) return;
    drivers[name] = TopologyDriver{name, default_module(name), default_dma_safe(name)};
  };
  for (const auto& d : topology.devices) {
    if (d.host_driver) add_driver(*d.host_driver);
    if (d.bound_driver) add_driver(*d.bound_driver);
  }
  if (topology.vfio_pci == Topology::VfioPci::Loaded) add_driver("vfio-pci");
  for (auto& [name, driver] : drivers) topology.drivers.push_back(std::move(driver));
  return topology;
}

}  // namespace

std::optional<std::string> default_module(std::string_view driver) {
  if (const auto* known = known_driver(driver)) {
    if (!known->module) return std::nullopt;
    return std::string(*known->module);
  }
  std::string module(driver);
  std::replace(module.begin(), module.end(), '-', '_');
  return module;
}

bool default_dma_safe(std::string_view driver) {
  const auto* known = known_driver(driver);
  return known && known->dma_safe;
}

Topology parse_topology(const std::string& text, const std::string& name_for_errors) {
  return Parser(name_for_errors).parse(text);
}

Topology load_topology(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw TopologyError(fmt::format("{}: cannot read the topology file", file));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw TopologyError(fmt::format("{}: cannot read the topology file", file));
  return parse_topology(text.str(), file);
}

}  // namespace vfio::sim
