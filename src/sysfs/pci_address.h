// PciAddress: the only way to name a PCI device ("dddd:bb:dd.f").
//
// Every address that reaches a sysfs path (from a manifest, the ownership journal or sysfs itself)
// goes through parse(), so a malformed or hostile string can never become a path.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace vfio {

class PciAddress {
 public:
  // Accepts "dddd:bb:dd.f" with a domain of 4 to 8 hex digits (Intel VMD uses "10000:"), upper or
  // lower case; device 00-1f, function 0-7. Anything else (short "01:00.0" forms, spaces,
  // newlines, signs) is rejected and *why says what was wrong.
  static std::optional<PciAddress> parse(std::string_view text, std::string* why = nullptr);

  PciAddress(uint32_t domain, uint8_t bus, uint8_t device, uint8_t function);

  uint32_t domain() const { return domain_; }
  uint8_t bus() const { return bus_; }
  uint8_t device() const { return device_; }
  uint8_t function() const { return function_; }

  // The kernel's spelling: lower-case hex, domain padded to 4 digits.
  std::string str() const;

  // PCIe routing ID (bus << 8 | devfn), used to place SR-IOV VFs.
  uint16_t routing_id() const {
    return static_cast<uint16_t>(bus_ << 8 | device_ << 3 | function_);
  }
  static PciAddress from_routing_id(uint32_t domain, uint16_t routing_id);

  auto operator<=>(const PciAddress&) const = default;

 private:
  uint32_t domain_;
  uint8_t bus_;
  uint8_t device_;
  uint8_t function_;
};

// Written as str() gives it (test frameworks and logs print addresses this way).
std::ostream& operator<<(std::ostream& out, const PciAddress& address);

}  // namespace vfio

template <>
struct std::hash<vfio::PciAddress> {
  size_t operator()(const vfio::PciAddress& a) const noexcept {
    return std::hash<uint64_t>()(uint64_t{a.domain()} << 16 | a.routing_id());
  }
};
