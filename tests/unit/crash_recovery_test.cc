#define BOOST_TEST_MODULE crash_recovery
#include <boost/test/unit_test.hpp>

#include "apply/ownership_journal.h"
#include "apply_support.h"

// The crash matrix: the run dies right after write K, for every K of a multi-group apply; then
// it runs again. Every group must end fully claimed, with the originals the first run recorded,
// no stale override anywhere, and nothing another owner bound touched.

using namespace vfio;
using test::apply_manifest;
using test::example_manifest;

namespace {

constexpr const char* kBoot = "crash-test-boot";

std::unique_ptr<test::Applied> apply_with_journal(sim::KernelSimulator& kernel,
                                                  const test::fs::path& state,
                                                  const std::string& manifest, unsigned jobs) {
  OwnershipJournal journal(test::disk(), state, kBoot);
  LoadedRecord loaded = journal.load();
  BOOST_TEST(loaded.problems.empty());
  OwnershipLedger ledger(loaded.record, &journal);
  return apply_manifest(kernel, manifest, ledger, std::chrono::milliseconds(300), jobs);
}

std::size_t clean_write_count(const std::string& host, const std::string& manifest) {
  sim::KernelSimulator kernel(test::example_host(host));
  test::ScratchDir state;
  apply_with_journal(kernel, state.path(), manifest, 1);
  return kernel.writes().size();
}

bool touches(const sim::KernelSimulator& kernel, const PciAddress& address) {
  for (const auto& w : kernel.writes()) {
    if (w.value == address.str() || test::contains(w.path.str(), address.str())) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_crash_after_any_write_of_eight_groups_is_finished_by_the_next_run) {
  const std::string manifest = example_manifest("gpu-server-gpus");
  const std::size_t writes = clean_write_count("gpu-server", manifest);
  BOOST_REQUIRE(writes == 18u);
  const PciAddress others[] = {PciAddress{0, 0x86, 0, 0}, PciAddress{0, 0x87, 0, 0}};

  for (unsigned k = 1; k <= writes; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      sim::KernelSimulator kernel(test::example_host("gpu-server"));
      test::ScratchDir state;
      kernel.crash_after_write(k);
      BOOST_CHECK_THROW(apply_with_journal(kernel, state.path(), manifest, 1), sim::SimulatedCrash);

      auto again = apply_with_journal(kernel, state.path(), manifest, 1);
      BOOST_TEST(!again->outcome.any_failure());
      for (const auto& g : again->plan.changes) {
        BOOST_TEST(kernel.group_viable(*g.group));
        for (const auto& d : g.devices) {
          BOOST_TEST(kernel.driver_of(d.address).value_or("-") == "vfio-pci");
        }
      }
      // The two GPUs another owner bound were adopted, never written to.
      for (const auto& other : others) BOOST_TEST(!touches(kernel, other));
      // Every claimed group records nvidia as the original, even the one the crash cut short.
      LoadedRecord record = OwnershipJournal(test::disk(), state.path(), kBoot).load();
      for (const auto& [group, entry] : record.record.groups) {
        BOOST_TEST(!entry.in_flight);
        for (const auto& d : entry.devices) BOOST_TEST(d.original_driver.value_or("-") == "nvidia");
      }
      // A third run has nothing to do.
      const std::size_t before = kernel.writes().size();
      apply_with_journal(kernel, state.path(), manifest, 1);
      BOOST_TEST(kernel.writes().size() == before);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_inside_a_multifunction_group_keeps_the_originals_for_the_release) {
  const std::string claim = example_manifest("workstation-gpu");
  const std::size_t writes = clean_write_count("workstation", claim);
  BOOST_REQUIRE(writes == 6u);
  test::ScratchFile release(
      "version: 1\nassignments:\n"
      "  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  const PciAddress gpu{0, 1, 0, 0}, audio{0, 1, 0, 1};

  for (unsigned k = 1; k <= writes; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      test::ScratchDir state;
      kernel.crash_after_write(k);
      BOOST_CHECK_THROW(apply_with_journal(kernel, state.path(), claim, 1), sim::SimulatedCrash);
      // The record written before the first write says what each device had.
      LoadedRecord mid = OwnershipJournal(test::disk(), state.path(), kBoot).load();
      BOOST_REQUIRE(mid.record.find(1));
      BOOST_TEST(mid.record.find(1)->in_flight);

      auto finished = apply_with_journal(kernel, state.path(), claim, 1);
      BOOST_TEST(!finished->outcome.any_failure());
      BOOST_TEST(kernel.group_viable(1));

      // Releasing goes back to the drivers from before the crashed run, not to vfio-pci.
      auto released = apply_with_journal(kernel, state.path(), release.path(), 1);
      BOOST_TEST(released->outcome.count(GroupResult::Released) == 1u);
      BOOST_TEST(kernel.driver_of(gpu).value_or("-") == "nvidia");
      BOOST_TEST(kernel.driver_of(audio).value_or("-") == "snd_hda_intel");
      BOOST_TEST(!kernel.override_of(gpu));
      BOOST_TEST(!kernel.override_of(audio));
      BOOST_TEST(OwnershipJournal(test::disk(), state.path(), kBoot).load().record.groups.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_then_a_manifest_without_the_group_releases_it_to_the_originals) {
  const std::string claim = example_manifest("workstation-gpu");
  test::ScratchFile elsewhere(
      "version: 1\nassignments:\n"
      "  - { name: usb, state: host, match: { address: \"0000:00:14.0\" } }\n",
      "manifest.yaml");
  for (unsigned k = 1; k <= 6; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      const auto before = test::bindings(kernel);
      test::ScratchDir state;
      kernel.crash_after_write(k);
      BOOST_CHECK_THROW(apply_with_journal(kernel, state.path(), claim, 1), sim::SimulatedCrash);
      // The in-flight group is this tool's: no manifest names it now, so it is pruned.
      auto pruned = apply_with_journal(kernel, state.path(), elsewhere.path(), 1);
      BOOST_TEST(!pruned->outcome.any_failure());
      BOOST_TEST(test::bindings(kernel) == before);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_then_a_failing_rerun_puts_the_whole_group_back_as_before_both_runs) {
  const std::string claim = example_manifest("workstation-gpu");
  for (unsigned k = 1; k <= 5; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      const auto before = test::bindings(kernel);
      test::ScratchDir state;
      kernel.crash_after_write(k);
      BOOST_CHECK_THROW(apply_with_journal(kernel, state.path(), claim, 1), sim::SimulatedCrash);
      // The next run's probe of the audio function fails: the devices the crashed run moved are
      // part of the same unfinished transaction and go back to what they had before it.
      kernel.fail_write(paths::drivers_probe(), 2, EIO);  // the audio function's, in either run
      auto rerun = apply_with_journal(kernel, state.path(), claim, 1);
      BOOST_TEST(rerun->outcome.count(GroupResult::RolledBack) == 1u);
      BOOST_TEST(test::bindings(kernel) == before);
      BOOST_TEST(OwnershipJournal(test::disk(), state.path(), kBoot).load().record.groups.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_after_any_write_of_a_release_is_finished_by_the_next_run) {
  const std::string claim = example_manifest("workstation-gpu");
  const std::size_t claim_writes = clean_write_count("workstation", claim);
  test::ScratchFile release(
      "version: 1\nassignments:\n"
      "  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  const auto host_drivers = test::bindings(sim::KernelSimulator(test::example_host("workstation")));

  // Unbind, clear the override, probe: for each of the two functions.
  for (unsigned k = 1; k <= 6; ++k) {
    BOOST_TEST_CONTEXT("crash after release write " << k) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      test::ScratchDir state;
      apply_with_journal(kernel, state.path(), claim, 1);
      BOOST_REQUIRE(kernel.writes().size() == claim_writes);
      kernel.crash_after_write(static_cast<unsigned>(claim_writes) + k);
      BOOST_CHECK_THROW(apply_with_journal(kernel, state.path(), release.path(), 1),
                        sim::SimulatedCrash);

      // A function the crash left without a driver still goes back to its recorded driver.
      auto again = apply_with_journal(kernel, state.path(), release.path(), 1);
      BOOST_TEST(!again->outcome.any_failure());
      BOOST_TEST(test::bindings(kernel) == host_drivers);
      BOOST_TEST(kernel.vfio_group_nodes().empty());
      BOOST_TEST(OwnershipJournal(test::disk(), state.path(), kBoot).load().record.groups.empty());
      const std::size_t before = kernel.writes().size();
      apply_with_journal(kernel, state.path(), release.path(), 1);
      BOOST_TEST(kernel.writes().size() == before);
    }
  }
}
