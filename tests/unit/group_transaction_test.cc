#define BOOST_TEST_MODULE group_transaction
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <set>
#include <thread>

#include "apply/executor.h"
#include "apply_support.h"
#include "observe/observe.h"
#include "util/result.h"

using namespace vfio;
using test::apply_manifest;
using test::bindings;
using test::contains;
using test::example_manifest;
using test::group_failed;
using test::numbered_writes;

namespace {

const PciAddress kGpu{0, 1, 0, 0};
const PciAddress kGpuAudio{0, 1, 0, 1};

std::vector<std::pair<std::string, std::string>> write_log(const sim::KernelSimulator& kernel) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& w : kernel.writes()) out.emplace_back(w.path.str(), w.value);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_claim_moves_the_whole_group_in_the_known_order) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == 1u, group_failed(applied->outcome));
  const std::vector<std::pair<std::string, std::string>> expected{
      {"bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"},
      {"bus/pci/drivers/nvidia/unbind", "0000:01:00.0"},
      {"bus/pci/drivers_probe", "0000:01:00.0"},
      {"bus/pci/devices/0000:01:00.1/driver_override", "vfio-pci"},
      {"bus/pci/drivers/snd_hda_intel/unbind", "0000:01:00.1"},
      {"bus/pci/drivers_probe", "0000:01:00.1"}};
  BOOST_TEST(write_log(kernel) == expected);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.driver_of(kGpuAudio).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.driver_of(PciAddress{0, 0, 1, 0}).value_or("-") ==
             "pcieport");  // the bridge, left alone
  BOOST_TEST(kernel.group_viable(1));
  BOOST_TEST(kernel.vfio_group_nodes() == std::set<unsigned>{1});

  // The ledger knows what each device had, for a release later.
  const auto entry = ledger.find(1);
  BOOST_REQUIRE(entry);
  BOOST_TEST(!entry->in_flight);
  BOOST_TEST(entry->find(kGpu)->original_driver.value_or("-") == "nvidia");
  BOOST_TEST(entry->find(kGpuAudio)->original_driver.value_or("-") == "snd_hda_intel");

  // A second run finds the group claimed by this tool and writes nothing.
  const std::size_t writes = kernel.writes().size();
  auto again = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  BOOST_TEST(again->outcome.count(GroupResult::Unchanged) == 1u);
  BOOST_TEST(kernel.writes().size() == writes);
}

