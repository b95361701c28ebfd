// The simulator's write log and injected faults: failed and blocked writes (with the device lock
// seen from another thread, and blocks that outlast the caller's write timeout), probe latency,
// vanishing devices, devices removed when another binds, and crashes.
#define BOOST_TEST_MODULE kernel_simulator_faults
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <thread>

#include "sim_test_topologies.h"

using namespace vfio;
using namespace vfio::sim;
using namespace vfio::sim::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Host {
  KernelSimulator sim{test_host()};
};

// Polls `done` until it holds or `limit` passes; whether it held.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto give_up = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(write_log, Host)

BOOST_AUTO_TEST_CASE(records_every_write_in_order_with_its_errno) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(!sim.write(drv_file("nouveau", "unbind"), kNic.str()));
  BOOST_REQUIRE(!sim.write(dev_file(kNic, "vendor"), "1"));
  const auto log = sim.writes();
  BOOST_REQUIRE(log.size() == 3u);
  BOOST_TEST(log[0].path.str() == "bus/pci/devices/0000:02:00.0/driver_override");
  BOOST_TEST(log[0].value == "vfio-pci");
  BOOST_TEST(log[0].error == 0);
  BOOST_TEST(log[1].error == ENODEV);
  BOOST_TEST(log[2].error == EACCES);
  BOOST_TEST(sim.successful_write_count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_write_reports_path_value_and_errno) {
  auto r = sim.write(drv_file("nouveau", "unbind"), kNic.str());
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().path == "/sys/bus/pci/drivers/nouveau/unbind");
  BOOST_TEST(r.error().value == kNic.str());
  BOOST_TEST((r.error().op == IoError::Op::Write));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(faults, Host)

BOOST_AUTO_TEST_CASE(fail_write_fails_exactly_the_nth_write_to_that_path_and_changes_nothing) {
  sim.fail_write(override_path(kNic), 2, EIO);
  BOOST_TEST(sim.write(override_path(kNic), "vfio-pci").ok());
  BOOST_TEST(sim.write(override_path(kGpu), "vfio-pci").ok());  // another path: not counted
  BOOST_TEST(error_of(sim.write(override_path(kNic), "\n")) == EIO);
  BOOST_TEST(sim.override_of(kNic) == "vfio-pci");
  BOOST_TEST(sim.writes().back().error == EIO);
  BOOST_TEST(sim.writes().back().value == "\n");
  BOOST_TEST(sim.write(override_path(kNic), "\n").ok());
  BOOST_TEST(!sim.override_of(kNic));
}

BOOST_AUTO_TEST_CASE(fail_write_on_an_unbind_leaves_the_device_bound) {
  sim.fail_write(drv_file("e1000e", "unbind"), 1, EBUSY);
  BOOST_TEST(error_of(sim.write(drv_file("e1000e", "unbind"), kNic.str())) == EBUSY);
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
  BOOST_TEST(sim.successful_write_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_blocked_unbind_holds_the_device_lock_without_stalling_others) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_REQUIRE(sim.driver_of(kNic) == "vfio-pci");

  const auto block = 150ms;
  sim.block_write(drv_file("vfio-pci", "unbind"), 1, block);
  const auto start = Clock::now();
  auto unbinder = std::async(std::launch::async,
                             [&] { return sim.write(drv_file("vfio-pci", "unbind"), kNic.str()); });
  // Wait until the unbind is in the kernel: the `driver` link vanishes first.
  while (sim.read_link(dev_file(kNic, "driver")).ok() && Clock::now() - start < 1s) {
    std::this_thread::sleep_for(1ms);
  }
  BOOST_TEST(error_of(sim.read_link(dev_file(kNic, "driver"))) == ENOENT);
  BOOST_TEST((Clock::now() - start < block));
  // Other devices and other files of this device answer at once.
  const auto other = Clock::now();
  BOOST_TEST(read_text(sim, override_path(kGpu)) == "(null)\n");
  BOOST_TEST(read_text(sim, dev_file(kNic, "vendor")) == "0x8086\n");
  // uevent agrees with the link: no driver while the unbind is in the kernel.
  BOOST_TEST(read_text(sim, dev_file(kNic, "uevent")).find("DRIVER=") == std::string::npos);
  BOOST_TEST(sim.write(override_path(kGpu), "vfio-pci").ok());
  BOOST_TEST(sim.read_link(dev_file(kGpu, "driver")).ok());
  BOOST_TEST((Clock::now() - other < block / 2));
  // The device's driver_override blocks until the unbind finishes.
  const std::string during = read_text(sim, override_path(kNic));
  BOOST_TEST((Clock::now() - start >= block));
  BOOST_TEST(during == "vfio-pci\n");
  BOOST_TEST(unbinder.get().ok());
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_TEST(sim.vfio_group_nodes().empty());
}

