#include "sim/large_host.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "sim/topology_yaml.h"

namespace vfio::sim {
namespace {

constexpr unsigned kSockets = 2;
constexpr unsigned kGpusPerSwitch = 4;
constexpr unsigned kAcsLessDrives = 4;
constexpr unsigned kRootPortDrives = 4;  // NVMe drives alone behind a root port, per socket
constexpr unsigned kVmdDrives = 4;       // per VMD domain (one per socket)

// Bus 00 slots the root ports may take: 05 is the IIO's (VT-d, RAS, IOxAPIC, VMD) and 14, 17,
// 1c and 1f are the chipset's on socket 0.
bool reserved_slot(uint8_t slot) {
  return slot == 0x05 || slot == 0x14 || slot == 0x17 || slot == 0x1c || slot == 0x1f;
}

struct NicModel {
  uint16_t vendor, pf_device, vf_device, subsystem_vendor, subsystem_device;
  const char* pf_driver;
  const char* vf_driver;
  unsigned pfs;        // ports, one PF each
  unsigned total_vfs;  // per PF
  uint8_t revision;
};

// E810-XXVDA4: four ports.
constexpr NicModel kE810{0x8086, 0x1593, 0x1889, 0x8086, 0x0002, "ice", "iavf", 4, 256, 0x02};
constexpr NicModel kConnectX6Dx{0x15b3,      0x101d,      0x101e, 0x15b3, 0x0016,
                                "mlx5_core", "mlx5_core", 2,      255,    0x00};

// The routing IDs a card needs: its PFs, then every PF's TotalVFs, back to back.
unsigned card_routing_ids(const NicModel& model) {
  return model.pfs + model.pfs * model.total_vfs;
}

unsigned card_buses(const NicModel& model) {
  return (card_routing_ids(model) + 255) / 256;
}

const NicModel& card_model(unsigned card) {
  return (card / kSockets) % 2 == 0 ? kE810 : kConnectX6Dx;
}

struct PfPlan {
  std::size_t index;  // into the device list
  const NicModel* model;
};

class Builder {
 public:
  explicit Builder(const LargeHostSpec& spec) : spec_(spec) {}

  void build_fixed() {
    for (unsigned socket = 0; socket < kSockets; ++socket) build_socket(socket);
  }

  std::size_t fixed_count() const { return devices_.size(); }

  std::size_t vf_capacity() const {
    std::size_t total = 0;
    for (const auto& pf : pfs_) total += pf.model->total_vfs;
    return total;
  }

  // Spreads `vfs` evenly over the PFs (the first ones get one more), each within its TotalVFs.
  void add_vfs(std::size_t vfs) {
    std::vector<unsigned> enabled(pfs_.size(), 0);
    std::size_t left = vfs;
    while (left > 0) {
      bool progress = false;
      for (std::size_t i = 0; i < pfs_.size() && left > 0; ++i) {
        if (enabled[i] >= pfs_[i].model->total_vfs) continue;
        ++enabled[i];
        --left;
        progress = true;
      }
      if (!progress) throw std::logic_error("large host: more VFs than the PFs can enable");
    }
    for (std::size_t i = 0; i < pfs_.size(); ++i) add_pf_vfs(pfs_[i], enabled[i]);
  }

  Topology finish() && {
    Topology topology;
    topology.name = "large-host";
    topology.description = fmt::format("2-socket server: {} devices, {} GPUs, {} SR-IOV NIC ports",
                                       devices_.size(), spec_.gpus, pfs_.size());
    topology.iommu = true;
    topology.iommu_units.clear();
    for (unsigned unit = 0; unit < 8; ++unit)
      topology.iommu_units.push_back(fmt::format("dmar{}", unit));
    topology.vfio_pci = Topology::VfioPci::Loaded;
    std::sort(
        devices_.begin(), devices_.end(),
        [](const TopologyDevice& a, const TopologyDevice& b) { return a.address < b.address; });
    for (std::size_t i = 1; i < devices_.size(); ++i) {
      if (devices_[i].address == devices_[i - 1].address)
        throw std::logic_error(
            fmt::format("large host: {} generated twice", devices_[i].address.str()));
    }
    std::map<std::string, TopologyDriver> drivers;
    auto add_driver = [&](const std::string& name) {
      drivers.try_emplace(name, TopologyDriver{name, default_module(name), default_dma_safe(name)});
    };
    for (const auto& d : devices_) {
      if (d.host_driver) add_driver(*d.host_driver);
      if (d.bound_driver) add_driver(*d.bound_driver);
    }
    add_driver("vfio-pci");
    for (auto& [name, driver] : drivers) topology.drivers.push_back(std::move(driver));
    topology.devices = std::move(devices_);
    return topology;
  }

