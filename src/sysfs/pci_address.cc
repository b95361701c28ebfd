#include "sysfs/pci_address.h"

#include <ostream>

#include <stdexcept>

#include <fmt/format.h>

#include "util/hex.h"

namespace vfio {
namespace {

// Exactly text.size() hex digits into *out; false on anything else.
bool read_hex(std::string_view text, uint32_t* out) {
  auto value = parse_hex(text);
  if (value) *out = *value;
  return value.has_value();
}

bool fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

bool parse_parts(std::string_view text, uint32_t* domain, uint32_t* bus, uint32_t* dev,
                 uint32_t* fn, std::string* why) {
  constexpr std::string_view kShape = "expected dddd:bb:dd.f, for example 0000:01:00.0";
  auto first_colon = text.find(':');
  auto second_colon = text.find(':', first_colon == text.npos ? 0 : first_colon + 1);
  auto dot = text.rfind('.');
  if (first_colon != text.npos && second_colon == text.npos && dot != text.npos &&
      first_colon == 2 && text.size() == 7) {
    return fail(why, fmt::format("'{}' has no PCI domain; did you mean '0000:{}'?", text, text));
  }
  if (first_colon == text.npos || second_colon == text.npos || dot == text.npos ||
      dot < second_colon) {
    return fail(why, fmt::format("'{}' is not a PCI address: {}", text, kShape));
  }
  std::string_view d = text.substr(0, first_colon);
  std::string_view b = text.substr(first_colon + 1, second_colon - first_colon - 1);
  std::string_view s = text.substr(second_colon + 1, dot - second_colon - 1);
  std::string_view f = text.substr(dot + 1);
  if (d.size() < 4 || d.size() > 8 || !read_hex(d, domain))
    return fail(why, fmt::format("'{}': the domain must be 4 to 8 hex digits ({})", text, kShape));
  if (b.size() != 2 || !read_hex(b, bus))
    return fail(why, fmt::format("'{}': the bus must be 2 hex digits ({})", text, kShape));
  if (s.size() != 2 || !read_hex(s, dev) || *dev > 0x1f)
    return fail(why,
                fmt::format("'{}': the device must be 2 hex digits, 00 to 1f ({})", text, kShape));
  if (f.size() != 1 || !read_hex(f, fn) || *fn > 7)
    return fail(why,
                fmt::format("'{}': the function must be one digit, 0 to 7 ({})", text, kShape));
  return true;
}

}  // namespace

std::optional<PciAddress> PciAddress::parse(std::string_view text, std::string* why) {
  uint32_t domain = 0, bus = 0, dev = 0, fn = 0;
  if (!parse_parts(text, &domain, &bus, &dev, &fn, why)) return std::nullopt;
  return PciAddress(domain, static_cast<uint8_t>(bus), static_cast<uint8_t>(dev),
                    static_cast<uint8_t>(fn));
}

PciAddress::PciAddress(uint32_t domain, uint8_t bus, uint8_t device, uint8_t function)
    : domain_(domain), bus_(bus), device_(device), function_(function) {
  if (device > 0x1f || function > 7) {
    throw std::invalid_argument(
        fmt::format("PCI device {:02x} function {} out of range", device, function));
  }
}

PciAddress PciAddress::from_routing_id(uint32_t domain, uint16_t routing_id) {
  return PciAddress(domain, static_cast<uint8_t>(routing_id >> 8),
                    static_cast<uint8_t>(routing_id >> 3 & 0x1f),
                    static_cast<uint8_t>(routing_id & 7));
}

std::string PciAddress::str() const {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain_, bus_, device_, function_);
}

std::ostream& operator<<(std::ostream& out, const PciAddress& address) {
  return out << address.str();
}

}  // namespace vfio
