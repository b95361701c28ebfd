#include "manifest/desired_state.h"

#include <fmt/format.h>

namespace vfio {

std::string SourceLocation::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string DeviceMatch::describe() const {
  std::string text;
  auto add = [&text](std::string part) { text += (text.empty() ? "" : ", ") + part; };
  if (address) add("address " + address->str());
  if (vendor) add(fmt::format("vendor {:04x}", *vendor));
  if (device) add(fmt::format("device {:04x}", *device));
  if (class_prefix) add(fmt::format("class 0x{:0{}x}", class_prefix->value, class_prefix->digits));
  if (subsystem_vendor) add(fmt::format("subsystem-vendor {:04x}", *subsystem_vendor));
  if (subsystem_device) add(fmt::format("subsystem-device {:04x}", *subsystem_device));
  return text;
}

}  // namespace vfio