 private:
  // One device; `driver` is both the host driver and the bound one.
  TopologyDevice& add(PciAddress address, std::optional<PciAddress> parent, uint16_t vendor,
                      uint16_t device, uint32_t class_code, std::optional<unsigned> group,
                      const char* driver) {
    TopologyDevice d;
    d.address = address;
    d.parent = parent;
    d.vendor = vendor;
    d.device = device;
    d.class_code = class_code;
    d.header = (class_code >> 8) == 0x0604 ? HeaderType::Bridge : HeaderType::Endpoint;
    d.iommu_group = group;
    if (driver) {
      d.host_driver = driver;
      d.bound_driver = driver;
    }
    d.numa_node = static_cast<int>(socket_);
    devices_.push_back(std::move(d));
    return devices_.back();
  }

  unsigned new_group() { return next_group_++; }

  uint8_t new_bus(unsigned count = 1) {
    if (next_bus_ + count > 0x100)
      throw std::invalid_argument(
          fmt::format("large host: socket {} needs more than 256 buses", socket_));
    const auto bus = static_cast<uint8_t>(next_bus_);
    next_bus_ += count;
    return bus;
  }

  PciAddress new_root_port_address() {
    while (next_slot_ < 0x20 && reserved_slot(static_cast<uint8_t>(next_slot_))) ++next_slot_;
    if (next_slot_ >= 0x20)
      throw std::invalid_argument(
          fmt::format("large host: socket {} has more root ports than bus 00 slots", socket_));
    return PciAddress(domain_, 0, static_cast<uint8_t>(next_slot_++), 0);
  }

  // A root port with ACS (a group of its own) and the bus below it.
  std::pair<PciAddress, uint8_t> add_root_port(unsigned buses = 1) {
    const PciAddress port = new_root_port_address();
    const uint8_t bus = new_bus(buses);
    auto& d = add(port, std::nullopt, 0x8086, 0x2030, 0x060400, new_group(), "pcieport");
    d.revision = 0x07;
    return {port, bus};
  }

  void build_socket(unsigned socket) {
    socket_ = socket;
    domain_ = socket;
    next_bus_ = 1;
    next_slot_ = 1;
    auto& host_bridge = add(PciAddress(domain_, 0, 0, 0), std::nullopt, 0x8086, 0x2020, 0x060000,
                            new_group(), nullptr);
    host_bridge.subsystem_vendor = 0x15d9;  // Supermicro
    host_bridge.subsystem_device = 0x095d;
    host_bridge.revision = 0x07;

    // The IIO's configuration functions: not behind the IOMMU, so no group.
    for (uint8_t fn : {uint8_t{0}, uint8_t{2}, uint8_t{4}}) {
      auto& d = add(PciAddress(domain_, 0, 0x05, fn), std::nullopt, 0x8086,
                    static_cast<uint16_t>(0x2024 + fn / 2), 0x088000, std::nullopt, nullptr);
      d.revision = 0x07;
    }

    if (socket == 0) build_chipset();
    build_gpu_switches();
    build_acs_less_switch();
    for (unsigned i = 0; i < kRootPortDrives; ++i) {
      auto [port, bus] = add_root_port();
      auto& drive =
          add(PciAddress(domain_, bus, 0, 0), port, 0x144d, 0xa80a, 0x010802, new_group(), "nvme");
      drive.subsystem_vendor = 0x144d;
      drive.subsystem_device = 0xa813;
    }
    for (unsigned card = socket; card < spec_.nic_cards; card += kSockets) build_nic(card);
    build_vmd();
  }

