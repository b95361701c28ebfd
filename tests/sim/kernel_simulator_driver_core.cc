// The PCI driver core as the simulator models it: matching (driver_override, dynamic ids, the
// static ID tables), probing (vfio-pci's refusals), bind/unbind/drivers_probe/new_id/remove_id,
// driver_override's parsing, removal and rescan. See docs/kernel-pci-sysfs.md.
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sim/kernel_simulator_state.h"
#include "util/hex.h"

namespace vfio::sim {
namespace {

// The kernel copies a sysfs write into a NUL-terminated page: C string functions stop at a NUL.
std::string_view c_string(std::string_view value) {
  return value.substr(0, std::min(value.find('\0'), value.size()));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// sscanf(buf, "%x %x %x %x %x %x %x", ...): the number of fields converted.
std::vector<uint32_t> scan_hex_fields(std::string_view text, std::size_t max_fields) {
  std::vector<uint32_t> fields;
  std::size_t i = 0;
  while (fields.size() < max_fields) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    if (i + 1 < text.size() && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
        i + 2 < text.size() && hex_digit(text[i + 2]) >= 0) {
      i += 2;
    }
    uint64_t value = 0;
    std::size_t digits = 0;
    while (i < text.size() && hex_digit(text[i]) >= 0) {
      value = (value << 4 | static_cast<uint64_t>(hex_digit(text[i]))) & 0xffffffffu;
      ++i;
      ++digits;
    }
    if (digits == 0) {
      i = start;
      break;
    }
    fields.push_back(static_cast<uint32_t>(value));
  }
  return fields;
}

std::optional<DynamicId> parse_id(std::string_view value, std::size_t* fields_out) {
  const auto fields = scan_hex_fields(c_string(value), 7);
  *fields_out = fields.size();
  if (fields.size() < 2) return std::nullopt;
  DynamicId id;
  id.vendor = fields[0];
  id.device = fields[1];
  if (fields.size() > 2) id.subvendor = fields[2];
  if (fields.size() > 3) id.subdevice = fields[3];
  if (fields.size() > 4) id.class_code = fields[4];
  if (fields.size() > 5) id.class_mask = fields[5];
  return id;
}

// The fields of a device an ID entry is compared with.
struct IdFields {
  uint32_t vendor = 0;
  uint32_t device = 0;
  uint32_t subvendor = 0;
  uint32_t subdevice = 0;
  uint32_t class_code = 0;
};

IdFields fields_of(const TopologyDevice& d) {
  return {d.vendor, d.device, d.subsystem_vendor, d.subsystem_device, d.class_code};
}

// pci_match_one_id.
bool id_matches(const DynamicId& id, const IdFields& d) {
  auto field = [](uint32_t want, uint32_t have) { return want == DynamicId::kAny || want == have; };
  return field(id.vendor, d.vendor) && field(id.device, d.device) &&
         field(id.subvendor, d.subvendor) && field(id.subdevice, d.subdevice) &&
         ((id.class_code ^ d.class_code) & id.class_mask) == 0;
}

bool dynamic_match(const SimDevice& d, const SimDriver& drv) {
  for (const auto& id : drv.dynamic_ids) {
    if (id_matches(id, fields_of(d.info))) return true;
  }
  return false;
}

// kstrtoul(buf, 0, &val): the whole buffer, one optional trailing newline.
std::optional<unsigned long> parse_ulong(std::string_view value) {
  if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  unsigned base = 10;
  if (value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
    base = 16;
    value.remove_prefix(2);
  }
  unsigned long out = 0;
  for (char c : value) {
    const int digit = hex_digit(c);
    if (digit < 0 || static_cast<unsigned>(digit) >= base) return std::nullopt;
    out = out * base + static_cast<unsigned long>(digit);
  }
  return out;
}

}  // namespace

// --- lookups ---

SimDevice* KernelSimulator::State::present_device(std::string_view bdf) {
  const auto address = PciAddress::parse(bdf);
  if (!address || address->str() != bdf) return nullptr;
  auto it = devices.find(*address);
  return it != devices.end() && it->second.present ? &it->second : nullptr;
}

const SimDevice* KernelSimulator::State::present_device(std::string_view bdf) const {
  return const_cast<State*>(this)->present_device(bdf);  // NOLINT: same lookup
}

SimDevice* KernelSimulator::State::device_named(std::string_view written) {
  std::string_view name = c_string(written);
  if (!name.empty() && name.back() == '\n') name.remove_suffix(1);  // sysfs_streq
  return present_device(name);
}

SimDriver* KernelSimulator::State::registered_driver(std::string_view name) {
  for (auto& drv : drivers) {
    if (drv.registered && drv.info.name == name) return &drv;
  }
  return nullptr;
}

const SimDriver* KernelSimulator::State::registered_driver(std::string_view name) const {
  return const_cast<State*>(this)->registered_driver(name);  // NOLINT: same lookup
}

SimDriver& KernelSimulator::State::vfio_pci() {
  for (auto& drv : drivers) {
    if (drv.info.name == kVfioPci) return drv;
  }
  throw std::logic_error("the simulator always has a vfio-pci driver entry");
}

bool KernelSimulator::State::on_vfio_driver(const SimDevice& d) const {
  if (!d.driver) return false;
  if (*d.driver == kVfioPci) return true;
  const SimDriver* drv = registered_driver(*d.driver);
  return drv && drv->info.vfio_variant();
}

std::optional<unsigned> KernelSimulator::State::group_of(const SimDevice& d) const {
  if (!meta.iommu || !d.present) return std::nullopt;
  return d.info.iommu_group;
}

std::optional<std::string> KernelSimulator::State::visible_driver(const SimDevice& d) const {
  if (!d.present || d.unbinding) return std::nullopt;
  return d.driver;
}

bool KernelSimulator::State::multifunction(const SimDevice& d) const {
  for (const auto& [address, other] : devices) {
    if (address != d.info.address && address.domain() == d.info.address.domain() &&
        address.bus() == d.info.address.bus() && address.device() == d.info.address.device()) {
      return true;
    }
  }
  return false;
}

std::vector<const SimDevice*> KernelSimulator::State::vfs_of(const SimDevice& pf) const {
  std::vector<const SimDevice*> out;
  for (const auto& [address, d] : devices) {
    if (d.present && d.info.physfn == pf.info.address) out.push_back(&d);
  }
  return out;
}

unsigned KernelSimulator::State::enabled_vfs(const SimDevice& pf) const {
  return static_cast<unsigned>(vfs_of(pf).size());
}

TopologyDevice KernelSimulator::State::current(const SimDevice& d) const {
  TopologyDevice out = d.info;
  out.bound_driver = visible_driver(d);
  out.driver_override = d.override_;
  out.vfio_device = d.vfio_device;
  return out;
}

// --- matching and probing ---

bool KernelSimulator::State::matches(const SimDevice& d, const SimDriver& drv) const {
  // pci_match_device: an override naming another driver rules this one out; an override naming
  // this one matches whatever its tables say.
  if (d.override_) return *d.override_ == drv.info.name;
  if (dynamic_match(d, drv)) return true;
  // The static ID table: vfio-pci's only entry is override-only, so it never matches here.
  return drv.info.name != kVfioPci && d.info.host_driver == drv.info.name;
}

int KernelSimulator::State::probe(SimDevice& d, const SimDriver& drv) {
  if (!may_probe(d)) return ENODEV;  // a VF while its PF's drivers_autoprobe is off
  if (auto it = probe_failures.find({d.info.address, drv.info.name}); it != probe_failures.end()) {
    return it->second;
  }
  if (drv.info.name == kVfioPci || drv.info.vfio_variant()) {
    // vfio_pci_probe, and a variant's through vfio_pci_core: only normal (endpoint) headers;
    // vfio needs the device's IOMMU group.
    if (d.info.header != HeaderType::Endpoint || !group_of(d)) return EINVAL;
  } else if (drv.info.name != "pci-stub" && d.info.host_driver != drv.info.name &&
             !dynamic_match(d, drv)) {
    return ENODEV;  // a host driver forced (by override) onto hardware it does not know
  }
  if (auto limit = probe_limits.find(drv.info.name); limit != probe_limits.end()) {
    unsigned& done = probes_done[drv.info.name];
    if (done >= limit->second) return ENODEV;  // the ALSA idiom: no word in the log either
    ++done;
  }
  if (probe_latency.count() > 0) {
    d.pending_driver = drv.info.name;
    d.pending_until = SimClock::now() + probe_latency;
  } else {
    d.driver = drv.info.name;
  }
  if (auto it = remove_on_vfio_bind.find(d.info.address);
      drv.info.name == kVfioPci && it != remove_on_vfio_bind.end()) {
    const PciAddress victim = it->second;
    remove_on_vfio_bind.erase(it);
    if (SimDevice* v = present_device(victim.str())) remove(*v);
  }
  return 0;
}

void KernelSimulator::State::attach(SimDevice& d) {
  if (d.driver || d.pending_driver) return;
  if (d.override_) {
    if (const SimDriver* drv = registered_driver(*d.override_)) (void)probe(d, *drv);
    return;
  }
  for (const auto& drv : drivers) {
    if (drv.registered && dynamic_match(d, drv) && probe(d, drv) == 0) return;
  }
  for (const auto& drv : drivers) {
    if (drv.registered && matches(d, drv) && probe(d, drv) == 0) return;
  }
}

void KernelSimulator::State::attach_all(const SimDriver& drv) {
  for (auto& [address, d] : devices) {
    if (d.present && !d.driver && !d.pending_driver && matches(d, drv)) (void)probe(d, drv);
  }
}

// --- the writable files ---

int KernelSimulator::State::write_override(SimDevice& d, std::string_view value) {
  // driver_set_override: one page holds the value and its newline when shown.
  constexpr std::size_t kPageSize = 4096;
  if (value.size() >= kPageSize - 1) return EINVAL;
  std::string_view text = c_string(value);
  text = text.substr(0, std::min(text.find('\n'), text.size()));
  if (text.empty()) {
    d.override_.reset();
  } else {
    d.override_ = std::string(text);
  }
  return 0;
}

int KernelSimulator::State::drivers_probe(std::string_view value) {
  SimDevice* d = device_named(value);
  if (!d) return ENODEV;
  attach(*d);  // whatever the probe says, the write succeeds
  return 0;
}

int KernelSimulator::State::bind(const SimDriver& drv, std::string_view value) {
  SimDevice* d = device_named(value);
  if (!d || !matches(*d, drv)) return ENODEV;
  if (d->driver || d->pending_driver) return EBUSY;
  return probe(*d, drv);
}

int KernelSimulator::State::unbind(const SimDriver& drv, std::string_view value) {
  SimDevice* d = device_named(value);
  if (!d || d->driver != drv.info.name) return ENODEV;
  d->driver.reset();
  if (reprobe_on_unbind.erase(d->info.address) > 0) attach(*d);
  return 0;
}

int KernelSimulator::State::new_id(SimDriver& drv, std::string_view value) {
  std::size_t fields = 0;
  const auto id = parse_id(value, &fields);
  if (!id) return EINVAL;
  if (fields != 7) {
    // new_id_store refuses an id the driver already matches (a dynamic id, or its static
    // table; vfio-pci's override-only entry matches no device without an override).
    // The kernel fills a scratch pci_dev with the ids (u16 fields: PCI_ANY_ID truncates).
    const IdFields probe_dev{id->vendor & 0xffff, id->device & 0xffff, id->subvendor & 0xffff,
                             id->subdevice & 0xffff, id->class_code};
    for (const auto& existing : drv.dynamic_ids) {
      if (id_matches(existing, probe_dev)) return EEXIST;
    }
    for (const auto& [address, d] : devices) {
      if (drv.info.name != kVfioPci && d.info.host_driver == drv.info.name &&
          d.info.vendor == probe_dev.vendor && d.info.device == probe_dev.device) {
        return EEXIST;
      }
    }
  }
  drv.dynamic_ids.push_back(*id);
  attach_all(drv);
  return 0;
}

int KernelSimulator::State::remove_id(SimDriver& drv, std::string_view value) {
  const auto fields = scan_hex_fields(c_string(value), 6);
  if (fields.size() < 2) return EINVAL;
  DynamicId want;
  want.vendor = fields[0];
  want.device = fields[1];
  if (fields.size() > 2) want.subvendor = fields[2];
  if (fields.size() > 3) want.subdevice = fields[3];
  if (fields.size() > 4) want.class_code = fields[4];
  if (fields.size() > 5) want.class_mask = fields[5];
  for (auto it = drv.dynamic_ids.begin(); it != drv.dynamic_ids.end(); ++it) {
    if (it->vendor == want.vendor && it->device == want.device &&
        (want.subvendor == DynamicId::kAny || it->subvendor == want.subvendor) &&
        (want.subdevice == DynamicId::kAny || it->subdevice == want.subdevice) &&
        it->class_code == want.class_code && it->class_mask == want.class_mask) {
      drv.dynamic_ids.erase(it);
      return 0;  // nothing is unbound
    }
  }
  return ENODEV;
}

void KernelSimulator::State::remove(SimDevice& d) {
  if (!d.present) return;
  // Everything below goes first: a bridge's subordinate bus, a PF's VFs.
  for (auto& [address, other] : devices) {
    if (other.present &&
        (other.info.parent == d.info.address || other.info.physfn == d.info.address)) {
      remove(other);
    }
  }
  d.present = false;
  d.driver.reset();
  d.pending_driver.reset();
  d.unbinding = false;
  vanish.erase(d.info.address);
}

void KernelSimulator::State::rescan(const std::optional<PciAddress>& below) {
  auto descends = [&](const SimDevice& d) {
    if (!below) return true;
    const TopologyDevice* cur = &d.info;
    for (int guard = 0; guard < 32; ++guard) {
      auto next = cur->parent ? cur->parent : cur->physfn;
      if (!next) return false;
      if (*next == *below) return true;
      auto it = devices.find(*next);
      if (it == devices.end()) return false;
      cur = &it->second.info;
    }
    return false;
  };
  std::vector<SimDevice*> found;
  for (auto& [address, d] : devices) {
    if (!d.present && descends(d)) {
      d.present = true;
      d.override_.reset();
      d.driver.reset();
      d.pending_driver.reset();
      found.push_back(&d);
    }
  }
  if (!autoprobe) return;
  for (SimDevice* d : found) attach(*d);
}

SimDriver* KernelSimulator::State::driver_entry(std::string_view name) {
  for (auto& drv : drivers) {
    if (drv.info.name == name) return &drv;
  }
  return nullptr;
}

void KernelSimulator::State::load_driver(SimDriver& drv) {
  if (drv.registered) return;
  drv.registered = true;
  probes_done[drv.info.name] = 0;  // a module loaded anew: its static counters start at zero
  attach_all(drv);                 // driver registration probes every unbound device it matches
}

void KernelSimulator::State::unload_driver(SimDriver& drv) {
  if (!drv.registered) return;
  // Unregistering a driver unbinds its devices; nothing probes them again (seen: after
  // `rmmod e1000` its NIC stays driverless).
  for (auto& [address, d] : devices) {
    if (d.driver == drv.info.name) d.driver.reset();
    if (d.pending_driver == drv.info.name) d.pending_driver.reset();
  }
  drv.dynamic_ids.clear();
  drv.registered = false;
}

void KernelSimulator::State::load_vfio_pci() {
  load_driver(vfio_pci());
}

void KernelSimulator::State::unload_vfio_pci() {
  unload_driver(vfio_pci());
}

// --- dispatch ---

SimDevice* KernelSimulator::State::write_target(const Components& c, std::string_view value) {
  // Stores that take the device lock: driver_override, remove (it unbinds), rescan, sriov_numvfs.
  if (c.size() == 3 && c[0] == kDeviceDir &&
      (c[2] == "driver_override" || c[2] == "remove" || c[2] == "rescan" ||
       c[2] == "sriov_numvfs")) {
    return present_device(c[1]);
  }
  if (c.size() == 3 && c[0] == "bus" && c[2] == "drivers_probe") return device_named(value);
  if (c.size() == 5 && c[0] == "bus" && c[2] == "drivers" && (c[4] == "bind" || c[4] == "unbind")) {
    return device_named(value);
  }
  return nullptr;
}

int KernelSimulator::State::apply_write(const Components& c, std::string_view value, bool opened) {
  const Node node = lookup(c);
  switch (node.kind) {
    case Node::Kind::Missing:
      return opened ? ENODEV : ENOENT;
    case Node::Kind::Dir:
      return EISDIR;
    case Node::Kind::Link:
      return ENOENT;
    case Node::Kind::File:
      break;
  }
  if (!node.writable) return EACCES;
  if (value.empty()) return 0;  // a zero-length write(2) never reaches the attribute's store

  if (c[0] == kDeviceDir) {
    SimDevice* d = present_device(c[1]);
    if (!d) return ENODEV;
    const std::string& name = c[2];
    if (name == "driver_override") return write_override(*d, value);
    if (name == "remove" || name == "rescan") {
      const auto number = parse_ulong(value);
      if (!number) return EINVAL;
      if (*number == 0) return 0;
      if (name == "remove") {
        remove(*d);
      } else {
        rescan(d->info.address);
      }
      return 0;
    }
    if (name == "sriov_numvfs") return write_numvfs(*d, value);
    if (name == "sriov_drivers_autoprobe") return write_vf_autoprobe(*d, value);
    return EACCES;
  }
  if (c.size() == 3) {  // bus/pci/<file>
    if (c[2] == "drivers_probe") return drivers_probe(value);
    if (c[2] == "drivers_autoprobe") {
      autoprobe = value[0] != '0';
      return 0;
    }
    if (c[2] == "rescan") {
      const auto number = parse_ulong(value);
      if (!number) return EINVAL;
      if (*number != 0) rescan(std::nullopt);
      return 0;
    }
  }
  if (c.size() == 5 && c[2] == "drivers") {
    SimDriver* drv = registered_driver(c[3]);
    if (!drv) return ENODEV;
    if (c[4] == "bind") return bind(*drv, value);
    if (c[4] == "unbind") return unbind(*drv, value);
    if (c[4] == "new_id") return new_id(*drv, value);
    if (c[4] == "remove_id") return remove_id(*drv, value);
  }
  return EACCES;
}

}  // namespace vfio::sim
