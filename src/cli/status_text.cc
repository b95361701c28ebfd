#include "cli/status_text.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/device_text.h"
#include "cli/status_hints.h"

namespace vfio::cli {
namespace {

// What a person should know about a device before writing a manifest, beyond its driver.
std::vector<std::string> device_notes(const PciDevice& d) {
  std::vector<std::string> notes;
  for (const auto& h : d.hazards) notes.push_back(h.detail);
  if (d.driver_override) notes.push_back(fmt::format("driver_override={}", *d.driver_override));
  if (d.driver_override_unread)
    notes.emplace_back("driver_override not read (it can block while the group is held open)");
  if (d.sriov) {
    notes.push_back(fmt::format("SR-IOV PF: {} of {} VFs enabled{}", d.sriov->enabled_vfs,
                                d.sriov->total_vfs,
                                d.sriov->drivers_autoprobe ? "" : ", VF autoprobe off"));
  }
  if (d.physfn) notes.push_back(fmt::format("VF of {}", d.physfn->str()));
  if (d.kind_source == KindSource::ClassCode) notes.emplace_back("kind from class code");
  if (d.label) notes.push_back(fmt::format("label \"{}\"", *d.label));
  return notes;
}

std::string counted(std::size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

struct Columns {
  std::size_t address = 12;  // "dddd:bb:dd.f"; wider with VMD's 5-digit domains
  std::size_t kind = 4;      // at least its heading's width
  std::size_t driver = 6;
  bool numa = false;  // shown only where there is more than one node to tell apart
};

Columns measure(const HostSnapshot& snapshot) {
  Columns columns;
  std::set<int> nodes;
  for (const auto& d : snapshot.devices) {
    columns.address = std::max(columns.address, d.address.str().size());
    columns.kind = std::max(columns.kind, to_string(d.kind).size());
    columns.driver = std::max(columns.driver, d.driver.value_or("-").size());
    if (d.numa_node) nodes.insert(*d.numa_node);
  }
  columns.numa = nodes.size() > 1;
  return columns;
}

void print_column_headings(const Columns& columns, std::ostream& out) {
  fmt::print(out, "\n  {:<{}}  {:<{}}  {:<11}  {:<{}}{}  {}\n", "ADDRESS", columns.address, "KIND",
             columns.kind, "IDS", "DRIVER", columns.driver, columns.numa ? "  NODE   " : "",
             "DESCRIPTION");
}

// What is left of a `width`-column line after `used` columns, for text that may be cut; 0: all.
std::size_t room(std::size_t width, std::size_t used) {
  if (width == 0) return 0;
  return width > used + kMinStatusTextColumns ? width - used : kMinStatusTextColumns;
}

std::string fitted(std::string text, std::size_t columns) {
  return columns == 0 ? text : fit_columns(text, columns);
}

void print_device(const PciDevice& d, const DeviceNames& names, const Columns& columns,
                  std::size_t width, std::ostream& out) {
  std::string numa;
  if (columns.numa)
    numa = fmt::format("  node {:<2}", d.numa_node ? std::to_string(*d.numa_node) : "-");
  const std::string row = fmt::format(
      "  {:<{}}  {:<{}}  {}  {:<{}}{}  ", d.address.str(), columns.address, to_string(d.kind),
      columns.kind, ids_text(d.ids), d.driver.value_or("-"), columns.driver, numa);
  fmt::print(out, "{}{}\n", row, description_fitting(d, names, room(width, row.size())));
  auto notes = device_notes(d);
  if (!notes.empty()) {
    const std::string indent(2 + columns.address + 2, ' ');
    fmt::print(out, "{}{}\n", indent,
               fitted(fmt::format("{}", fmt::join(notes, "; ")), room(width, indent.size())));
  }
}

// The IOMMU's units, all of them while they are few: a big server's 8 or 16 (one per socket's
// root complex) would push the line past 100 columns and say nothing more (`status --json` has
// them all).
std::string units_text(const std::vector<std::string>& units) {
  constexpr std::size_t kListed = 4;
  if (units.empty()) return "groups present";
  if (units.size() <= kListed) return fmt::format("{}", fmt::join(units, ", "));
  return fmt::format("{} ... {}, {} units", units.front(), units.back(), units.size());
}

void print_header(const HostSnapshot& snapshot, std::ostream& out) {
  if (snapshot.iommu_active()) {
    fmt::print(out, "IOMMU: on ({})", units_text(snapshot.iommu_units));
  } else {
    fmt::print(out, "IOMMU: off");
  }
  fmt::print(
      out, "   vfio-pci: {}   {} in {}\n", snapshot.vfio_pci_loaded ? "loaded" : "not loaded",
      counted(snapshot.devices.size(), "device"), counted(snapshot.groups.size(), "IOMMU group"));
  for (const auto& hint : status_hints(snapshot)) fmt::print(out, "  {}\n", hint.message);
}

constexpr std::size_t kFoldBridgeGroupsAbove = 16;
constexpr std::size_t kFoldedLineColumns = 100;

// "  2, 5, 7, ..." over as many lines as `width` columns need (a big host folds hundreds).
// Written item by item: no line is built up in a string (GCC 12 at -O2 gives a false
// -Wrestrict for that assign-then-append, bug 105329).
void print_wrapped(const std::vector<unsigned>& numbers, std::size_t width, std::ostream& out) {
  std::size_t used = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const std::string item = fmt::format("{}{}", numbers[i], i + 1 < numbers.size() ? "," : "");
    if (used > 0 && used + 1 + item.size() > width) {
      out << '\n';
      used = 0;
    }
    out << (used == 0 ? "  " : " ") << item;
    used += (used == 0 ? 2 : 1) + item.size();
  }
  out << '\n';
}

// A group with no endpoint: nothing in it can be passed through.
bool bridges_only(const HostSnapshot& snapshot, const IommuGroup& group) {
  return std::none_of(group.members.begin(), group.members.end(), [&](const PciAddress& a) {
    const PciDevice* d = snapshot.find(a);
    return d != nullptr && d->kind == DeviceKind::Endpoint;
  });
}

// Beside a group's heading: who holds it, when the record says; or, for a group with an endpoint
// on vfio-pci, that no owner does (bound by hand or by another tool: any owner may adopt it).
std::string holder_note(const HostSnapshot& snapshot, unsigned group,
                        const OwnershipRecord& owned) {
  if (const OwnedGroup* held = owned.find(group)) {
    return fmt::format("  held by owner {} ({} for {}{})", held->owner,
                       held->how == OwnedGroup::How::Bound ? "bound" : "adopted", held->assignment,
                       held->in_flight ? "; a run stopped in the middle of it" : "");
  }
  for (const auto& d : snapshot.devices) {
    if (d.iommu_group == group && d.on_vfio_driver()) return "  on vfio-pci, held by no owner";
  }
  return "";
}

}  // namespace

void print_status_text(const HostSnapshot& snapshot, const OwnershipRecord& owned,
                       const DeviceNames& names, std::ostream& out,
                       const StatusTextOptions& options) {
  print_header(snapshot, out);
  const Columns columns = measure(snapshot);
  if (!snapshot.devices.empty()) print_column_headings(columns, out);

  // On a big host the groups that hold only bridges and root ports (nothing to pass through)
  // are folded into one line at the end.
  const bool fold = snapshot.groups.size() > kFoldBridgeGroupsAbove;
  std::vector<unsigned> folded;
  std::set<PciAddress> shown;
  for (const auto& [id, group] : snapshot.groups) {
    if (fold && bridges_only(snapshot, group)) {
      folded.push_back(id);
      shown.insert(group.members.begin(), group.members.end());
      continue;
    }
    fmt::print(out, "\nIOMMU group {}{}\n", id, holder_note(snapshot, id, owned));
    for (const auto& member : group.members) {
      if (const PciDevice* d = snapshot.find(member)) {
        print_device(*d, names, columns, options.width, out);
        shown.insert(member);
      }
    }
  }

  // Devices no group lists: untranslated ones, and any whose link and group disagree (the
  // findings below say which).
  bool heading = false;
  for (const auto& d : snapshot.devices) {
    if (shown.count(d.address)) continue;
    if (!heading) fmt::print(out, "\nNot in an IOMMU group\n");
    heading = true;
    print_device(d, names, columns, options.width, out);
  }

  if (!folded.empty()) {
    fmt::print(out, "\nIOMMU groups of bridges and root ports only (`status GROUP` lists one):\n");
    print_wrapped(folded, options.width == 0 ? kFoldedLineColumns : options.width, out);
  }

  if (!snapshot.findings.empty()) {
    fmt::print(out, "\nWhile observing:\n");
    for (const auto& f : snapshot.findings) fmt::print(out, "  {}: {}\n", f.path, f.message);
  }
}

}  // namespace vfio::cli
