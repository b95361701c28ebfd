#include "observe/console_use.h"

#include <set>
#include <string>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "sysfs/sysfs.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

// fbcon registers as "(M) frame buffer device" (or "(S) ..."); the VGA text console as
// "(S) VGA+", the dummy one as "(S) dummy device".
bool fbcon_bound(Sysfs& sysfs) {
  auto consoles = sysfs.list(SysPath() / "class" / "vtconsole");
  if (!consoles) return false;
  for (const auto& vtcon : *consoles) {
    if (!SysPath::is_valid_component(vtcon)) continue;
    auto name = sysfs.read(class_file("vtconsole", vtcon, "name"));
    auto bind = sysfs.read(class_file("vtconsole", vtcon, "bind"));
    if (name && bind && name->find("frame buffer") != std::string::npos && trim(*bind) == "1")
      return true;
  }
  return false;
}

// The framebuffers fbcon maps consoles to: "fbcon=map:0101" on the command line, else fb0.
std::set<std::string> console_framebuffers(KernelFiles* proc) {
  std::set<std::string> out;
  if (proc) {
    if (auto cmdline = proc->read(SysPath() / "cmdline")) {
      for (auto word : text_fields(trim(*cmdline))) {
        constexpr std::string_view kMap = "fbcon=map:";
        if (word.substr(0, kMap.size()) != kMap) continue;
        out.clear();
        for (char c : word.substr(kMap.size())) {
          if (c >= '0' && c <= '9') out.insert(fmt::format("fb{}", c));
        }
      }
    }
  }
  if (out.empty()) out.insert("fb0");
  return out;
}

}  // namespace

HazardsByDevice find_console_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings) {
  HazardsByDevice out;
  std::vector<ClassDevice> framebuffers;
  for (auto& d : class_devices(sysfs, "graphics", findings)) {
    if (d.device && d.name.rfind("fb", 0) == 0) framebuffers.push_back(std::move(d));
  }
  if (framebuffers.empty() || !fbcon_bound(sysfs)) return out;
  const std::set<std::string> mapped = console_framebuffers(proc);
  for (const auto& fb : framebuffers) {
    if (!mapped.count(fb.name)) continue;
    out[*fb.device].push_back(
        Hazard{Hazard::Kind::Console, fmt::format("console on {} (fbcon)", fb.name)});
  }
  return out;
}

}  // namespace vfio