  void build_chipset() {
    auto chipset = [&](uint8_t slot, uint8_t fn, uint16_t device, uint32_t class_code,
                       unsigned group, const char* driver) {
      auto& d = add(PciAddress(domain_, 0, slot, fn), std::nullopt, 0x8086, device, class_code,
                    group, driver);
      d.subsystem_vendor = 0x15d9;
      d.subsystem_device = 0x095d;
      d.revision = 0x09;
    };
    chipset(0x14, 0, 0xa1af, 0x0c0330, new_group(), "xhci_hcd");
    chipset(0x17, 0, 0xa182, 0x010601, new_group(), "ahci");
    const unsigned lpc_group = new_group();
    chipset(0x1f, 0, 0xa1c1, 0x060100, lpc_group, "lpc_ich");
    chipset(0x1f, 4, 0xa1a3, 0x0c0500, lpc_group, "i801_smbus");

    // The BMC's display behind its PCIe-to-PCI bridge: one group for both (no ACS below).
    const PciAddress port(domain_, 0, 0x1c, 0);
    auto& rp = add(port, std::nullopt, 0x8086, 0xa190, 0x060400, new_group(), "pcieport");
    rp.revision = 0xf9;
    const uint8_t bridge_bus = new_bus();
    const uint8_t vga_bus = new_bus();
    const unsigned group = new_group();
    const PciAddress bridge(domain_, bridge_bus, 0, 0);
    add(bridge, port, 0x1a03, 0x1150, 0x060400, group, nullptr).revision = 0x04;
    auto& vga =
        add(PciAddress(domain_, vga_bus, 0, 0), bridge, 0x1a03, 0x2000, 0x030000, group, "ast");
    vga.subsystem_vendor = 0x15d9;
    vga.subsystem_device = 0x095d;
    vga.revision = 0x41;
    vga.boot_vga = true;
  }

  // Switches with ACS: every port and every GPU in a group of its own, the GPU's two functions
  // together.
  void build_gpu_switches() {
    const unsigned switches = spec_.gpus / kSockets / kGpusPerSwitch;
    for (unsigned s = 0; s < switches; ++s) {
      auto [port, up_bus] = add_root_port();
      const PciAddress upstream(domain_, up_bus, 0, 0);
      add(upstream, port, 0x1000, 0xc030, 0x060400, new_group(), "pcieport").revision = 0xb0;
      const uint8_t down_bus = new_bus();
      for (uint8_t i = 0; i < kGpusPerSwitch; ++i) {
        const PciAddress downstream(domain_, down_bus, i, 0);
        add(downstream, upstream, 0x1000, 0xc030, 0x060400, new_group(), "pcieport").revision =
            0xb0;
        const uint8_t gpu_bus = new_bus();
        const unsigned gpu = next_gpu_++;
        const bool passed_through = gpu >= spec_.gpus - spec_.gpus / 4;
        const unsigned group = new_group();
        auto& vga = add(PciAddress(domain_, gpu_bus, 0, 0), downstream, 0x10de, 0x2230, 0x030000,
                        group, "nvidia");
        vga.subsystem_vendor = 0x10de;
        vga.subsystem_device = 0x1459;
        vga.revision = 0xa1;
        vga.boot_vga = false;
        vga.label = fmt::format("GPU{}", gpu);
        auto& audio = add(PciAddress(domain_, gpu_bus, 0, 1), downstream, 0x10de, 0x1aef, 0x040300,
                          group, "snd_hda_intel");
        audio.subsystem_vendor = 0x10de;
        audio.subsystem_device = 0x1459;
        audio.revision = 0xa1;
        if (passed_through) {
          for (TopologyDevice* d : {&devices_[devices_.size() - 2], &devices_.back()}) {
            d->bound_driver = "vfio-pci";
            d->driver_override = "vfio-pci";
          }
        }
      }
    }
  }

  // A switch without ACS (ASMedia ASM1184e): its ports and every drive below share one group.
  void build_acs_less_switch() {
    auto [port, up_bus] = add_root_port();
    const unsigned group = new_group();
    const PciAddress upstream(domain_, up_bus, 0, 0);
    add(upstream, port, 0x1b21, 0x1184, 0x060400, group, "pcieport");
    const uint8_t down_bus = new_bus();
    for (uint8_t i = 0; i < kAcsLessDrives; ++i) {
      const PciAddress downstream(domain_, down_bus, static_cast<uint8_t>(i * 2 + 1), 0);
      add(downstream, upstream, 0x1b21, 0x1184, 0x060400, group, "pcieport");
      auto& drive = add(PciAddress(domain_, new_bus(), 0, 0), downstream, 0x8086, 0xf1a8, 0x010802,
                        group, "nvme");
      drive.subsystem_vendor = 0x8086;
      drive.subsystem_device = 0x390d;
      drive.revision = 0x03;
    }
  }

