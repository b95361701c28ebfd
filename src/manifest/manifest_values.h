// The manifest's value syntaxes, parsed from the text a person wrote. Each returns none and sets
// *why (a sentence without the key's name) when the text is not of its form.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "manifest/desired_state.h"

namespace vfio {

inline constexpr std::size_t kMaxAssignmentNameLength = 63;
inline constexpr std::chrono::milliseconds kMinProbeTimeout{100};
inline constexpr std::chrono::milliseconds kMaxProbeTimeout{10 * 60 * 1000};

// An assignment name: [a-z0-9][a-z0-9_-]*, at most 63 characters.
bool is_assignment_name(std::string_view text, std::string* why = nullptr);
// An owner name (`owner:`): the same syntax.
bool is_owner_name(std::string_view text, std::string* why = nullptr);

// A PCI ID as lspci -n and pci.ids write it: exactly 4 hex digits ("8086", "10DE").
std::optional<uint16_t> parse_pci_id(std::string_view text, std::string* why = nullptr);

// "0x02", "0x0200" or "0x020000": a prefix of the class code.
std::optional<ClassPrefix> parse_class_prefix(std::string_view text, std::string* why = nullptr);

// A vfio driver's name as `driver:` writes it, in the kernel's spelling: "vfio-pci" for
// vfio-pci and vfio_pci (the one driver whose name is not its module's); any other is its
// module's name, with '_' for '-' as the module tools read it ("mlx5-vfio-pci": mlx5_vfio_pci).
std::optional<std::string> parse_driver_name(std::string_view text, std::string* why = nullptr);

// "500ms", "5s", "2m": a whole number and a unit, between kMinProbeTimeout and kMaxProbeTimeout.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                        std::string* why = nullptr);

}  // namespace vfio
