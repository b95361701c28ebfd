// The crash matrix with two owners applying in turn (examples/vm-manager on the workstation):
// boot claims the GPU, sandbox-7 its scratch drive, sandbox-8 asks for the GPU (refused),
// sandbox-7 is destroyed. The run that makes write K dies right after it; then another owner
// runs first (the most adversarial one: for boot's GPU, sandbox-8 asking for that very group),
// then the crashed owner runs again, then the rest. Every group must end held by exactly one
// owner, claimed whole or as it was before, and no owner's run may write to another's group.
#define BOOST_TEST_MODULE crash_owners
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "apply_support.h"

using namespace vfio;

namespace {

using Host = test::SimHost;

struct Turn {
  std::string owner;
  std::string manifest;
};

std::string vm(const std::string& name) {
  return (test::source_dir() / "examples/vm-manager" / (name + ".yaml")).string();
}

const std::vector<Turn> kTurns = {{"boot", vm("boot")},
                                  {"sandbox-7", vm("sandbox-7")},
                                  {"sandbox-8", vm("sandbox-8")},
                                  {"sandbox-7", vm("sandbox-7-destroyed")}};

// The other owner's run after a crash of `owner`'s: it must leave the crashed owner's groups be.
std::string other_owners_run(const std::string& owner) {
  return owner == "boot" ? vm("sandbox-8") : vm("boot");
}

const PciAddress kGpu{0, 1, 0, 0}, kAudio{0, 1, 0, 1}, kDrive{0, 2, 0, 0};

// The devices each owner's groups hold on the workstation.
std::set<PciAddress> devices_of(const std::string& owner) {
  if (owner == "boot") return {kGpu, kAudio};
  if (owner == "sandbox-7") return {kDrive};
  return {};
}

bool writes_to(const std::vector<sim::WriteRecord>& writes, std::size_t from,
               const std::set<PciAddress>& devices) {
  for (std::size_t i = from; i < writes.size(); ++i) {
    for (const auto& d : devices) {
      if (writes[i].value == d.str() || test::contains(writes[i].path.str(), d.str())) return true;
    }
  }
  return false;
}

// As the clean sequence ends: boot holds the GPU and its audio, whole on vfio-pci, with their
// drivers of before recorded; the drive is back on nvme and nobody holds it.
void check_converged(Host& host) {
  sim::KernelSimulator& kernel = *host.kernel;
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.driver_of(kAudio).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.group_viable(1));
  BOOST_TEST(kernel.driver_of(kDrive).value_or("-") == "nvme");
  BOOST_TEST(!kernel.override_of(kDrive));
  const LoadedRecord loaded = host.record();
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST_REQUIRE(loaded.record.groups.size() == 1u);
  const OwnedGroup* gpu = loaded.record.find(1);
  BOOST_TEST_REQUIRE(gpu != nullptr);
  BOOST_TEST(gpu->owner == "boot");
  BOOST_TEST(!gpu->in_flight);
  BOOST_TEST(gpu->find(kGpu)->original_driver.value_or("-") == "nvidia");
  BOOST_TEST(gpu->find(kAudio)->original_driver.value_or("-") == "snd_hda_intel");
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_owners_in_turn_converge_after_a_crash_at_any_write) {
  unsigned total = 0;
  {
    Host clean("workstation");
    for (const auto& turn : kTurns) clean.apply(turn.manifest);
    check_converged(clean);
    total = static_cast<unsigned>(clean.kernel->writes().size());
  }
  BOOST_TEST_REQUIRE(total == 12u);  // 6 to claim the GPU group, 3 to claim the drive, 3 back
  for (unsigned k = 1; k <= total; ++k) {
    BOOST_TEST_CONTEXT("crash after write " << k) {
      Host host("workstation");
      host.kernel->crash_after_write(k, [&host] { host.store.freeze(); });
      bool crashed = false;
      for (const auto& turn : kTurns) {
        host.apply(turn.manifest);
        if (crashed || !host.kernel->frozen()) continue;
        crashed = true;
        host.kernel->thaw();
        host.store.thaw();
        BOOST_TEST_CONTEXT("the crashed run was " << turn.owner << "'s") {
          const std::size_t before = host.kernel->writes().size();
          auto other = host.apply(other_owners_run(turn.owner));
          BOOST_TEST(!writes_to(host.kernel->writes(), before, devices_of(turn.owner)));
          BOOST_TEST(!other->outcome.any_failure(), test::group_failed(other->outcome));
          // The crashed owner's own next run finishes (or undoes) what it began.
          auto again = host.apply(turn.manifest);
          BOOST_TEST(!again->outcome.any_failure(), test::group_failed(again->outcome));
          BOOST_TEST(host.problems.empty());
        }
      }
      BOOST_TEST_REQUIRE(crashed);
      check_converged(host);
      // Converged: boot's and the destroyed sandbox's runs find nothing to write.
      const std::size_t before = host.kernel->writes().size();
      host.apply(vm("boot"));
      host.apply(vm("sandbox-7-destroyed"));
      BOOST_TEST(host.kernel->writes().size() == before);
    }
  }
}