BOOST_AUTO_TEST_CASE(a_blocked_unbind_also_blocks_driver_override_writes_and_probes) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  sim.block_write(drv_file("e1000e", "unbind"), 1, 80ms);
  std::atomic<bool> in_kernel{false};
  auto unbinder = std::async(std::launch::async, [&] {
    in_kernel = true;
    return sim.write(drv_file("e1000e", "unbind"), kNic.str());
  });
  while (!in_kernel || sim.read_link(dev_file(kNic, "driver")).ok())
    std::this_thread::sleep_for(1ms);
  const auto start = Clock::now();
  BOOST_TEST(sim.write(paths::drivers_probe(), kNic.str()).ok());  // waits for the lock
  BOOST_TEST((Clock::now() - start >= 30ms));
  BOOST_TEST(unbinder.get().ok());
  BOOST_TEST(sim.driver_of(kNic) == "vfio-pci");  // the probe ran after the unbind
}

BOOST_AUTO_TEST_CASE(a_blocked_write_that_is_not_an_unbind_just_sleeps_then_acts) {
  sim.block_write(override_path(kNic), 1, 40ms);
  const auto start = Clock::now();
  BOOST_TEST(sim.write(override_path(kNic), "vfio-pci").ok());
  BOOST_TEST((Clock::now() - start >= 40ms));
  BOOST_TEST(sim.override_of(kNic) == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_blocked_write_whose_device_is_removed_meanwhile_is_enodev) {
  // Like an fd opened before the removal: the write lands on a dead attribute.
  sim.block_write(override_path(kNic), 1, 60ms);
  auto writer =
      std::async(std::launch::async, [&] { return sim.write(override_path(kNic), "vfio-pci"); });
  std::this_thread::sleep_for(20ms);
  sim.remove_device(kNic);
  BOOST_TEST(error_of(writer.get()) == ENODEV);
  BOOST_TEST(sim.writes().back().error == ENODEV);
}

BOOST_AUTO_TEST_CASE(probe_latency_catches_a_single_check_but_not_polling) {
  sim.set_probe_latency(40ms);
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  const auto start = Clock::now();
  BOOST_TEST(sim.write(paths::drivers_probe(), kNic.str()).ok());
  BOOST_TEST((Clock::now() - start < 20ms));  // the write returns at once
  BOOST_TEST(error_of(sim.read_link(dev_file(kNic, "driver"))) == ENOENT);
  BOOST_TEST(!sim.driver_of(kNic));
  // A bind while the probe is in flight sees the device busy.
  BOOST_TEST(error_of(sim.write(drv_file("vfio-pci", "bind"), kNic.str())) == EBUSY);
  Result<std::string> link = sim.read_link(dev_file(kNic, "driver"));
  while (!link.ok() && Clock::now() - start < 1s) {
    std::this_thread::sleep_for(2ms);
    link = sim.read_link(dev_file(kNic, "driver"));
  }
  BOOST_REQUIRE(link.ok());
  BOOST_TEST(link.value() == "../../../bus/pci/drivers/vfio-pci");
  BOOST_TEST((Clock::now() - start >= 40ms));
}

BOOST_AUTO_TEST_CASE(uevent_names_the_driver_the_link_shows_during_a_probe) {
  auto uevent_driver = [&] {
    const std::string text = read_text(sim, dev_file(kNic, "uevent"));
    BOOST_TEST(text.find("PCI_ID=8086:") != std::string::npos);
    const auto at = text.find("DRIVER=");
    if (at == std::string::npos) return std::string();
    return text.substr(at + 7, text.find('\n', at) - at - 7);
  };
  BOOST_TEST(uevent_driver() == "e1000e");
  sim.set_probe_latency(30ms);
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(uevent_driver().empty());
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  // Probing: no driver link yet, and no DRIVER= either.
  BOOST_TEST(error_of(sim.read_link(dev_file(kNic, "driver"))) == ENOENT);
  BOOST_TEST(uevent_driver().empty());
  std::this_thread::sleep_for(35ms);
  BOOST_TEST(sim.read_link(dev_file(kNic, "driver")).ok());
  BOOST_TEST(uevent_driver() == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(probe_latency_applies_to_rescan_too) {
  sim.set_probe_latency(30ms);
  sim.remove_device(kNic);
  sim.rescan();
  BOOST_TEST(sim.present(kNic));
  BOOST_TEST(!sim.driver_of(kNic));
  std::this_thread::sleep_for(35ms);
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
}

BOOST_AUTO_TEST_CASE(vanish_after_removes_the_device_after_n_calls_on_its_paths) {
  sim.vanish_after(kNic, 2);
  BOOST_TEST(
      as_sysfs(sim).read(paths::pci_device(kGpu) / "vendor").ok());  // other devices: not counted
  BOOST_TEST(sim.list(paths::pci_devices()).ok());                   // bus level: not counted
  BOOST_TEST(as_sysfs(sim).read(dev_file(kNic, "vendor")).ok());
  BOOST_TEST(sim.present(kNic));
  BOOST_TEST(sim.read_link(dev_file(kNic, "driver")).ok());
  BOOST_TEST(!sim.present(kNic));
  BOOST_TEST(error_of(as_sysfs(sim).read(dev_file(kNic, "vendor"))) == ENOENT);
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kNic.str())) == ENODEV);
}

