#include "observe/network_use.h"

#include <bit>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sysfs.h"
#include "util/hex.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

using Facts = std::map<std::string, std::vector<std::string>>;  // by interface, in file order

// /proc/net/route writes addresses as the u32 in host (little-endian) order: "0101A8C0".
std::optional<std::string> ipv4(std::string_view hex, unsigned* prefix = nullptr) {
  auto v = hex.size() == 8 ? parse_hex(hex) : std::nullopt;
  if (!v) return std::nullopt;
  if (prefix) *prefix = static_cast<unsigned>(std::popcount(*v));
  return fmt::format("{}.{}.{}.{}", *v & 0xff, (*v >> 8) & 0xff, (*v >> 16) & 0xff, *v >> 24);
}

// 32 hex digits -> RFC 5952 text ("2001:db8::10").
std::optional<std::string> ipv6(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  uint32_t groups[8];
  for (int i = 0; i < 8; ++i) {
    auto g = parse_hex(hex.substr(static_cast<std::size_t>(i) * 4, 4));
    if (!g) return std::nullopt;
    groups[i] = *g;
  }
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len && j - i > 1) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", groups[i]);
  }
  return out;
}

bool all_zero(std::string_view hex) {
  return hex.find_first_not_of('0') == std::string_view::npos;
}

// net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT".
void ipv4_routes(std::string_view text, Facts& facts) {
  bool header = true;
  for_each_line(text, [&](std::string_view line) {
    if (std::exchange(header, false)) return;
    const auto f = text_fields(line);
    if (f.size() < 8) return;
    unsigned prefix = 0;
    const auto destination = ipv4(f[1]);
    const auto gateway = ipv4(f[2]);
    const auto mask = ipv4(f[7], &prefix);
    if (!destination || !gateway || !mask) return;
    const std::string via = all_zero(f[2]) ? "" : " via " + *gateway;
    facts[std::string(f[0])].push_back(
        prefix == 0 ? "default route" + via
                    : fmt::format("route to {}/{}{}", *destination, prefix, via));
  });
}

// net/ipv6_route: "dest plen src plen nexthop metric refcnt use flags iface", all hex. The
// routes every interface gets (fe80::/64, multicast, its own /128s) say nothing.
void ipv6_routes(std::string_view text, Facts& facts) {
  constexpr uint32_t kReject = 0x0200;
  for_each_line(text, [&](std::string_view line) {
    const auto f = text_fields(line);
    if (f.size() < 10 || f[9] == "lo") return;
    const auto prefix = parse_hex(f[1]);
    const auto flags = parse_hex(f[8]);
    const auto destination = ipv6(f[0]);
    const auto next_hop = ipv6(f[4]);
    if (!prefix || !flags || !destination || !next_hop || (*flags & kReject)) return;
    if (*prefix == 128 || (*prefix == 64 && f[0].substr(0, 4) == "fe80") ||
        (*prefix == 8 && f[0].substr(0, 2) == "ff"))
      return;
    const std::string via = all_zero(f[4]) ? "" : " via " + *next_hop;
    facts[std::string(f[9])].push_back(
        *prefix == 0 ? "IPv6 default route" + via
                     : fmt::format("route to {}/{}{}", *destination, *prefix, via));
  });
}

// net/if_inet6: "address ifindex plen scope flags name"; link-local and host scope left out
// (every interface that is up has a link-local address).
void ipv6_addresses(std::string_view text, Facts& facts) {
  constexpr uint32_t kHostScope = 0x10, kLinkScope = 0x20;
  for_each_line(text, [&](std::string_view line) {
    const auto f = text_fields(line);
    if (f.size() < 6) return;
    const auto address = ipv6(f[0]);
    const auto prefix = parse_hex(f[2]);
    const auto scope = parse_hex(f[3]);
    if (!address || !prefix || !scope || *scope == kHostScope || *scope == kLinkScope) return;
    facts[std::string(f[5])].push_back(fmt::format("address {}/{}", *address, *prefix));
  });
}

Facts proc_facts(KernelFiles& proc, std::vector<Finding>& findings) {
  Facts facts;
  const SysPath net = SysPath() / "net";
  auto read = [&](std::string_view name, void (*parse)(std::string_view, Facts&)) {
    constexpr std::size_t kLimit = 4 << 20;  // a full routing table is not an attribute
    auto text = proc.read(net / name, kLimit);
    if (text) {
      parse(*text, facts);
    } else if (text.error().error != ENOENT) {  // no IPv6 in this kernel: nothing to say
      findings.emplace_back(
          Finding::Kind::Unreadable, proc.display(net / name),
          fmt::format("cannot {}; routes are not known", text.error().to_string()));
    }
  };
  read("route", ipv4_routes);
  read("ipv6_route", ipv6_routes);
  read("if_inet6", ipv6_addresses);
  return facts;
}

struct Interface {
  std::string operstate;
  std::optional<std::string> master;
  std::string port;  // "bridge", "bond", or "" for a master of another kind (team, ovs...)
};

Interface read_interface(Sysfs& sysfs, const std::string& name) {
  Interface i;
  if (auto state = sysfs.read(class_file("net", name, "operstate")))
    i.operstate = std::string(trim(*state));
  auto entries = sysfs.list(SysPath() / "class" / "net" / name);
  if (!entries) return i;
  for (const auto& entry : *entries) {
    if (entry == "brport") i.port = "bridge";
    if (entry == "bonding_slave") i.port = "bond";
    if (entry != "master") continue;
    if (auto target = sysfs.read_link(class_file("net", name, "master"))) {
      const std::string leaf(link_leaf(*target));
      if (SysPath::is_valid_component(leaf)) i.master = leaf;
    }
  }
  return i;
}

std::string join(const std::vector<std::string>& parts) {
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

HazardsByDevice find_network_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings) {
  HazardsByDevice out;
  std::vector<ClassDevice> nics;
  for (auto& d : class_devices(sysfs, "net", findings)) {
    if (d.device) nics.push_back(std::move(d));
  }
  if (nics.empty()) return out;
  const Facts facts = proc ? proc_facts(*proc, findings) : Facts{};
  auto facts_of = [&](const std::string& name) {
    auto it = facts.find(name);
    return it == facts.end() ? std::vector<std::string>{} : it->second;
  };
  for (const auto& nic : nics) {
    const Interface i = read_interface(sysfs, nic.name);
    std::vector<std::string> found;
    if (i.operstate == "up") found.emplace_back("up");
    for (auto& fact : facts_of(nic.name)) found.push_back(std::move(fact));
    // Up the chain of masters (a bond in a bridge): what they carry goes through this port.
    std::optional<std::string> master = i.master;
    std::string port = i.port;
    std::set<std::string> seen{nic.name};
    while (master && seen.insert(*master).second) {
      std::vector<std::string> carried = facts_of(*master);
      found.push_back(fmt::format("port of {}{}{}", port.empty() ? "" : port + " ", *master,
                                  carried.empty() ? "" : " (" + join(carried) + ")"));
      const Interface upper = read_interface(sysfs, *master);
      master = upper.master;
      port = upper.port;
    }
    if (found.empty()) continue;
    out[*nic.device].push_back(
        Hazard{Hazard::Kind::NetworkInUse,
               fmt::format("network interface {}: {}", nic.name, join(found))});
  }
  return out;
}

}  // namespace vfio
