#define BOOST_TEST_MODULE hung_write
#include <boost/test/unit_test.hpp>

#include "apply_support.h"

// A sysfs write that does not return (a driver stuck in remove(), a device held by a VM), at
// every write of a claim and of a release. The run may not wait for it: the caller's write
// timeout ends the wait, the group fails naming the device, path and ETIMEDOUT, the rest of the
// group goes back to exactly what it had, the stuck device is left alone (touching it would
// block too) and stays recorded in flight. Once the write has returned, the next run settles
// the group from that record: it finishes the claim, or puts back exactly what was there.

using namespace vfio;
using test::apply_manifest;
using test::bindings;
using test::contains;
using test::example_manifest;
using test::group_failed;

namespace {

constexpr auto kWriteTimeout = std::chrono::milliseconds(50);
constexpr auto kHang = std::chrono::milliseconds(250);
constexpr auto kProbeTimeout = std::chrono::milliseconds(300);

const std::string kNothingAssigned = "version: 1\nassignments: []\n";
const std::string kWorkstationToHost =
    "version: 1\nassignments:\n  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" "
    "} }\n";

using Hang = test::NumberedWrite;

// The one group the hang failed: named as it must be, the rest of it as before, and still
// recorded in flight with the stuck device's original binding.
const GroupOutcome& check_failed_group(
    const ApplyOutcome& outcome, const Hang& hang,
    const std::map<std::string, std::pair<std::string, std::string>>& before,
    const sim::KernelSimulator& kernel, const OwnershipLedger& ledger) {
  const GroupOutcome* failed = nullptr;
  for (const auto& g : outcome.groups) {
    if (is_failure(g.result)) {
      BOOST_TEST(!failed, "a second group failed: " << group_failed(outcome));
      failed = &g;
    }
  }
  BOOST_REQUIRE(failed);
  const GroupOutcome& g = *failed;
  BOOST_TEST((g.result == GroupResult::Failed));
  BOOST_REQUIRE(g.failure);
  BOOST_TEST(g.failure->device == *hang.device);
  BOOST_TEST(g.failure->error == ETIMEDOUT);
  BOOST_TEST(contains(g.failure->message, "/sys/" + hang.path.str()), g.failure->message);
  BOOST_TEST(contains(g.failure->message, hang.device->str()), g.failure->message);
  BOOST_TEST(contains(g.failure->message, "ETIMEDOUT"), g.failure->message);
  bool told = false;
  for (const auto& p : g.problems)
    told = told || (contains(p, hang.device->str() + ": left alone"));
  BOOST_TEST(told, "no problem line says the stuck device was left alone");

  for (const auto& d : g.change->devices) {
    if (d.address == *hang.device) continue;
    const auto was = before.at(d.address.str());
    BOOST_TEST(kernel.driver_of(d.address).value_or("-") == was.first, d.address);
    BOOST_TEST(kernel.override_of(d.address).value_or("(null)") == was.second, d.address);
  }
  const auto entry = ledger.find(*g.change->group);
  BOOST_REQUIRE(entry);
  BOOST_TEST(entry->in_flight);
  return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_hung_write_anywhere_in_a_claim_fails_only_its_group_and_is_settled_later) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"gpu-server", "gpu-server-gpus"},    // 6 singleton groups: the others go on
      {"workstation", "workstation-gpu"}};  // 2 endpoints: the other one goes back
  test::ScratchFile nothing(kNothingAssigned, "nothing.yaml");
  for (const auto& [host, example] : cases) {
    const std::string manifest = example_manifest(example);
    const auto hangs = test::clean_run_writes(host, manifest, [](auto&, auto&) {});
    BOOST_TEST_REQUIRE(!hangs.empty());
    std::size_t claims = 0;
    {
      sim::KernelSimulator clean(test::example_host(host));
      OwnershipLedger ledger({}, nullptr);
      claims = apply_manifest(clean, manifest, ledger)->outcome.count(GroupResult::Claimed);
    }
    for (const auto& hang : hangs) {
      BOOST_TEST_CONTEXT(host << ": write " << hang.nth << " to " << hang.path.str() << " (for "
                              << *hang.device << ") hangs") {
        sim::KernelSimulator kernel(test::example_host(host));
        const auto before = bindings(kernel);
        kernel.set_write_timeout(kWriteTimeout);
        kernel.block_write(hang.path, hang.nth, kHang);
        OwnershipLedger ledger({}, nullptr);
        auto applied = apply_manifest(kernel, manifest, ledger, kProbeTimeout, 1);
        BOOST_TEST(applied->outcome.count(GroupResult::Claimed) == claims - 1);
        const GroupOutcome& g = check_failed_group(applied->outcome, hang, before, kernel, ledger);
        const unsigned group = *g.change->group;
        const auto in_flight = ledger.find(group);
        BOOST_REQUIRE(in_flight->find(*hang.device));
        BOOST_TEST(in_flight->find(*hang.device)->original_driver.value_or("-") ==
                   before.at(hang.device->str()).first);

        // The write returns at last; the next run finishes the claim from the record...
        kernel.wait_for_blocked_writes();
        auto again = apply_manifest(kernel, manifest, ledger, kProbeTimeout, 1);
        BOOST_TEST(!again->outcome.any_failure(), group_failed(again->outcome));
        BOOST_TEST(kernel.group_viable(group));
        const auto settled = ledger.find(group);
        BOOST_TEST(!settled->in_flight);
        BOOST_REQUIRE(settled->find(*hang.device));
        BOOST_TEST(settled->find(*hang.device)->original_driver.value_or("-") ==
                   before.at(hang.device->str()).first);
        // ...and a manifest without it puts back exactly what the host had.
        auto pruned = apply_manifest(kernel, nothing.path(), ledger, kProbeTimeout, 1);
        BOOST_TEST(!pruned->outcome.any_failure(), group_failed(pruned->outcome));
        BOOST_TEST(bindings(kernel) == before);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_hung_write_anywhere_in_a_release_leaves_the_rest_on_vfio_pci) {
  test::ScratchFile to_host(kWorkstationToHost, "manifest.yaml");
  const auto claim = [](sim::KernelSimulator& kernel, OwnershipLedger& ledger) {
    apply_manifest(kernel, example_manifest("workstation-gpu"), ledger);
  };
  sim::KernelSimulator untouched(test::example_host("workstation"));
  const auto host_drivers = bindings(untouched);

  const auto hangs = test::clean_run_writes("workstation", to_host.path(), claim);
  BOOST_TEST_REQUIRE(hangs.size() == 6u);
  for (const auto& hang : hangs) {
    BOOST_TEST_CONTEXT("release write " << hang.nth << " to " << hang.path.str() << " (for "
                                        << *hang.device << ") hangs") {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      OwnershipLedger ledger({}, nullptr);
      claim(kernel, ledger);
      const auto claimed = bindings(kernel);
      kernel.set_write_timeout(kWriteTimeout);
      kernel.block_write(hang.path, hang.nth, kHang);
      auto applied = apply_manifest(kernel, to_host.path(), ledger, kProbeTimeout, 1);
      check_failed_group(applied->outcome, hang, claimed, kernel, ledger);

      // Once the write has returned, the next run finishes the release.
      kernel.wait_for_blocked_writes();
      auto again = apply_manifest(kernel, to_host.path(), ledger, kProbeTimeout, 1);
      BOOST_TEST(!again->outcome.any_failure(), group_failed(again->outcome));
      BOOST_TEST(bindings(kernel) == host_drivers);
      BOOST_TEST(kernel.vfio_group_nodes().empty());
      BOOST_TEST(!ledger.find(1));
    }
  }
}