BOOST_AUTO_TEST_CASE(every_example_host_ends_as_its_plan_says_and_prunes_back_to_before) {
  // The exact writes of each are in the apply goldens (tests/e2e/golden/apply_*.text).
  const auto examples = test::example_manifests();
  BOOST_TEST_REQUIRE(examples.size() >= 5u);
  test::ScratchFile nothing("version: 1\nassignments: []\n", "nothing.yaml");
  for (const auto& [manifest, host] : examples) {
    BOOST_TEST_CONTEXT(manifest.filename().string() << " on " << host) {
      sim::KernelSimulator kernel(test::example_host(host));
      const auto before = bindings(kernel);
      OwnershipLedger ledger({}, nullptr);
      auto applied = apply_manifest(kernel, manifest.string(), ledger);
      BOOST_TEST(!applied->outcome.any_failure(), group_failed(applied->outcome));
      for (const auto& c : applied->plan.changes) {
        if (c.action == GroupAction::Blocked) continue;
        for (const auto& d : c.devices) {
          const auto driver = kernel.driver_of(d.address);
          if (d.any_host_driver) {
            BOOST_TEST((driver && *driver != "vfio-pci"), d.address);
          } else {
            BOOST_TEST(driver.value_or("-") == d.after.driver.value_or("-"), d.address);
          }
          BOOST_TEST(kernel.override_of(d.address).value_or("(null)") ==
                         d.after.override.value_or("(null)"),
                     d.address);
        }
        if (c.action == GroupAction::Claim || c.action == GroupAction::Adopt) {
          BOOST_TEST(kernel.group_viable(*c.group));
        }
        if (c.action == GroupAction::Release) {
          BOOST_TEST(!kernel.vfio_group_nodes().count(*c.group));
        }
      }
      // What this run bound goes back to exactly what it had; nothing else is written.
      const std::size_t writes = kernel.writes().size();
      apply_manifest(kernel, nothing.path(), ledger);
      for (const auto& [address, was] : bindings(kernel)) {
        bool bound_by_us = false;
        for (const auto& [group, entry] : ledger.record().groups) {
          bound_by_us = bound_by_us || entry.find(*PciAddress::parse(address));
        }
        BOOST_TEST(!bound_by_us, address << " still recorded as bound by this tool");
      }
      for (const auto& c : applied->plan.changes) {
        if (c.action != GroupAction::Claim) continue;
        for (const auto& d : c.devices) {
          // A VF the run made (a VF count set) is gone again once its PF is given back.
          if (!before.count(d.address.str())) {
            BOOST_TEST(!kernel.present(d.address), d.address);
            continue;
          }
          BOOST_TEST((bindings(kernel).at(d.address.str()) == before.at(d.address.str())),
                     d.address);
        }
      }
      if (applied->outcome.count(GroupResult::Claimed) == 0) {
        BOOST_TEST(kernel.writes().size() == writes);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_release_brings_back_the_recorded_drivers_and_clears_the_override) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  OwnershipLedger ledger({}, nullptr);
  apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  test::ScratchFile host_again(
      "version: 1\nassignments:\n  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" "
      "} }\n",
      "manifest.yaml");
  auto released = apply_manifest(kernel, host_again.path(), ledger);
  BOOST_TEST(released->outcome.count(GroupResult::Released) == 1u, group_failed(released->outcome));
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "nvidia");
  BOOST_TEST(kernel.driver_of(kGpuAudio).value_or("-") == "snd_hda_intel");
  BOOST_TEST(!kernel.override_of(kGpu));
  BOOST_TEST(!kernel.override_of(kGpuAudio));
  BOOST_TEST(kernel.vfio_group_nodes().empty());
  BOOST_TEST(!ledger.find(1));
}

BOOST_AUTO_TEST_CASE(every_failing_write_of_a_claim_leaves_its_group_exactly_as_before) {
  // A clean run of 8 groups, one at a time, names every write; then each write fails in turn.
  sim::KernelSimulator clean(test::example_host("gpu-server"));
  OwnershipLedger clean_ledger({}, nullptr);
  auto ok = apply_manifest(clean, example_manifest("gpu-server-gpus"), clean_ledger,
                           std::chrono::milliseconds(300), 1);
  // Six GPUs to claim; two were on vfio-pci already and are adopted.
  BOOST_REQUIRE(ok->outcome.count(GroupResult::Claimed) == 6u);
  BOOST_REQUIRE(ok->outcome.count(GroupResult::Adopted) == 2u);
  const auto writes = numbered_writes(clean);
  BOOST_REQUIRE(writes.size() == 18u);

  for (std::size_t k = 0; k < writes.size(); ++k) {
    for (int error : {EBUSY, ENODEV, EIO, EINVAL}) {
      BOOST_TEST_CONTEXT("write " << k + 1 << " (" << writes[k].path.str() << ") fails with "
                                  << errno_name(error)) {
        sim::KernelSimulator kernel(test::example_host("gpu-server"));
        const auto before = bindings(kernel);
        kernel.fail_write(writes[k].path, writes[k].nth, error);
        OwnershipLedger ledger({}, nullptr);
        auto applied = apply_manifest(kernel, example_manifest("gpu-server-gpus"), ledger,
                                      std::chrono::milliseconds(300), 1);
        BOOST_TEST(applied->outcome.count(GroupResult::RolledBack) == 1u);
        BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == 5u);
        for (const auto& g : applied->outcome.groups) {
          if (g.result != GroupResult::RolledBack) continue;
          BOOST_TEST(contains(g.failure->message, errno_name(error)), g.failure->message);
          BOOST_TEST(contains(g.failure->message, writes[k].path.str()), g.failure->message);
          BOOST_TEST(g.problems.empty());
          for (const auto& d : g.change->devices) {
            const auto was = before.at(d.address.str());
            BOOST_TEST(kernel.driver_of(d.address).value_or("-") == was.first);
            BOOST_TEST(kernel.override_of(d.address).value_or("(null)") == was.second);
          }
          BOOST_TEST(!ledger.find(*g.change->group));
        }
        // The others are claimed: no group is left half-way.
        for (const auto& g : applied->outcome.groups) {
          if (g.result != GroupResult::Claimed) continue;
          BOOST_TEST(kernel.group_viable(*g.change->group));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_failing_write_of_a_release_puts_the_group_back_on_vfio_pci) {
  auto claimed_host = [](sim::KernelSimulator& kernel, OwnershipLedger& ledger) {
    apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  };
  test::ScratchFile to_host(
      "version: 1\nassignments:\n  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" "
      "} }\n",
      "manifest.yaml");
  const auto writes = test::clean_run_writes("workstation", to_host.path(), claimed_host);
  BOOST_REQUIRE(!writes.empty());

  for (std::size_t k = 0; k < writes.size(); ++k) {
    for (int error : {EBUSY, ENODEV, EIO, EINVAL}) {
      BOOST_TEST_CONTEXT("release write " << k + 1 << " (" << writes[k].path.str()
                                          << ") fails with " << errno_name(error)) {
        sim::KernelSimulator kernel(test::example_host("workstation"));
        OwnershipLedger ledger({}, nullptr);
        claimed_host(kernel, ledger);
        const auto before = bindings(kernel);
        kernel.fail_write(writes[k].path, writes[k].nth, error);
        auto applied = apply_manifest(kernel, to_host.path(), ledger);
        BOOST_TEST(applied->outcome.count(GroupResult::RolledBack) == 1u);
        BOOST_TEST(bindings(kernel) == before);
        BOOST_TEST(kernel.group_viable(1));
        BOOST_TEST(ledger.find(1).has_value());  // still ours, still recorded
      }
    }
  }
}

// companions: listed with the unnamed audio function already on vfio-pci (bound by someone
// else): the GPU is claimed, the audio is not written to, and the record holds only the GPU.
BOOST_AUTO_TEST_CASE(a_listed_claim_records_only_what_it_moved) {
  sim::Topology t = test::example_host("workstation");
  for (auto& d : t.devices) {
    if (d.address == kGpuAudio) d.bound_driver = d.driver_override = "vfio-pci";
  }
  sim::KernelSimulator kernel(std::move(t));
  test::ScratchFile manifest(
      "version: 1\nassignments:\n  - { name: gpu0, state: vfio, companions: listed, match: "
      "{ address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, manifest.path(), ledger);
  BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == 1u, group_failed(applied->outcome));
  BOOST_TEST(kernel.group_viable(1));
  for (const auto& w : kernel.writes()) {
    BOOST_TEST(!contains(w.path.str() + " " + w.value, kGpuAudio.str()), w.path.str());
  }
  const auto entry = ledger.find(1);
  BOOST_REQUIRE(entry);
  BOOST_REQUIRE(entry->devices.size() == 1u);
  BOOST_TEST(entry->devices[0].address == PciAddress(0, 1, 0, 0));
}

BOOST_AUTO_TEST_CASE(a_probe_that_never_binds_is_rolled_back_after_the_timeout) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  const auto before = bindings(kernel);
  kernel.fail_probe(kGpuAudio, "vfio-pci", EINVAL);
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger,
                                std::chrono::milliseconds(100));
  BOOST_REQUIRE(applied->outcome.count(GroupResult::RolledBack) == 1u);
  const GroupOutcome& g = applied->outcome.groups.front();
  BOOST_TEST(g.failure->device == kGpuAudio);
  BOOST_TEST(g.failure->step == "wait for vfio-pci");
  BOOST_TEST(contains(g.failure->message, "no driver 100 ms after the probe"), g.failure->message);
  BOOST_TEST(bindings(kernel) == before);  // the GPU, claimed first, is back on nvidia too
}

BOOST_AUTO_TEST_CASE(a_slow_probe_is_waited_for_not_trusted) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  kernel.set_probe_latency(std::chrono::milliseconds(40));
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger,
                                std::chrono::milliseconds(2000));
  BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == 1u, group_failed(applied->outcome));
  BOOST_TEST(kernel.driver_of(kGpuAudio).value_or("-") == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_device_removed_mid_claim_fails_the_group_and_leaves_no_override) {
  // Up to 4 more reads or writes of its own files: gone before vfio-pci was seen to bind it.
  for (unsigned operations = 0; operations <= 4; ++operations) {
    BOOST_TEST_CONTEXT("the audio function goes after " << operations << " more operations") {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      HostSnapshot host = observe(kernel, ObserveDetail::Planning);
      Plan plan =
          make_plan(load_manifests(test::disk(), {example_manifest("workstation-gpu")}), host, {});
      kernel.vanish_after(kGpuAudio, operations);
      OwnershipLedger ledger({}, nullptr);
      KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(100));
      ApplyOutcome outcome = execute_plan(plan, executor, 1);
      const GroupOutcome& g = outcome.groups.front();
      // What is left of the group is back as before: rolled back, not "incomplete".
      BOOST_TEST((g.result == GroupResult::RolledBack), group_failed(outcome));
      BOOST_TEST(g.failure.has_value());
      BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "nvidia");
      BOOST_TEST(!kernel.override_of(kGpu));
      BOOST_TEST(!kernel.present(kGpuAudio));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_rollback_never_releases_what_was_on_vfio_pci_before) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  // Someone else put the audio function on vfio-pci.
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(kGpuAudio, "driver_override"), "vfio-pci"));
  BOOST_REQUIRE(kernel.write(paths::pci_driver_file("snd_hda_intel", "unbind"), kGpuAudio.str()));
  BOOST_REQUIRE(kernel.write(paths::drivers_probe(), kGpuAudio.str()));
  BOOST_REQUIRE(kernel.driver_of(kGpuAudio).value_or("-") == "vfio-pci");
  kernel.fail_write(paths::drivers_probe(), 2, EIO);  // the GPU's probe
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  BOOST_TEST(applied->outcome.count(GroupResult::RolledBack) == 1u);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "nvidia");
  BOOST_TEST(kernel.driver_of(kGpuAudio).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.override_of(kGpuAudio).value_or("-") == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_failed_claim_clears_a_stale_vfio_override_rather_than_restore_it) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  // The "wedge": an earlier tool left override=vfio-pci on a device still on its host driver.
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(kGpu, "driver_override"), "vfio-pci"));
  kernel.fail_write(paths::drivers_probe(), 2, EIO);  // the audio function's probe
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  const GroupOutcome& g = applied->outcome.groups.front();
  BOOST_TEST(g.result == GroupResult::RolledBack);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "nvidia");
  BOOST_TEST(!kernel.override_of(kGpu));
  BOOST_TEST(kernel.driver_of(kGpuAudio).value_or("-") == "snd_hda_intel");
  bool said = false;
  for (const auto& p : g.problems) said = said || contains(p, "was cleared, not restored");
  BOOST_TEST(said);
}

