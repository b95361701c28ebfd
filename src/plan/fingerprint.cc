#include "plan/fingerprint.h"

#include <cstdint>
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

}  // namespace

std::string fingerprint(const HostSnapshot& host) {
  Fnv1a64 h;
  h.add(host.iommu_active() ? "iommu" : "no-iommu");
  h.add(host.vfio_pci_loaded ? "vfio-pci" : "no-vfio-pci");
  for (const auto& d : host.devices) {
    h.add(d.address.str());
    h.add(fmt::format("{:04x}:{:04x}:{:04x}:{:04x}:{:06x}:{}", d.ids.vendor, d.ids.device,
                      d.ids.subsystem_vendor, d.ids.subsystem_device, d.ids.class_code,
                      static_cast<int>(d.kind)));
    h.add(d.driver.value_or("-"));
    h.add(d.driver_override.value_or("-"));
    h.add(d.iommu_group ? std::to_string(*d.iommu_group) : "-");
  }
  return fmt::format("fnv1a64:{:016x}", h.value());
}

}  // namespace vfio
