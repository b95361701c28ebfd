#include "observe/vfio_drivers.h"

#include <fnmatch.h>

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "observe/host_snapshot.h"
#include "sysfs/kernel_names.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

constexpr std::string_view kAliasPrefix = "vfio_pci:";
// depmod writes a PCI alias with at most 7 wildcards ("v*d*sv*sd*bc*sc*i*") in under 60
// characters; a pattern far past that is not depmod's, and fnmatch(3)'s backtracking over many
// '*' could take a long time.
constexpr std::size_t kMaxWildcards = 8;
constexpr std::size_t kMaxPattern = 128;

std::size_t wildcards(std::string_view pattern) {
  return static_cast<std::size_t>(std::count_if(
      pattern.begin(), pattern.end(), [](char c) { return c == '*' || c == '?' || c == '['; }));
}

// What makes one alias more specific than another: fewer wildcards, more literal characters.
std::tuple<std::size_t, std::size_t> generality(const VfioAlias& a) {
  const std::size_t wild = wildcards(a.pattern);
  return {wild, a.pattern.size() - wild};
}

bool more_specific(const VfioAlias& a, const VfioAlias& b) {
  const auto [wild_a, literal_a] = generality(a);
  const auto [wild_b, literal_b] = generality(b);
  if (wild_a != wild_b) return wild_a < wild_b;
  if (literal_a != literal_b) return literal_a > literal_b;
  return a.driver < b.driver;
}

// The module vfio_pci registers the driver vfio-pci; every variant registers its module's name
// (KBUILD_MODNAME).
std::string driver_of_module(std::string_view module) {
  if (module == kVfioPciModule) return std::string(kVfioPciDriver);
  return std::string(module);
}

}  // namespace

bool VfioDriverCatalog::is_vfio_driver(std::string_view driver) const {
  if (driver == kVfioPciDriver) return true;
  // Without modules.alias, the name is all there is: every variant in Linux is <name>_vfio_pci.
  // Taken for one, a device on it is left where it is rather than moved to vfio-pci.
  if (unreadable) return driver.ends_with("_vfio_pci");
  return std::any_of(aliases.begin(), aliases.end(),
                     [&](const VfioAlias& a) { return a.driver == driver; });
}

const VfioAlias* VfioDriverCatalog::best_match(const PciIds& ids) const {
  const std::string modalias = vfio_modalias(ids);
  const VfioAlias* best = nullptr;
  for (const auto& a : aliases) {
    if (fnmatch(a.pattern.c_str(), modalias.c_str(), 0) != 0) continue;
    if (!best || more_specific(a, *best)) best = &a;
  }
  return best;
}

VfioDriverCatalog parse_modules_alias(std::string_view text, std::string source) {
  VfioDriverCatalog catalog;
  catalog.source = std::move(source);
  unsigned number = 0;
  for_each_line(text, [&](std::string_view line) {
    ++number;
    // Only `alias vfio_pci:...` lines are ours; depmod writes one alias per line.
    const auto fields = text_fields(line);
    if (fields.size() >= 3 && fields[0] == "alias") catalog.modules.emplace(fields.back());
    if (fields.size() < 2 || fields[0] != "alias" || !fields[1].starts_with(kAliasPrefix)) return;
    if (fields.size() != 3) {
      catalog.problems.push_back(
          fmt::format("{}:{}: a vfio_pci alias line has {} fields, not 3 (alias PATTERN MODULE)",
                      catalog.source, number, fields.size()));
      return;
    }
    if (fields[1].size() > kMaxPattern || wildcards(fields[1]) > kMaxWildcards) {
      catalog.problems.push_back(fmt::format(
          "{}:{}: a vfio_pci alias of {} characters and {} wildcards is not one depmod writes; "
          "ignored",
          catalog.source, number, fields[1].size(), wildcards(fields[1])));
      return;
    }
    catalog.aliases.push_back(
        VfioAlias{std::string(fields[1]), driver_of_module(fields[2]), number});
  });
  return catalog;
}

std::string vfio_modalias(const PciIds& ids) {
  // modalias_show: "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X".
  return fmt::format("{}v{:08X}d{:08X}sv{:08X}sd{:08X}bc{:02X}sc{:02X}i{:02X}", kAliasPrefix,
                     ids.vendor, ids.device, ids.subsystem_vendor, ids.subsystem_device,
                     (ids.class_code >> 16) & 0xff, (ids.class_code >> 8) & 0xff,
                     ids.class_code & 0xff);
}

void note_vfio_drivers(HostSnapshot& host, VfioDriverCatalog catalog) {
  for (auto& d : host.devices) {
    d.driver_is_vfio_variant =
        d.driver && *d.driver != kVfioPciDriver && catalog.is_vfio_driver(*d.driver);
    d.override_is_vfio_variant = d.driver_override && *d.driver_override != kVfioPciDriver &&
                                 catalog.is_vfio_driver(*d.driver_override);
  }
  host.vfio_drivers = std::move(catalog);
}

}  // namespace vfio