BOOST_AUTO_TEST_CASE(a_group_that_changed_since_it_was_observed_is_not_touched) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  HostSnapshot host = observe(kernel, ObserveDetail::Planning);
  Plan plan =
      make_plan(load_manifests(test::disk(), {example_manifest("workstation-gpu")}), host, {});
  kernel.remove_device(kGpuAudio);
  const auto before = bindings(kernel);
  OwnershipLedger ledger({}, nullptr);
  KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(100));
  ApplyOutcome outcome = execute_plan(plan, executor, 1);
  BOOST_TEST(outcome.groups.front().result == GroupResult::RolledBack);
  BOOST_TEST(contains(outcome.groups.front().failure->message, "changed since it was observed"));
  BOOST_TEST(outcome.groups.front().devices.empty());
  BOOST_TEST(bindings(kernel) == before);
  BOOST_TEST(kernel.writes().empty());
}

BOOST_AUTO_TEST_CASE(a_stop_request_starts_no_group) {
  sim::KernelSimulator kernel(test::example_host("gpu-server"));
  HostSnapshot host = observe(kernel, ObserveDetail::Planning);
  Plan plan =
      make_plan(load_manifests(test::disk(), {example_manifest("gpu-server-gpus")}), host, {});
  OwnershipLedger ledger({}, nullptr);
  KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(100));
  std::atomic<bool> stop{true};
  ApplyOutcome outcome = execute_plan(plan, executor, 4, &stop);
  BOOST_TEST(outcome.interrupted);
  BOOST_TEST(outcome.count(GroupResult::NotStarted) == 8u);
  BOOST_TEST(kernel.writes().empty());
}

