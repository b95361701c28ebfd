#include "apply/device_steps.h"

#include <cerrno>
#include <charconv>
#include <thread>

#include <fmt/format.h>

#include "observe/node_holders.h"
#include "sysfs/kernel_names.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

using Clock = std::chrono::steady_clock;

std::string show(const std::optional<std::string>& driver) {
  return driver ? *driver : std::string("no driver");
}

}  // namespace

Result<Binding> read_binding(Sysfs& sysfs, const PciAddress& address) {
  // driver_override first: it exists for every PCI device, so ENOENT means the device is gone,
  // while a missing `driver` link only means that no driver is bound.
  auto override_text = sysfs.read(paths::pci_device_file(address, "driver_override"));
  if (!override_text) return override_text.error();
  std::string_view text = *override_text;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);

  Binding binding;
  if (text != kUnsetOverride) binding.override = std::string(text);
  auto link = sysfs.read_link(paths::pci_device_file(address, "driver"));
  if (link) {
    binding.driver = std::string(link_leaf(*link));
  } else if (link.error().error != ENOENT) {
    return link.error();
  }
  return binding;
}

DeviceSteps::DeviceSteps(Sysfs& sysfs, std::chrono::milliseconds probe_timeout, KernelFiles* proc,
                         std::set<std::string> variants)
    : sysfs_(sysfs), probe_timeout_(probe_timeout), proc_(proc), variants_(std::move(variants)) {}

bool DeviceSteps::is_vfio(const std::optional<std::string>& driver) const {
  return driver && (*driver == kVfioPciDriver || variants_.count(*driver) > 0);
}

std::string DeviceSteps::holder_note(const PciAddress& address) {
  if (!proc_) return "";
  // The iommu_group link, not driver_override: reading a link takes no device lock.
  auto link = sysfs_.read_link(paths::pci_device_file(address, "iommu_group"));
  if (!link) return "";
  const auto group = parse_whole_number<unsigned>(link_leaf(*link));
  if (!group) return "";
  const auto holders = holders_of_group(sysfs_, *proc_, *group);
  if (holders.empty()) {
    // Nor can the holders of a sound card's nodes be named now: its unbind removes the nodes
    // first, then waits for them (the plan warned of them, by pid).
    return fmt::format(
        "; no process holds /dev/vfio/{}, so a driver is waiting in the kernel (a sound card's "
        "unbind waits for every process holding one of its nodes: see the plan's warnings)",
        *group);
  }
  return fmt::format("; held by {} ({}): stop it and the write completes",
                     describe_holders(holders), describe_held_nodes(holders));
}

bool DeviceSteps::stuck(const PciAddress& address) const {
  std::lock_guard lock(mutex_);
  return stuck_.count(address) > 0;
}

std::optional<StepFailure> DeviceSteps::write(const PciAddress& address, std::string step,
                                              const SysPath& path, std::string_view value) {
  auto written = sysfs_.write(path, value);
  if (written) return std::nullopt;
  const IoError& e = written.error();
  std::string message = e.to_string();
  if (e.error == ETIMEDOUT) {
    std::lock_guard lock(mutex_);
    stuck_.insert(address);
    message =
        fmt::format("{} (the write did not return within {} ms, so this device is left alone{})",
                    message, sysfs_.write_timeout().count(), holder_note(address));
  }
  return StepFailure{address, std::move(step), std::move(message), e.error};
}

std::optional<StepFailure> DeviceSteps::set_override(const PciAddress& address,
                                                     const std::optional<std::string>& value) {
  // "\n" clears; a zero-length write would leave the old value in place.
  return write(address,
               value ? fmt::format("set driver_override to {}", *value)
                     : std::string("clear driver_override"),
               paths::pci_device_file(address, "driver_override"), value ? *value : "\n");
}

std::optional<StepFailure> DeviceSteps::unbind(const PciAddress& address,
                                               const std::string& driver) {
  return write(address, fmt::format("unbind from {}", driver),
               paths::pci_driver_file(driver, "unbind"), address.str());
}

std::optional<StepFailure> DeviceSteps::probe(const PciAddress& address) {
  return write(address, "probe", paths::drivers_probe(), address.str());
}

