#include "plan/fingerprint.h"

#include <cstdint>
#include <map>
#include <string_view>

#include <fmt/format.h>

namespace vfio {
namespace {

// FNV-1a: no cryptographic claim, only a stable, dependency-free change detector.
class Fnv1a64 {
 public:
  void add(std::string_view text) {
    for (char c : text) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
    hash_ ^= 0xff;  // a separator no text byte sequence can fake
    hash_ *= 0x100000001b3ULL;
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string or_none(const std::optional<std::string>& value) {
  return value ? *value : "none";
}

std::string group_text(const std::optional<unsigned>& group) {
  return group ? std::to_string(*group) : "none";
}

// The lines for one device present before and after.
void device_changes(const FingerprintDevice& was, const FingerprintDevice& is,
                    std::vector<std::string>& out) {
  if (was.identity != is.identity) {
    out.push_back(
        fmt::format("{}: another device ({} -> {})", is.address, was.identity, is.identity));
  }
  if (was.driver != is.driver) {
    out.push_back(
        fmt::format("{}: driver {} -> {}", is.address, or_none(was.driver), or_none(is.driver)));
  }
  if (was.driver_override != is.driver_override) {
    out.push_back(fmt::format("{}: driver_override {} -> {}", is.address,
                              or_none(was.driver_override), or_none(is.driver_override)));
  }
  if (was.iommu_group != is.iommu_group) {
    out.push_back(fmt::format("{}: IOMMU group {} -> {}", is.address, group_text(was.iommu_group),
                              group_text(is.iommu_group)));
  }
}

}  // namespace

FingerprintFacts fingerprint_facts(const HostSnapshot& host) {
  FingerprintFacts facts;
  facts.iommu_active = host.iommu_active();
  facts.vfio_pci_loaded = host.vfio_pci_loaded;
  facts.devices.reserve(host.devices.size());
  for (const auto& d : host.devices) {
    facts.devices.push_back(
        {.address = d.address.str(),
         .identity = fmt::format("{:04x}:{:04x}:{:04x}:{:04x}:{:06x}:{}", d.ids.vendor,
                                 d.ids.device, d.ids.subsystem_vendor, d.ids.subsystem_device,
                                 d.ids.class_code, static_cast<int>(d.kind)),
         .driver = d.driver,
         .driver_override = d.driver_override,
         .iommu_group = d.iommu_group});
  }
  return facts;
}

std::string fingerprint(const FingerprintFacts& facts) {
  Fnv1a64 h;
  h.add(facts.iommu_active ? "iommu" : "no-iommu");
  h.add(facts.vfio_pci_loaded ? "vfio-pci" : "no-vfio-pci");
  for (const auto& d : facts.devices) {
    h.add(d.address);
    h.add(d.identity);
    h.add(d.driver.value_or("-"));
    h.add(d.driver_override.value_or("-"));
    h.add(d.iommu_group ? std::to_string(*d.iommu_group) : "-");
  }
  return fmt::format("fnv1a64:{:016x}", h.value());
}

std::string fingerprint(const HostSnapshot& host) {
  return fingerprint(fingerprint_facts(host));
}

std::vector<std::string> describe_changes(const FingerprintFacts& before,
                                          const FingerprintFacts& after, std::size_t limit) {
  std::vector<std::string> lines;
  if (before.iommu_active != after.iommu_active) {
    lines.push_back(after.iommu_active ? "the IOMMU: now active" : "the IOMMU: no longer active");
  }
  if (before.vfio_pci_loaded != after.vfio_pci_loaded) {
    lines.push_back(after.vfio_pci_loaded ? "vfio-pci: loaded since" : "vfio-pci: unloaded since");
  }
  // By address, so that a device added or removed does not shift every line after it.
  std::map<std::string, std::pair<const FingerprintDevice*, const FingerprintDevice*>> by_address;
  for (const auto& d : before.devices) by_address[d.address].first = &d;
  for (const auto& d : after.devices) by_address[d.address].second = &d;
  for (const auto& [address, pair] : by_address) {
    const auto [was, is] = pair;
    if (!is) {
      lines.push_back(fmt::format("{}: gone", address));
    } else if (!was) {
      lines.push_back(fmt::format("{}: new ({})", address, is->identity));
    } else {
      device_changes(*was, *is, lines);
    }
  }
  if (limit > 0 && lines.size() > limit) {
    const std::size_t more = lines.size() - (limit - 1);
    lines.resize(limit - 1);
    lines.push_back(fmt::format("and {} more", more));
  }
  return lines;
}

}  // namespace vfio