BOOST_AUTO_TEST_CASE(a_stop_request_mid_group_lets_that_group_finish_and_starts_no_other) {
  sim::KernelSimulator kernel(test::example_host("gpu-server"));
  kernel.set_probe_latency(std::chrono::milliseconds(150));
  HostSnapshot host = observe(kernel, ObserveDetail::Planning);
  Plan plan =
      make_plan(load_manifests(test::disk(), {example_manifest("gpu-server-gpus")}), host, {});
  OwnershipLedger ledger({}, nullptr);
  KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(2000));
  std::atomic<bool> stop{false};
  // SIGINT arrives while the first group's probe is in progress.
  std::thread signal([&] {
    while (kernel.writes().size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stop = true;
  });
  ApplyOutcome outcome = execute_plan(plan, executor, 1, &stop);
  signal.join();
  BOOST_TEST(outcome.interrupted);
  BOOST_TEST(outcome.count(GroupResult::Claimed) == 1u, group_failed(outcome));
  BOOST_TEST(outcome.count(GroupResult::NotStarted) == 7u);
  for (const auto& g : outcome.groups) {
    if (g.result == GroupResult::Claimed) BOOST_TEST(kernel.group_viable(*g.change->group));
  }
  BOOST_TEST(kernel.writes().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_hung_unbind_fails_its_group_without_stalling_the_others) {
  sim::KernelSimulator kernel(test::example_host("gpu-server"));
  kernel.set_write_timeout(std::chrono::milliseconds(200));
  // nvidia's remove() of whichever GPU comes first sleeps far longer than the run may wait.
  kernel.block_write(paths::pci_driver_file("nvidia", "unbind"), 1,
                     std::chrono::milliseconds(1500));
  OwnershipLedger ledger({}, nullptr);
  auto applied = apply_manifest(kernel, example_manifest("gpu-server-gpus"), ledger,
                                std::chrono::milliseconds(300), 4);
  BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == 5u, group_failed(applied->outcome));
  BOOST_TEST(applied->outcome.count(GroupResult::Failed) == 1u);
  for (const auto& g : applied->outcome.groups) {
    if (g.result != GroupResult::Failed) continue;
    BOOST_TEST(contains(g.failure->message, "'" + g.failure->device.str() + "'"),
               g.failure->message);
    BOOST_TEST(g.failure->step == "unbind from nvidia");
    BOOST_TEST(contains(g.failure->message, "/sys/bus/pci/drivers/nvidia/unbind"),
               g.failure->message);
    BOOST_TEST(contains(g.failure->message, "ETIMEDOUT"), g.failure->message);
    BOOST_REQUIRE(g.problems.size() == 1u);
    BOOST_TEST(contains(g.problems.front(), "left alone"), g.problems.front());
    // Still recorded as in flight, with its original driver, for the next run to settle.
    BOOST_TEST(ledger.find(*g.change->group)->in_flight);
  }
}

BOOST_AUTO_TEST_CASE(a_group_someone_else_bound_since_the_plan_is_adopted_not_claimed) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  HostSnapshot host = observe(kernel, ObserveDetail::Planning);
  Plan plan =
      make_plan(load_manifests(test::disk(), {example_manifest("workstation-gpu")}), host, {});
  for (const auto& [device, driver] : {std::pair{kGpu, "nvidia"}, {kGpuAudio, "snd_hda_intel"}}) {
    BOOST_REQUIRE(kernel.write(paths::pci_device_file(device, "driver_override"), "vfio-pci"));
    BOOST_REQUIRE(kernel.write(paths::pci_driver_file(driver, "unbind"), device.str()));
    BOOST_REQUIRE(kernel.write(paths::drivers_probe(), device.str()));
  }
  const std::size_t writes = kernel.writes().size();
  OwnershipLedger ledger({}, nullptr);
  KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(100));
  ApplyOutcome outcome = execute_plan(plan, executor, 1);
  BOOST_TEST(outcome.groups.front().result == GroupResult::Adopted);
  BOOST_TEST(kernel.writes().size() == writes);
  BOOST_TEST((ledger.find(1)->how == OwnedGroup::How::Adopted));
}