BOOST_AUTO_TEST_CASE(vanish_after_zero_removes_at_once) {
  sim.vanish_after(kNic, 0);
  BOOST_TEST(!sim.present(kNic));
}

// Seen on the real kernel (tests/realkernel, bridge): a uevent listener removing a device the
// moment another binds to vfio-pci; the claim's next write to the removed device is ENOENT.
BOOST_AUTO_TEST_CASE(remove_on_vfio_bind_removes_the_victim_when_the_trigger_binds_to_vfio_pci) {
  sim.remove_on_vfio_bind(kGpu, kAudio);
  BOOST_REQUIRE(sim.write(override_path(kGpu), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("nouveau", "unbind"), kGpu.str()));
  BOOST_TEST(sim.present(kAudio));  // unbinding is not binding
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kGpu.str()));
  BOOST_TEST(sim.driver_of(kGpu) == "vfio-pci");
  BOOST_TEST(!sim.present(kAudio));
  BOOST_TEST(error_of(sim.write(override_path(kAudio), "vfio-pci")) == ENOENT);
  sim.rescan();
  BOOST_TEST(sim.driver_of(kAudio) == "snd_hda_intel");
  BOOST_TEST(!sim.override_of(kAudio));
}

// As a hotplug agent re-probing what was unbound (tests/realkernel, rootports): the override at
// the moment of the unbind decides who takes the device, which is why a claim sets it first.
BOOST_AUTO_TEST_CASE(reprobe_on_unbind_probes_the_device_again_at_its_unbind) {
  sim.reprobe_on_unbind(kNic);
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");  // no override: its host driver took it back
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(!sim.driver_of(kNic));  // once only
  sim.reprobe_on_unbind(kNic);
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_REQUIRE(sim.write(drv_file("vfio-pci", "unbind"), kNic.str()));
  BOOST_TEST(sim.driver_of(kNic) == "vfio-pci");  // the override was set at the unbind
}

BOOST_AUTO_TEST_CASE(crash_after_write_k_applies_k_then_freezes_until_thawed) {
  bool hook_ran = false;
  sim.crash_after_write(2, [&] { hook_ran = true; });
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));  // write 2 lands
  BOOST_TEST(hook_ran);
  BOOST_TEST(sim.frozen());
  // The dead process's next write never reaches the kernel.
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kNic.str())) == EIO);
  // The state after exactly two writes: override set, unbound, not yet probed.
  BOOST_TEST(sim.override_of(kNic) == "vfio-pci");
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_TEST(sim.writes().size() == 2u);
  BOOST_TEST(sim.writes().back().error == 0);
  // The next run works normally.
  sim.thaw();
  BOOST_TEST(sim.write(paths::drivers_probe(), kNic.str()).ok());
  BOOST_TEST(sim.driver_of(kNic) == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_failed_write_counts_towards_the_crash_point) {
  sim.crash_after_write(2);
  BOOST_TEST(error_of(sim.write(drv_file("nouveau", "unbind"), kNic.str())) == ENODEV);
  BOOST_TEST(error_of(sim.write(drv_file("nouveau", "unbind"), kNic.str())) == ENODEV);
  BOOST_TEST(sim.frozen());
  BOOST_TEST(sim.writes().size() == 2u);
  BOOST_TEST(sim.writes().back().error == ENODEV);
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
}

