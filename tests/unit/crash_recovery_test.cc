#define BOOST_TEST_MODULE crash_recovery
#include <boost/test/unit_test.hpp>

#include "apply/ownership_journal.h"
#include "apply/state_dir.h"
#include "apply_support.h"
#include "sim/memory_store.h"

// The crash matrices: the run dies right after kernel write K, for every K of an apply (with
// one job and with four); then it runs again. Every group must end fully claimed, with the
// originals the first run recorded, no stale override anywhere, and nothing another owner bound
// touched. A crash freezes the simulated kernel and the state directory in one instant (no
// exception unwinds through the code under test), so a run with several groups in flight dies
// as a process does. And the power cut: the machine loses power right after any change to the
// state directory; the next boot must read whatever is left as a record of another boot, never
// as a corrupt file.

using namespace vfio;
using test::example_manifest;

namespace {

using Host = test::SimHost;
const test::fs::path kState = test::SimHost::kState;

// How many kernel writes, and changes to the state directory, a clean run of `manifest` makes.
struct Counts {
  unsigned writes = 0;
  unsigned changes = 0;
};
Counts clean_run(const std::string& host, const std::string& manifest, unsigned jobs = 1) {
  Host clean(host);
  const unsigned changes_before = clean.store.changes();
  auto applied = clean.apply(manifest, jobs);
  BOOST_TEST_REQUIRE(!applied->outcome.any_failure());
  return {static_cast<unsigned>(clean.kernel->writes().size()),
          clean.store.changes() - changes_before};
}

bool touches(const sim::KernelSimulator& kernel, const PciAddress& address) {
  for (const auto& w : kernel.writes()) {
    if (w.value == address.str() || test::contains(w.path.str(), address.str())) return true;
  }
  return false;
}

// Every claimed group whole on vfio-pci, nothing written to the GPUs another owner bound, every
// group recorded with nvidia as the original, and nothing left to do.
void check_gpu_server_claimed(Host& host, const test::Applied& run, const std::string& manifest) {
  sim::KernelSimulator& kernel = *host.kernel;
  BOOST_TEST(!run.outcome.any_failure(), test::group_failed(run.outcome));
  for (const auto& g : run.plan.changes) {
    BOOST_TEST(kernel.group_viable(*g.group));
    for (const auto& d : g.devices) {
      BOOST_TEST(kernel.driver_of(d.address).value_or("-") == "vfio-pci");
    }
  }
  for (const PciAddress other : {PciAddress{0, 0x86, 0, 0}, PciAddress{0, 0x87, 0, 0}}) {
    BOOST_TEST(!touches(kernel, other));
  }
  for (const auto& [group, entry] : host.record().record.groups) {
    BOOST_TEST(!entry.in_flight);
    for (const auto& d : entry.devices) BOOST_TEST(d.original_driver.value_or("-") == "nvidia");
  }
  const std::size_t before = kernel.writes().size();
  host.apply(manifest);
  BOOST_TEST(kernel.writes().size() == before);
}

const char* const kReleaseGpu0 =
    "version: 1\nassignments:\n"
    "  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" } }\n";

}  // namespace

