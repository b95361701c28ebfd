// `vfio-reconcile owners`: what each owner holds, from the ownership record, with each group's
// devices as they are now; narrowed to the owners named; an error, not an empty list, when the
// record cannot be read.
#define BOOST_TEST_MODULE owners_command
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/run.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/memory_store.h"
#include "test_support.h"

using namespace vfio;
using test::contains;
using test::Ran;

namespace {

// gpu-server: GPU4 (group 14) and GPU5 (group 16) are on vfio-pci.
const std::string kRecord =
    R"({"format_version": 2, "boot_id": "owners-test", "groups": [)"
    R"({"group": 14, "how": "bound", "owner": "boot", "assignment": "gpu4", "in_flight": false,)"
    R"( "devices": [{"address": "0000:86:00.0", "original_driver": "nvidia",)"
    R"( "original_override": null}]},)"
    R"({"group": 16, "how": "adopted", "owner": "sandbox-7", "assignment": "gpu5",)"
    R"( "in_flight": true, "devices": []}]})";

struct Host {
  Host() : kernel(test::example_host("gpu-server")) { store.put("/state/ownership.json", kRecord); }
  Ran owners(std::vector<std::string> args) {
    std::vector<std::string> all{"--state-dir", "/state", "owners"};
    all.insert(all.end(), args.begin(), args.end());
    cli::Context context;
    context.sysfs = &kernel;
    context.store = &store;
    context.boot_id = "owners-test";
    return test::run_cli(all, context);
  }
  sim::KernelSimulator kernel;
  sim::MemoryStore store;
};

}  // namespace

BOOST_AUTO_TEST_CASE(lists_each_owners_groups_with_their_devices_now) {
  Host host;
  Ran all = host.owners({});
  BOOST_TEST(all.code == cli::kExitOk, all.err);
  BOOST_TEST(contains(all.out,
                      "Owner boot: 1 group\n  IOMMU group 14: bound for gpu4\n"
                      "    0000:86:00.0  [10de:2331]  vfio-pci  "),
             all.out);
  BOOST_TEST(contains(all.out,
                      "Owner sandbox-7: 1 group\n  IOMMU group 16: adopted for gpu5 (a "
                      "run stopped in the middle of it"),
             all.out);
  BOOST_TEST(host.kernel.writes().empty());

  Ran one = host.owners({"sandbox-7", "sandbox-9"});
  BOOST_TEST(!contains(one.out, "Owner boot"), one.out);
  BOOST_TEST(contains(one.out, "Owner sandbox-9: 0 groups\n"), one.out);

  Ran json = host.owners({"--json", "boot"});
  const auto j = nlohmann::json::parse(json.out);
  BOOST_TEST(j["format_version"] == "1.0");
  BOOST_TEST_REQUIRE(j["owners"].size() == 1u);
  BOOST_TEST(j["owners"][0]["owner"] == "boot");
  const auto& group = j["owners"][0]["groups"][0];
  BOOST_TEST(group["group"] == 14);
  BOOST_TEST(group["how"] == "bound");
  BOOST_TEST(group["assignment"] == "gpu4");
  BOOST_TEST(group["in_flight"] == false);
  BOOST_TEST(group["devices"][0]["address"] == "0000:86:00.0");
  BOOST_TEST(group["devices"][0]["driver"] == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(nothing_held_is_said_and_a_bad_owner_name_is_a_usage_error) {
  Host host;
  host.store.put("/state/ownership.json",
                 R"({"format_version": 2, "boot_id": "owners-test", "groups": []})");
  Ran none = host.owners({});
  BOOST_TEST(none.code == cli::kExitOk);
  BOOST_TEST(none.out == "No owner holds any IOMMU group.\n");
  Ran bad = host.owners({"Boot"});
  BOOST_TEST(bad.code == cli::kExitUsage);
  BOOST_TEST(contains(bad.err, "invalid owner name 'Boot'"), bad.err);
}

// A record that cannot be read is not an empty one: listing nothing would say nobody holds
// anything.
BOOST_AUTO_TEST_CASE(an_unreadable_record_is_an_error_not_an_empty_list) {
  Host host;
  host.store.fail(IoError::Op::Read, "ownership.json", EACCES);
  Ran denied = host.owners({});
  BOOST_TEST(denied.code == cli::kExitNotPermitted);
  BOOST_TEST(denied.out.empty());
  BOOST_TEST(contains(denied.err, "run as root"), denied.err);
  Host broken;
  broken.store.fail(IoError::Op::Read, "ownership.json", EIO);
  BOOST_TEST(broken.owners({}).code == cli::kExitApplyFailed);
}