BOOST_AUTO_TEST_SUITE_END()

// Timings below are loose on purpose (shared, noisy machines): a timed-out write returns no
// earlier than its timeout and, with a block several times longer, before the block ends; what
// the block holds up is checked by ordering, with generous upper bounds.
BOOST_FIXTURE_TEST_SUITE(write_timeout, Host)

BOOST_AUTO_TEST_CASE(an_unbind_blocked_past_the_timeout_returns_etimedout_and_acts_later) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_REQUIRE(sim.vfio_group_nodes() == std::set<unsigned>{2});

  const auto timeout = 100ms;
  const auto block = 800ms;
  sim.set_write_timeout(timeout);
  sim.block_write(drv_file("vfio-pci", "unbind"), 1, block);
  const auto start = Clock::now();
  const auto unbind = sim.write(drv_file("vfio-pci", "unbind"), kNic.str());
  const auto returned = Clock::now() - start;
  BOOST_TEST(error_of(unbind) == ETIMEDOUT);
  BOOST_TEST(unbind.error().path == "/sys/bus/pci/drivers/vfio-pci/unbind");
  BOOST_TEST(unbind.error().value == kNic.str());
  BOOST_TEST((returned >= timeout));
  BOOST_TEST((returned < block));
  BOOST_TEST(sim.writes().back().error == ETIMEDOUT);  // what the caller saw

  // Still in the kernel: the `driver` link is gone, the vfio-pci binding not yet.
  BOOST_TEST(error_of(sim.read_link(dev_file(kNic, "driver"))) == ENOENT);
  BOOST_TEST(!sim.driver_of(kNic));
  const auto nodes = sim.vfio_group_nodes();
  if (Clock::now() - start < block) BOOST_TEST((nodes == std::set<unsigned>{2}));

  // Other devices answer meanwhile.
  BOOST_TEST(read_text(sim, override_path(kGpu)) == "(null)\n");
  BOOST_TEST(sim.write(override_path(kGpu), "vfio-pci").ok());
  BOOST_TEST((Clock::now() - start < block));

  // Once the block is over, the unbind has acted.
  BOOST_TEST(eventually([&] { return sim.vfio_group_nodes().empty(); }));
  BOOST_TEST((Clock::now() - start >= block));
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_TEST(read_text(sim, override_path(kNic)) == "vfio-pci\n");
  const auto log = sim.writes();
  BOOST_REQUIRE(log.size() == 5u);
  BOOST_TEST(log[3].error == ETIMEDOUT);
  BOOST_TEST(log[4].error == 0);
}

BOOST_AUTO_TEST_CASE(a_write_waiting_on_a_timed_out_unbinds_device_lock_times_out_and_acts_after) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  const auto timeout = 100ms;
  const auto block = 600ms;
  sim.set_write_timeout(timeout);
  sim.block_write(drv_file("e1000e", "unbind"), 1, block);
  const auto start = Clock::now();
  BOOST_TEST(error_of(sim.write(drv_file("e1000e", "unbind"), kNic.str())) == ETIMEDOUT);
  const auto probe_start = Clock::now();
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kNic.str())) == ETIMEDOUT);
  BOOST_TEST((Clock::now() - probe_start >= timeout));
  BOOST_TEST(!sim.driver_of(kNic));
  // The probe goes on waiting for the device lock, and binds once the unbind is done.
  BOOST_TEST(eventually([&] { return sim.driver_of(kNic) == "vfio-pci"; }));
  BOOST_TEST((Clock::now() - start >= block));
  const auto log = sim.writes();
  BOOST_REQUIRE(log.size() == 3u);
  BOOST_TEST(log[1].error == ETIMEDOUT);
  BOOST_TEST(log[2].error == ETIMEDOUT);
}

