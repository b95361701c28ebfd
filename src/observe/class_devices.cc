#include "observe/class_devices.h"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "sysfs/sysfs.h"

namespace vfio {

std::optional<PciAddress> pci_device_in(std::string_view link_target) {
  std::optional<PciAddress> found;
  while (!link_target.empty()) {
    const auto slash = link_target.find('/');
    const std::string_view component = link_target.substr(0, slash);
    // Cheap filter first: every PCI address has a '.' and two ':'.
    if (component.find('.') != std::string_view::npos &&
        std::count(component.begin(), component.end(), ':') == 2) {
      if (auto address = PciAddress::parse(component)) found = address;
    }
    if (slash == std::string_view::npos) break;
    link_target.remove_prefix(slash + 1);
  }
  return found;
}

SysPath class_file(std::string_view class_name, std::string_view name, std::string_view file) {
  return SysPath() / "class" / class_name / name / file;
}

std::vector<ClassDevice> class_devices(Sysfs& sysfs, std::string_view class_name,
                                       std::vector<Finding>& findings) {
  const SysPath dir = SysPath() / "class" / class_name;
  auto names = sysfs.list(dir);
  if (!names) {
    if (names.error().error != ENOENT) {
      findings.emplace_back(Finding::Kind::Unreadable, sysfs.display(dir),
                            fmt::format("cannot {}", names.error().to_string()));
    }
    return {};
  }
  std::vector<std::string> sorted = std::move(names).value();
  std::sort(sorted.begin(), sorted.end());
  std::vector<ClassDevice> out;
  for (auto& name : sorted) {
    if (!SysPath::is_valid_component(name)) continue;
    auto target = sysfs.read_link(dir / name);
    if (!target) {
      // EINVAL: not a link (class/vtconsole's entries are directories on some kernels);
      // ENOENT: it went while we looked. Neither is a PCI device's class entry.
      if (target.error().error != EINVAL && target.error().error != ENOENT) {
        findings.emplace_back(Finding::Kind::Unreadable, sysfs.display(dir / name),
                              fmt::format("cannot {}", target.error().to_string()));
      }
      continue;
    }
    ClassDevice d{std::move(name), std::move(target).value(), std::nullopt};
    d.device = pci_device_in(d.link);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace vfio
