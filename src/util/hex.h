// Hexadecimal digits, as PCI ids, addresses and class codes are written.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vfio {

// The digit's value (either case), or -1.
int hex_digit(char c);

// The value of `text` when it is 1 to 8 hex digits and nothing else (no "0x", no sign, no space).
std::optional<uint32_t> parse_hex(std::string_view text);

}  // namespace vfio
