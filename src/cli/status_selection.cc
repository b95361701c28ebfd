#include "cli/status_selection.h"

#include <fmt/format.h>

#include "util/text_fields.h"

namespace vfio::cli {

std::variant<StatusSelection, std::string> select_for_status(
    const HostSnapshot& host, const std::vector<std::string>& selectors) {
  StatusSelection selection;
  for (const std::string& selector : selectors) {
    if (const auto group = parse_whole_number<unsigned>(selector)) {
      if (!host.groups.count(*group)) {
        return fmt::format("IOMMU group {} is not on this host ({} groups; `status` lists them)",
                           *group, host.groups.size());
      }
      selection.groups.insert(*group);
      continue;
    }
    // lspci's short form has no domain: domain 0000.
    const bool short_form = selector.find(':') == selector.rfind(':');
    const auto address = PciAddress::parse(short_form ? "0000:" + selector : selector);
    if (!address) {
      return fmt::format(
          "'{}' is neither a PCI address (0000:01:00.0, or 01:00.0) nor an IOMMU group number",
          selector);
    }
    const PciDevice* device = host.find(*address);
    if (!device) return fmt::format("no PCI device {} on this host", address->str());
    if (device->iommu_group) {
      selection.groups.insert(*device->iommu_group);
    } else {
      selection.ungrouped.insert(*address);
    }
  }
  return selection;
}

HostSnapshot narrowed(const HostSnapshot& host, const StatusSelection& selection) {
  HostSnapshot out = host;
  out.devices.clear();
  out.groups.clear();
  out.findings.clear();
  std::set<PciAddress> kept(selection.ungrouped);
  for (unsigned id : selection.groups) {
    const IommuGroup& group = host.groups.at(id);
    out.groups[id] = group;
    kept.insert(group.members.begin(), group.members.end());
  }
  for (const PciDevice& d : host.devices) {
    if (kept.count(d.address)) out.devices.push_back(d);
  }
  for (const Finding& f : host.findings) {
    if (!f.device || kept.count(*f.device)) out.findings.push_back(f);
  }
  return out;
}

}  // namespace vfio::cli
