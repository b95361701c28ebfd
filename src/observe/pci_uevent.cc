#include "observe/pci_uevent.h"

#include <cstdint>

#include "sysfs/sys_path.h"
#include "util/hex.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

// "8086:10D3": two 16-bit hex numbers.
bool id_pair(std::string_view text, uint16_t& first, uint16_t& second) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const auto a = parse_hex(text.substr(0, colon));
  const auto b = parse_hex(text.substr(colon + 1));
  if (!a || !b || *a > 0xffff || *b > 0xffff) return false;
  first = static_cast<uint16_t>(*a);
  second = static_cast<uint16_t>(*b);
  return true;
}

}  // namespace

PciUevent parse_pci_uevent(std::string_view text) {
  PciUevent out;
  PciIds ids;
  bool have_id = false, have_subsystem = false, have_class = false;
  std::optional<std::string> driver;
  for_each_line(text, [&](std::string_view line) {
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) return;
    const std::string_view key = line.substr(0, equals);
    const std::string_view value = line.substr(equals + 1);
    bool odd = false;
    if (key == "PCI_ID") {
      odd = !(have_id = id_pair(value, ids.vendor, ids.device));
    } else if (key == "PCI_SUBSYS_ID") {
      odd = !(have_subsystem = id_pair(value, ids.subsystem_vendor, ids.subsystem_device));
    } else if (key == "PCI_CLASS") {
      const auto parsed = value.size() <= 6 ? parse_hex(value) : std::nullopt;
      odd = !(have_class = parsed.has_value());
      ids.class_code = parsed.value_or(0);
    } else if (key == "DRIVER") {
      if (SysPath::is_valid_component(value))
        driver = std::string(value);
      else
        odd = true;
    }
    if (odd) out.odd_lines.emplace_back(line);
  });
  if (out.odd_lines.empty() && have_id && have_subsystem && have_class) {
    out.ids = ids;
    out.driver = std::move(driver);
  }
  return out;
}

}  // namespace vfio