  // A card: one PF per port at functions 0, 1..., their VFs placed back to back after them
  // (PF routing ID + offset + i * stride), on as many buses as TotalVFs needs.
  void build_nic(unsigned card) {
    const NicModel& model = card_model(card);
    auto [port, bus] = add_root_port(card_buses(model));
    for (unsigned fn = 0; fn < model.pfs; ++fn) {
      auto& pf = add(PciAddress(domain_, bus, 0, static_cast<uint8_t>(fn)), port, model.vendor,
                     model.pf_device, 0x020000, new_group(), model.pf_driver);
      pf.subsystem_vendor = model.subsystem_vendor;
      pf.subsystem_device = model.subsystem_device;
      pf.revision = model.revision;
      pf.sriov_total_vfs = model.total_vfs;
      pf.vf_template = {static_cast<uint16_t>(model.pfs + fn * model.total_vfs - fn), 1,
                        model.vendor, model.vf_device, model.vf_driver};
      pfs_.push_back({devices_.size() - 1, &model});
    }
  }

  void add_pf_vfs(const PfPlan& plan, unsigned count) {
    const TopologyDevice pf = devices_[plan.index];  // a copy: push_back below reallocates
    for (unsigned i = 0; i < count; ++i) {
      auto made = make_vf(pf, i);
      if (!made) throw std::logic_error("large host: a VF past bus ff");
      TopologyDevice& vf = *made;
      vf.iommu_group = new_group();
      vf.bound_driver = vf.host_driver;
      // Every eighth VF is already handed to a guest.
      if (i % 8 == 7) {
        vf.bound_driver = "vfio-pci";
        vf.driver_override = "vfio-pci";
      }
      devices_.push_back(std::move(vf));
    }
  }

  // Intel VMD: a domain of its own (10000 + socket) whose root ports and drives all carry the
  // VMD endpoint's requester ID, so they share its group.
  void build_vmd() {
    const unsigned group = new_group();
    auto& vmd =
        add(PciAddress(domain_, 0, 0x05, 5), std::nullopt, 0x8086, 0x201d, 0x010400, group, "vmd");
    vmd.subsystem_vendor = 0x15d9;
    vmd.subsystem_device = 0x095d;
    vmd.revision = 0x07;
    const uint32_t domain = 0x10000 + socket_;
    for (uint8_t i = 0; i < kVmdDrives; ++i) {
      const PciAddress port(domain, 0, i, 0);
      add(port, std::nullopt, 0x8086, 0x2030, 0x060400, group, "pcieport").revision = 0x07;
      auto& drive = add(PciAddress(domain, static_cast<uint8_t>(i + 1), 0, 0), port, 0x8086, 0x0b60,
                        0x010802, group, "nvme");
      drive.subsystem_vendor = 0x8086;
      drive.subsystem_device = 0x8008;
      drive.label = fmt::format("NVMe Bay {}", socket_ * kVmdDrives + i);
    }
  }

  const LargeHostSpec& spec_;
  std::vector<TopologyDevice> devices_;
  std::vector<PfPlan> pfs_;
  unsigned socket_ = 0;
  uint32_t domain_ = 0;
  unsigned next_bus_ = 1;
  unsigned next_slot_ = 1;
  unsigned next_group_ = 0;
  unsigned next_gpu_ = 0;
};

void check_spec(const LargeHostSpec& spec) {
  if (spec.gpus % (kSockets * kGpusPerSwitch) != 0)
    throw std::invalid_argument(fmt::format("large host: {} GPUs; give a multiple of {}", spec.gpus,
                                            kSockets * kGpusPerSwitch));
}

Builder fixed_part(const LargeHostSpec& spec) {
  check_spec(spec);
  Builder builder(spec);
  builder.build_fixed();
  return builder;
}

}  // namespace

std::size_t large_host_fixed_devices(const LargeHostSpec& spec) {
  return fixed_part(spec).fixed_count();
}

std::size_t large_host_max_devices(const LargeHostSpec& spec) {
  Builder builder = fixed_part(spec);
  return builder.fixed_count() + builder.vf_capacity();
}

Topology make_large_host(const LargeHostSpec& spec) {
  Builder builder = fixed_part(spec);
  const std::size_t fixed = builder.fixed_count();
  const std::size_t max = fixed + builder.vf_capacity();
  if (spec.devices < fixed || spec.devices > max) {
    throw std::invalid_argument(
        fmt::format("large host: {} devices requested; this spec makes between {} and {}",
                    spec.devices, fixed, max));
  }
  builder.add_vfs(spec.devices - fixed);
  return std::move(builder).finish();
}

}  // namespace vfio::sim