template <class Accept>
std::optional<StepFailure> DeviceSteps::wait_for(const PciAddress& address, const std::string& step,
                                                 const std::string& wanted, const Accept& accept) {
  const auto deadline = Clock::now() + probe_timeout_;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto now = read_binding(sysfs_, address);
    if (!now) return StepFailure{address, step, now.error().to_string(), now.error().error};
    if (accept(now->driver)) return std::nullopt;
    // Probing binds a driver or leaves the device alone: once another driver holds it, waiting
    // longer cannot give `wanted`.
    if (now->driver) {
      return StepFailure{
          address, step,
          fmt::format("{} is bound to {}, not {}", address.str(), *now->driver, wanted), 0};
    }
    if (Clock::now() >= deadline) {
      return StepFailure{address, step,
                         fmt::format("{} has no driver {} ms after the probe (wanted {}); the "
                                     "kernel log says why the probe failed",
                                     address.str(), probe_timeout_.count(), wanted),
                         0};
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::optional<StepFailure> DeviceSteps::claim(const PciAddress& address, const Binding& now,
                                              const std::string& driver) {
  // The override goes first, so that nothing else can take the device between unbind and probe
  // (and a variant driver's ID table matches only through it: its entries are override-only).
  if (now.override != driver) {
    if (auto f = set_override(address, driver)) return f;
  }
  if (now.driver == driver) return std::nullopt;
  if (now.driver) {
    if (auto f = unbind(address, *now.driver)) return f;
  }
  if (auto f = probe(address)) return f;
  return wait_for(address, fmt::format("wait for {}", driver), driver,
                  [&](const auto& d) { return d == driver; });
}

std::optional<StepFailure> DeviceSteps::release(const PciAddress& address, const Binding& now,
                                                const std::optional<std::string>& expected,
                                                bool any_host_driver) {
  const bool on_vfio = is_vfio(now.driver);
  if (on_vfio) {
    if (auto f = unbind(address, *now.driver)) return f;
  }
  if (now.override) {
    if (auto f = set_override(address, std::nullopt)) return f;
  }
  if (!on_vfio && now.driver)
    return std::nullopt;  // on a host driver already: only a stale override

  if (expected) {
    if (auto f = probe(address)) return f;
    return wait_for(address, fmt::format("wait for {}", *expected), *expected,
                    [&](const auto& d) { return d == expected; });
  }
  if (any_host_driver) {
    if (auto f = probe(address)) return f;
    // Nothing recorded what it had: any host driver will do, and a device for which the kernel
    // has none stays driverless (the outcome shows it) rather than going back to vfio-pci.
    auto f = wait_for(address, "wait for a host driver", "a host driver",
                      [&](const auto& d) { return d && !is_vfio(d); });
    if (f && f->error == 0 && !stuck(address)) {
      auto after = read_binding(sysfs_, address);
      if (after && !after->driver) return std::nullopt;
    }
    return f;
  }
  // It had no driver before this tool claimed it: no probe, and nothing may have bound it.
  auto after = read_binding(sysfs_, address);
  if (!after) return StepFailure{address, "verify", after.error().to_string(), after.error().error};
  if (after->driver) {
    return StepFailure{address, "verify",
                       fmt::format("{} had no driver before, but is now bound to {}", address.str(),
                                   *after->driver),
                       0};
  }
  return std::nullopt;
}

std::optional<StepFailure> DeviceSteps::restore(const PciAddress& address, const Binding& original,
                                                std::vector<std::string>& notes) {
  auto current = read_binding(sysfs_, address);
  if (!current) {
    return StepFailure{address, "read its binding", current.error().to_string(),
                       current.error().error};
  }
  std::optional<std::string> final_override = original.override;
  if (is_vfio(final_override) && !is_vfio(original.driver)) {
    final_override.reset();
    notes.push_back(
        fmt::format("{}: its earlier driver_override=vfio-pci was cleared, not restored "
                    "(it would hand the device to vfio-pci at the next probe)",
                    address.str()));
  }

  std::optional<std::string> current_override = current->override;
  if (current->driver != original.driver) {
    if (current->driver) {
      if (auto f = unbind(address, *current->driver)) return f;
    }
    if (original.driver) {
      // Pin the probe to the recorded driver with the override, so that exactly it comes back.
      if (current_override != original.driver) {
        if (auto f = set_override(address, original.driver)) return f;
      }
      if (auto f = probe(address)) return f;
      if (auto f = wait_for(address, fmt::format("wait for {}", *original.driver), *original.driver,
                            [&](const auto& d) { return d == original.driver; })) {
        return f;
      }
      current_override = original.driver;
    }
  }
  if (current_override != final_override) {
    if (auto f = set_override(address, final_override)) return f;
  }

  auto after = read_binding(sysfs_, address);
  if (!after) return StepFailure{address, "verify", after.error().to_string(), after.error().error};
  const Binding wanted{original.driver, final_override};
  if (*after != wanted) {
    return StepFailure{
        address, "verify",
        fmt::format("{} is on {} with driver_override {}, not {} with {}", address.str(),
                    show(after->driver), after->override.value_or(std::string(kUnsetOverride)),
                    show(wanted.driver), wanted.override.value_or(std::string(kUnsetOverride))),
        0};
  }
  return std::nullopt;
}

}  // namespace vfio