BOOST_AUTO_TEST_CASE(a_crash_after_any_write_of_eight_groups_is_finished_by_the_next_run) {
  const std::string manifest = example_manifest("gpu-server-gpus");
  for (const unsigned jobs : {1u, 4u}) {
    const unsigned writes = clean_run("gpu-server", manifest, jobs).writes;
    BOOST_TEST_REQUIRE(writes > 0u);
    for (unsigned k = 1; k <= writes; ++k) {
      BOOST_TEST_CONTEXT(jobs << " jobs, crash after write " << k) {
        Host host("gpu-server");
        host.apply_crashing_after_write(k, manifest, jobs);
        auto again = host.apply(manifest, jobs);
        BOOST_TEST(host.problems.empty());
        check_gpu_server_claimed(host, *again, manifest);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_inside_a_multifunction_group_keeps_the_originals_for_the_release) {
  const std::string claim = example_manifest("workstation-gpu");
  test::ScratchFile release(kReleaseGpu0, "manifest.yaml");
  const PciAddress gpu{0, 1, 0, 0}, audio{0, 1, 0, 1};
  const unsigned writes = clean_run("workstation", claim).writes;
  for (unsigned k = 1; k <= writes; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      Host host("workstation");
      host.apply_crashing_after_write(k, claim);
      // The record written before the first write says what each device had.
      LoadedRecord mid = host.record();
      BOOST_REQUIRE(mid.record.find(1));
      BOOST_TEST(mid.record.find(1)->in_flight);

      auto finished = host.apply(claim);
      BOOST_TEST(!finished->outcome.any_failure());
      BOOST_TEST(host.kernel->group_viable(1));

      // Releasing goes back to the drivers from before the crashed run, not to vfio-pci.
      auto released = host.apply(release.path());
      BOOST_TEST(released->outcome.count(GroupResult::Released) == 1u);
      BOOST_TEST(host.kernel->driver_of(gpu).value_or("-") == "nvidia");
      BOOST_TEST(host.kernel->driver_of(audio).value_or("-") == "snd_hda_intel");
      BOOST_TEST(!host.kernel->override_of(gpu));
      BOOST_TEST(!host.kernel->override_of(audio));
      BOOST_TEST(host.record().record.groups.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_then_a_manifest_without_the_group_releases_it_to_the_originals) {
  const std::string claim = example_manifest("workstation-gpu");
  test::ScratchFile elsewhere(
      "version: 1\nassignments:\n"
      "  - { name: usb, state: host, match: { address: \"0000:00:14.0\" } }\n",
      "manifest.yaml");
  const unsigned writes = clean_run("workstation", claim).writes;
  for (unsigned k = 1; k <= writes; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      Host host("workstation");
      const auto before = test::bindings(*host.kernel);
      host.apply_crashing_after_write(k, claim);
      // The in-flight group is this tool's: no manifest names it now, so it is pruned.
      auto pruned = host.apply(elsewhere.path());
      BOOST_TEST(!pruned->outcome.any_failure());
      BOOST_TEST(test::bindings(*host.kernel) == before);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_then_a_failing_rerun_puts_the_whole_group_back_as_before_both_runs) {
  const std::string claim = example_manifest("workstation-gpu");
  // The last write is the audio function's probe: a crash after it leaves the claim complete,
  // and a rerun has nothing to probe.
  const unsigned writes = clean_run("workstation", claim).writes;
  for (unsigned k = 1; k < writes; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      Host host("workstation");
      const auto before = test::bindings(*host.kernel);
      host.apply_crashing_after_write(k, claim);
      // The next run's probe of the audio function fails: the devices the crashed run moved are
      // part of the same unfinished transaction and go back to what they had before it.
      host.kernel->fail_write(paths::drivers_probe(), 2, EIO);  // the audio function's
      auto rerun = host.apply(claim);
      BOOST_TEST(rerun->outcome.count(GroupResult::RolledBack) == 1u);
      BOOST_TEST(test::bindings(*host.kernel) == before);
      BOOST_TEST(host.record().record.groups.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_crash_after_any_write_of_a_release_is_finished_by_the_next_run) {
  const std::string claim = example_manifest("workstation-gpu");
  test::ScratchFile release(kReleaseGpu0, "manifest.yaml");
  const unsigned claim_writes = clean_run("workstation", claim).writes;
  unsigned release_writes = 0;
  {
    Host clean("workstation");
    clean.apply(claim);
    clean.apply(release.path());
    release_writes = static_cast<unsigned>(clean.kernel->writes().size()) - claim_writes;
  }
  const auto host_drivers = test::bindings(sim::KernelSimulator(test::example_host("workstation")));

  for (unsigned k = 1; k <= release_writes; ++k) {
    BOOST_TEST_CONTEXT("crash after release write " << k) {
      Host host("workstation");
      host.apply(claim);
      BOOST_REQUIRE(host.kernel->writes().size() == claim_writes);
      host.apply_crashing_after_write(claim_writes + k, release.path());

      // A function the crash left without a driver still goes back to its recorded driver.
      auto again = host.apply(release.path());
      BOOST_TEST(!again->outcome.any_failure());
      BOOST_TEST(test::bindings(*host.kernel) == host_drivers);
      BOOST_TEST(host.kernel->vfio_group_nodes().empty());
      BOOST_TEST(host.record().record.groups.empty());
      const std::size_t before = host.kernel->writes().size();
      host.apply(release.path());
      BOOST_TEST(host.kernel->writes().size() == before);
    }
  }
}

// A power cut loses what was not synced. Right after each change to the state directory of a
// four-job claim of eight groups, the power goes; the machine boots again (devices as at boot, a
// new boot id). Whatever the record file holds then is a whole record, of the old boot: read,
// reported as another boot's, kept aside, and the claim is made anew. A record renamed into
// place before its data was synced would be read back empty, and reported corrupt.
BOOST_AUTO_TEST_CASE(
    a_power_cut_after_any_change_to_the_state_leaves_a_record_the_next_boot_reads) {
  const std::string manifest = example_manifest("gpu-server-gpus");
  const unsigned changes = clean_run("gpu-server", manifest, 4).changes;
  BOOST_TEST_REQUIRE(changes > 0u);
  for (unsigned c = 1; c <= changes; ++c) {
    BOOST_TEST_CONTEXT("power cut after change " << c) {
      Host host("gpu-server");
      host.store.crash_after_change(host.store.changes() + c, [&] { host.kernel->freeze(); });
      host.apply(manifest, 4);
      BOOST_TEST_REQUIRE(host.store.frozen());
      host.store.power_cut();
      host.reboot();

      auto next_boot = host.apply(manifest, 4, "next-boot");
      for (const auto& problem : host.problems) {
        BOOST_TEST(test::contains(problem, "written during another boot"), problem);
      }
      BOOST_TEST(!next_boot->outcome.any_failure(), test::group_failed(next_boot->outcome));
      BOOST_TEST(next_boot->outcome.count(GroupResult::Claimed) == 6u);
      BOOST_TEST(OwnershipJournal(host.store, kState, "next-boot").load().problems.empty());
    }
  }
}
