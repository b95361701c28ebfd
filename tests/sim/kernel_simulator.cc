// KernelSimulator's gateway calls, its locking (the simulator mutex and the per-device lock a
// blocked unbind holds), the write log and the fault plan.
#include "sim/kernel_simulator.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "sim/host_files.h"
#include "sim/kernel_simulator_state.h"

namespace vfio::sim {
namespace {

bool is_device_file(const Components& c, std::string_view name) {
  return c.size() == 3 && c[0] == kDeviceDir && c[2] == name;
}

// Removes and returns the fault planned for the nth write to `path`, if any.
std::optional<PlannedFault> take_planned(std::vector<PlannedFault>& plan, const SysPath& path,
                                         unsigned nth) {
  for (auto it = plan.begin(); it != plan.end(); ++it) {
    if (it->path == path.str() && it->nth == nth) {
      PlannedFault out = *it;
      plan.erase(it);
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

KernelSimulator::State::State(Topology topology) : meta(std::move(topology)) {
  for (const auto& drv : meta.drivers) {
    SimDriver sim{drv, drv.loaded, {}};
    if (drv.name == kVfioPci) sim.registered = meta.vfio_pci == Topology::VfioPci::Loaded;
    drivers.push_back(std::move(sim));
  }
  if (!meta.find_driver(kVfioPci)) {
    drivers.push_back(SimDriver{TopologyDriver{std::string(kVfioPci), "vfio_pci", true},
                                meta.vfio_pci == Topology::VfioPci::Loaded,
                                {}});
  }
  for (const auto& info : meta.devices) {
    SimDevice d;
    d.info = info;
    d.driver = info.bound_driver;
    d.override_ = info.driver_override;
    if (d.driver == kVfioPci && meta.vfio_device_nodes) d.vfio_device = info.vfio_device;
    d.info.bound_driver.reset();
    d.info.driver_override.reset();
    if (d.driver && !registered_driver(*d.driver)) {
      if (*d.driver == kVfioPci) {
        throw std::invalid_argument(
            fmt::format("topology '{}': {} is bound to vfio-pci, which is not loaded", meta.name,
                        info.address.str()));
      }
      drivers.push_back(SimDriver{TopologyDriver{*d.driver, std::nullopt, false}, true, {}});
    }
    if (!devices.emplace(info.address, std::move(d)).second) {
      throw std::invalid_argument(
          fmt::format("topology '{}': {} appears twice", meta.name, info.address.str()));
    }
  }
  meta.devices.clear();
  meta.drivers.clear();
  number_vfio_devices();
}

void KernelSimulator::State::settle() {
  const auto now = SimClock::now();
  for (auto& [address, d] : devices) {
    if (d.pending_driver && now >= d.pending_until) {
      d.driver = std::move(d.pending_driver);
      d.pending_driver.reset();
    }
  }
  number_vfio_devices();
}

void KernelSimulator::State::number_vfio_devices() {
  if (!meta.vfio_device_nodes) return;
  std::set<unsigned> used;
  for (auto& [address, d] : devices) {
    const bool on_vfio = d.present && on_vfio_driver(d);
    if (!on_vfio) d.vfio_device.reset();
    if (d.vfio_device) used.insert(*d.vfio_device);
  }
  // Every gateway call settles first, so devices that bound since the last call are numbered
  // in address order: the kernel's order when they bound one by one, as the tool binds them.
  for (auto& [address, d] : devices) {
    if (!d.present || !on_vfio_driver(d) || d.vfio_device) continue;
    unsigned m = 0;
    while (used.count(m)) ++m;
    d.vfio_device = m;
    used.insert(m);
  }
}

void KernelSimulator::State::touch(const SysPath& path) {
  const auto& c = path.components();
  if (c.size() < 4 || c[0] != "bus" || c[1] != "pci" || c[2] != "devices") return;
  const auto address = PciAddress::parse(c[3]);
  if (!address) return;
  auto it = vanish.find(*address);
  if (it == vanish.end()) return;
  if (--it->second == 0) {
    vanish.erase(it);
    if (auto d = devices.find(*address); d != devices.end()) remove(d->second);
  }
}

std::optional<PciAddress> WriteRecord::device() const {
  const auto& parts = path.components();
  if (parts.size() > 3 && parts[0] == "bus" && parts[2] == "devices") {
    return PciAddress::parse(parts[3]);
  }
  std::string_view text = value;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return PciAddress::parse(text);
}

KernelSimulator::KernelSimulator(Topology topology)
    : state_(std::make_unique<State>(std::move(topology))) {}

KernelSimulator::~KernelSimulator() {
  // Writes whose callers timed out are still running on simulator threads that use the state;
  // those waiting for a VM to let go of a device get their wish.
  {
    std::lock_guard lock(mutex_);
    state_->meta.host.processes.clear();
    state_->processes_changed.notify_all();
  }
  wait_for_blocked_writes();
}

void KernelSimulator::wait_for_blocked_writes() {
  // Those threads start no further threads, so one pass joins them all.
  std::vector<std::thread> in_kernel;
  {
    std::lock_guard lock(mutex_);
    in_kernel.swap(state_->in_kernel);
  }
  for (auto& thread : in_kernel) thread.join();
}

std::string KernelSimulator::display(const SysPath& path) const {
  return "/sys/" + path.str();
}

// --- the gateway ---

Result<std::string> KernelSimulator::read(const SysPath& path, std::size_t max_bytes) {
  std::unique_lock lock(mutex_);
  State& s = *state_;
  auto fail = [&](int error) {
    s.touch(path);
    return IoError{IoError::Op::Read, display(path), error, {}};
  };
  for (;;) {
    s.settle();
    auto resolved = s.resolve(path.components(), true);
    if (const int* error = std::get_if<int>(&resolved)) return fail(*error);
    const Resolved& r = std::get<Resolved>(resolved);
    if (r.node.kind == Node::Kind::Dir) return fail(EISDIR);
    if (!r.node.content) return fail(EACCES);  // write-only: no show() to call
    // driver_override's show() takes the device lock, which a blocked unbind holds.
    if (is_device_file(r.canonical, "driver_override")) {
      const SimDevice* d = s.present_device(r.canonical[1]);
      if (d && d->lock_owner != 0) {
        s.device_unlocked.wait(lock);
        continue;
      }
    }
    s.touch(path);
    return r.node.content->substr(0, max_bytes);
  }
}

Result<std::string> KernelSimulator::read_link(const SysPath& path) {
  std::lock_guard lock(mutex_);
  State& s = *state_;
  s.settle();
  auto resolved = s.resolve(path.components(), false);
  s.touch(path);
  if (const int* error = std::get_if<int>(&resolved)) {
    return IoError{IoError::Op::ReadLink, display(path), *error, {}};
  }
  const Resolved& r = std::get<Resolved>(resolved);
  if (r.node.kind != Node::Kind::Link) {
    return IoError{IoError::Op::ReadLink, display(path), EINVAL, {}};
  }
  return r.node.link_text;
}

Result<std::vector<std::string>> KernelSimulator::list(const SysPath& dir) {
  std::lock_guard lock(mutex_);
  State& s = *state_;
  s.settle();
  auto resolved = s.resolve(dir.components(), true);
  s.touch(dir);
  if (const int* error = std::get_if<int>(&resolved)) {
    return IoError{IoError::Op::List, display(dir), *error, {}};
  }
  const Resolved& r = std::get<Resolved>(resolved);
  if (r.node.kind != Node::Kind::Dir) return IoError{IoError::Op::List, display(dir), ENOTDIR, {}};
  return r.node.entries;
}

Result<void> KernelSimulator::write(const SysPath& path, std::string_view value) {
  std::unique_lock lock(mutex_);
  State& s = *state_;
  if (s.frozen) return IoError{IoError::Op::Write, display(path), EIO, std::string(value)};
  s.settle();
  const unsigned number = ++s.write_count;
  const unsigned nth = ++s.writes_per_path[path.str()];
  std::optional<SimClock::time_point> deadline;
  if (const auto timeout = write_timeout(); timeout.count() > 0) {
    deadline = SimClock::now() + timeout;
  }
  int error = 0;
  if (auto failure = take_planned(s.failures, path, nth)) {
    error = failure->error;
  } else {
    error = s.store(lock, path, std::string(value), number, nth, deadline);
  }
  s.log.push_back(WriteRecord{path, std::string(value), error});
  s.touch(path);
  if (s.crash_at == number) {
    s.crash_at.reset();
    s.frozen = true;
    if (s.on_crash) s.on_crash();
  }
  if (error != 0) return IoError{IoError::Op::Write, display(path), error, std::string(value)};
  return {};
}

int KernelSimulator::State::store(std::unique_lock<std::mutex>& lock, const SysPath& path,
                                  const std::string& value, unsigned number, unsigned nth,
                                  std::optional<SimClock::time_point> deadline) {
  // The caller gives up here; the rest of the write runs on a thread of its own, still "in the
  // kernel", and is joined by ~KernelSimulator.
  auto time_out = [&](auto&& rest) {
    in_kernel.emplace_back(std::forward<decltype(rest)>(rest));
    return ETIMEDOUT;
  };

  // Resolves the path, first waiting out the device lock of any blocked write on its device.
  Components canonical;
  for (;;) {
    auto resolved = resolve(path.components(), true);
    if (const int* error = std::get_if<int>(&resolved)) return *error;
    canonical = std::get<Resolved>(std::move(resolved)).canonical;
    const SimDevice* target = write_target(canonical, value);
    if (!target || target->lock_owner == 0 || target->lock_owner == number) break;
    if (!deadline) {
      device_unlocked.wait(lock);
    } else if (SimClock::now() >= *deadline) {
      // Like the real gateway, whose writer would sleep on the device lock in the kernel.
      return time_out([this, mutex = lock.mutex(), path, value, number, nth] {
        std::unique_lock relock(*mutex);
        store(relock, path, value, number, nth, std::nullopt);
      });
    } else {
      device_unlocked.wait_until(lock, *deadline);
    }
    settle();
  }

  // An unbind (or a removal) of a bound device takes the device lock and drops the `driver` link
  // before the driver's remove() blocks; the write then sleeps in the kernel: for a planned
  // block's duration, or, for a device a process holds, until that process ends.
  auto block = take_planned(blocks, path, nth);
  SimDevice* locked = nullptr;
  const bool unbind =
      canonical.size() == 5 && canonical[2] == "drivers" && canonical[4] == "unbind";
  if (unbind) {
    SimDevice* d = device_named(value);
    if (d && d->driver == canonical[3]) locked = d;
  } else if (is_device_file(canonical, "remove") && !value.empty() && value[0] != '0') {
    SimDevice* d = present_device(canonical[1]);
    if (d && d->driver) locked = d;
  }
  const bool held = !block && locked && held_by_process(*locked);
  if (!block && !held) return apply_write(canonical, value, false);
  if (locked) {
    locked->lock_owner = number;
    locked->unbinding = true;
  }
  if (held) {
    auto let_go = [this, locked] { return !held_by_process(*locked); };
    if (!deadline) {
      processes_changed.wait(lock, let_go);
    } else if (!processes_changed.wait_until(lock, *deadline, let_go)) {
      return time_out([this, mutex = lock.mutex(), canonical, value, locked, let_go] {
        std::unique_lock relock(*mutex);
        processes_changed.wait(relock, let_go);
        finish_blocked_write(canonical, value, locked);
      });
    }
    return finish_blocked_write(canonical, value, locked);
  }
  const auto done = SimClock::now() + block->duration;
  if (deadline && done > *deadline) {
    const int error = time_out([this, mutex = lock.mutex(), canonical, value, locked, done] {
      std::this_thread::sleep_until(done);
      std::lock_guard relock(*mutex);
      finish_blocked_write(canonical, value, locked);
    });
    lock.unlock();
    std::this_thread::sleep_until(*deadline);
    lock.lock();
    settle();
    return error;
  }
  lock.unlock();
  std::this_thread::sleep_until(done);
  lock.lock();
  return finish_blocked_write(canonical, value, locked);
}

int KernelSimulator::State::finish_blocked_write(const Components& canonical,
                                                 std::string_view value, SimDevice* locked) {
  settle();
  const int error = apply_write(canonical, value, true);
  if (locked) {
    locked->lock_owner = 0;
    locked->unbinding = false;
  }
  device_unlocked.notify_all();
  return error;
}

bool KernelSimulator::State::held_by_process(const SimDevice& device) const {
  if (device.driver && device.driver == device.info.host_driver) {
    // A sound card's unbind waits until every file of the card is closed (snd_card_free).
    for (const auto& name : device.info.nodes) {
      const auto node = sim_device_node(name);
      if (!node || !node->blocks_unbind) continue;
      for (const auto& p : meta.host.processes) {
        if (std::count(p.files.begin(), p.files.end(), node->dev_path) > 0) return true;
      }
    }
    return false;
  }
  if (device.driver != "vfio-pci") return false;
  const auto group = group_of(device);
  if (!group) return false;
  for (const auto& p : meta.host.processes) {
    if (p.device_fds > 0 && std::count(p.vfio_groups.begin(), p.vfio_groups.end(), *group) > 0)
      return true;
    // Its device node open holds the device's registration, which the unbind waits for
    // (vfio_unregister_group_dev), bound to an iommufd or not.
    const auto& nodes = p.vfio_devices;
    if (std::find(nodes.begin(), nodes.end(), device.info.address) != nodes.end()) return true;
  }
  return false;
}

// --- what tests look at ---

std::vector<TopologyDriver> KernelSimulator::all_drivers() const {
  std::lock_guard lock(mutex_);
  std::vector<TopologyDriver> out;
  for (const auto& drv : state_->drivers) out.push_back(drv.info);
  return out;
}

Topology KernelSimulator::topology() const {
  std::lock_guard lock(mutex_);
  State& s = *state_;
  s.settle();
  Topology out = s.meta;
  const bool loaded = s.vfio_pci().registered;
  if (loaded) {
    out.vfio_pci = Topology::VfioPci::Loaded;
  } else if (out.vfio_pci == Topology::VfioPci::Loaded) {
    out.vfio_pci = Topology::VfioPci::Loadable;
  }
  for (const auto& [address, d] : s.devices) {
    if (d.present) out.devices.push_back(s.current(d));
  }
  for (const auto& drv : s.drivers) {
    if (drv.registered) out.drivers.push_back(drv.info);
  }
  return out;
}

std::optional<std::string> KernelSimulator::driver_of(const PciAddress& address) const {
  std::lock_guard lock(mutex_);
  state_->settle();
  const SimDevice* d = state_->present_device(address.str());
  return d ? state_->visible_driver(*d) : std::nullopt;
}

std::optional<std::string> KernelSimulator::override_of(const PciAddress& address) const {
  std::lock_guard lock(mutex_);
  const SimDevice* d = state_->present_device(address.str());
  return d ? d->override_ : std::nullopt;
}

bool KernelSimulator::present(const PciAddress& address) const {
  std::lock_guard lock(mutex_);
  return state_->present_device(address.str()) != nullptr;
}

std::set<unsigned> KernelSimulator::vfio_group_nodes() const {
  std::lock_guard lock(mutex_);
  state_->settle();
  std::set<unsigned> out;
  for (const auto& [address, d] : state_->devices) {
    const auto group = state_->group_of(d);
    if (group && state_->on_vfio_driver(d)) out.insert(*group);
  }
  return out;
}

bool KernelSimulator::group_viable(unsigned group) const {
  std::lock_guard lock(mutex_);
  State& s = *state_;
  s.settle();
  bool any = false;
  for (const auto& [address, d] : s.devices) {
    if (s.group_of(d) != group) continue;
    any = true;
    if (!d.driver || *d.driver == kVfioPci) continue;
    const SimDriver* drv = s.registered_driver(*d.driver);
    if (!drv || !drv->info.dma_safe) return false;
  }
  return any;
}

std::vector<WriteRecord> KernelSimulator::writes() const {
  std::lock_guard lock(mutex_);
  return state_->log;
}

std::size_t KernelSimulator::successful_write_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& w : state_->log) n += w.error == 0 ? 1 : 0;
  return n;
}

// --- the world changing ---

void KernelSimulator::load_vfio_pci() {
  std::lock_guard lock(mutex_);
  state_->settle();
  state_->load_vfio_pci();
}

void KernelSimulator::unload_vfio_pci() {
  std::lock_guard lock(mutex_);
  state_->settle();
  state_->unload_vfio_pci();
}

bool KernelSimulator::unload_driver(const std::string& name) {
  std::lock_guard lock(mutex_);
  state_->settle();
  SimDriver* drv = state_->driver_entry(name);
  if (drv) state_->unload_driver(*drv);
  return drv != nullptr;
}

bool KernelSimulator::load_driver(const std::string& name) {
  std::lock_guard lock(mutex_);
  state_->settle();
  SimDriver* drv = state_->driver_entry(name);
  if (drv) state_->load_driver(*drv);
  return drv != nullptr;
}

void KernelSimulator::remove_device(const PciAddress& address) {
  std::lock_guard lock(mutex_);
  state_->settle();
  if (SimDevice* d = state_->present_device(address.str())) state_->remove(*d);
}

void KernelSimulator::rescan() {
  std::lock_guard lock(mutex_);
  state_->settle();
  state_->rescan(std::nullopt);
}

// --- faults ---

void KernelSimulator::fail_write(const SysPath& path, unsigned nth, int error) {
  std::lock_guard lock(mutex_);
  state_->failures.push_back(PlannedFault{path.str(), nth, error, {}});
}

void KernelSimulator::start_process(TopologyProcess process) {
  std::lock_guard lock(mutex_);
  state_->settle();
  for (const auto& address : process.vfio_devices) {
    const auto it = state_->devices.find(address);
    if (it == state_->devices.end() || !it->second.vfio_device) {
      // open(2) of a node that does not exist.
      throw std::invalid_argument(fmt::format(
          "process {} cannot hold the VFIO device node of {}: it has none (not on vfio-pci, or "
          "a kernel without them)",
          process.pid, address.str()));
    }
  }
  auto& processes = state_->meta.host.processes;
  std::erase_if(processes, [&](const auto& p) { return p.pid == process.pid; });
  processes.push_back(std::move(process));
  state_->processes_changed.notify_all();
}

void KernelSimulator::end_process(unsigned pid) {
  std::lock_guard lock(mutex_);
  std::erase_if(state_->meta.host.processes, [&](const auto& p) { return p.pid == pid; });
  state_->processes_changed.notify_all();
}

void KernelSimulator::block_write(const SysPath& path, unsigned nth,
                                  std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  state_->blocks.push_back(PlannedFault{path.str(), nth, 0, duration});
}

void KernelSimulator::set_probe_latency(std::chrono::milliseconds latency) {
  std::lock_guard lock(mutex_);
  state_->probe_latency = latency;
}

void KernelSimulator::fail_probe(const PciAddress& address, const std::string& driver, int error) {
  std::lock_guard lock(mutex_);
  state_->probe_failures[{address, driver}] = error;
}

void KernelSimulator::limit_probes(const std::string& driver, unsigned probes) {
  std::lock_guard lock(mutex_);
  state_->settle();
  unsigned bound = 0;
  for (const auto& [address, d] : state_->devices) {
    if (d.present && d.driver == driver) ++bound;
  }
  state_->probe_limits[driver] = probes;
  state_->probes_done[driver] = bound;
}

void KernelSimulator::remove_on_vfio_bind(const PciAddress& trigger, const PciAddress& victim) {
  std::lock_guard lock(mutex_);
  state_->remove_on_vfio_bind.insert_or_assign(trigger, victim);
}

void KernelSimulator::reprobe_on_unbind(const PciAddress& address) {
  std::lock_guard lock(mutex_);
  state_->reprobe_on_unbind.insert(address);
}

void KernelSimulator::vanish_after(const PciAddress& address, unsigned operations) {
  std::lock_guard lock(mutex_);
  SimDevice* d = state_->present_device(address.str());
  if (!d) return;
  if (operations == 0) {
    state_->remove(*d);
  } else {
    state_->vanish[address] = operations;
  }
}

void KernelSimulator::crash_after_write(unsigned k, std::function<void()> also) {
  std::lock_guard lock(mutex_);
  state_->crash_at = k;
  state_->on_crash = std::move(also);
}

void KernelSimulator::freeze() {
  std::lock_guard lock(mutex_);
  state_->frozen = true;
}

bool KernelSimulator::frozen() const {
  std::lock_guard lock(mutex_);
  return state_->frozen;
}

void KernelSimulator::thaw() {
  std::lock_guard lock(mutex_);
  state_->frozen = false;
}

}  // namespace vfio::sim