BOOST_AUTO_TEST_CASE(a_block_within_the_timeout_or_without_one_behaves_as_before) {
  for (const auto timeout : {0ms, 5000ms}) {
    BOOST_TEST_CONTEXT("write timeout " << timeout.count() << " ms") {
      KernelSimulator host{test_host()};
      host.set_write_timeout(timeout);
      const auto block = 60ms;
      host.block_write(drv_file("e1000e", "unbind"), 1, block);
      const auto start = Clock::now();
      BOOST_TEST(host.write(drv_file("e1000e", "unbind"), kNic.str()).ok());
      BOOST_TEST((Clock::now() - start >= block));
      // Acted before the write returned: nothing is left in the kernel.
      BOOST_TEST(host.writes().back().error == 0);
      BOOST_TEST(!host.driver_of(kNic));
      BOOST_TEST(read_text(host, override_path(kNic)) == "(null)\n");
      BOOST_TEST(host.write(paths::drivers_probe(), kNic.str()).ok());
      BOOST_TEST(host.driver_of(kNic) == "e1000e");
    }
  }
}

// A VM holding the NIC's device fd: its unbind from vfio-pci blocks until the VM ends, with the
// `driver` link gone and driver_override unreadable meanwhile; a group fd alone blocks nothing.
BOOST_AUTO_TEST_CASE(an_unbind_of_a_device_a_process_holds_blocks_until_the_process_ends) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  sim.start_process({4242, "qemu-system-x86", {2}, 1, {}, {}});
  BOOST_TEST(sim.topology().host.processes.size() == 1u);

  sim.set_write_timeout(50ms);
  BOOST_TEST(error_of(sim.write(drv_file("vfio-pci", "unbind"), kNic.str())) == ETIMEDOUT);
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_TEST((sim.vfio_group_nodes() == std::set<unsigned>{2}));
  auto reader = std::async(std::launch::async, [&] { return read_text(sim, override_path(kNic)); });
  BOOST_TEST((reader.wait_for(100ms) == std::future_status::timeout));
  // Nothing ends it but the process: no time limit of the simulator's.
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(sim.vfio_group_nodes().size() == 1u);

  sim.end_process(4242);
  BOOST_TEST(reader.get() == "vfio-pci\n");
  BOOST_TEST(eventually([&] { return sim.vfio_group_nodes().empty(); }));
  BOOST_TEST(!sim.driver_of(kNic));

  // Holding the group alone (no device fd) blocks no unbind.
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_REQUIRE(sim.driver_of(kNic) == "vfio-pci");
  sim.start_process({4300, "vfio-holder", {2}, 0, {}, {}});
  BOOST_TEST(sim.write(drv_file("vfio-pci", "unbind"), kNic.str()).ok());
  BOOST_TEST(!sim.driver_of(kNic));
}

BOOST_AUTO_TEST_CASE(a_process_still_holding_a_device_ends_with_the_simulator) {
  {
    KernelSimulator host{test_host()};
    BOOST_REQUIRE(host.write(override_path(kNic), "vfio-pci"));
    BOOST_REQUIRE(host.write(drv_file("e1000e", "unbind"), kNic.str()));
    BOOST_REQUIRE(host.write(paths::drivers_probe(), kNic.str()));
    host.start_process({4242, "qemu-system-x86", {2}, 1, {}, {}});
    host.set_write_timeout(20ms);
    BOOST_TEST(error_of(host.write(drv_file("vfio-pci", "unbind"), kNic.str())) == ETIMEDOUT);
  }
  // Reaching here is the test: the destructor ended the process instead of waiting for ever.
}

BOOST_AUTO_TEST_CASE(the_simulator_outlives_a_write_left_in_the_kernel) {
  const auto block = 300ms;
  const auto start = Clock::now();
  {
    KernelSimulator host{test_host()};
    host.set_write_timeout(20ms);
    host.block_write(drv_file("e1000e", "unbind"), 1, block);
    BOOST_TEST(error_of(host.write(drv_file("e1000e", "unbind"), kNic.str())) == ETIMEDOUT);
  }
  // The destructor waited the write out rather than leave it running on freed state.
  BOOST_TEST((Clock::now() - start >= block));
}

BOOST_AUTO_TEST_SUITE_END()
