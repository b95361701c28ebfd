#define BOOST_TEST_MODULE held_group
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "apply/executor.h"
#include "apply_support.h"
#include "observe/observe.h"

// A VFIO group a process (a VM) holds open, met by apply: the plan refuses it (plan_test), but a
// VM can start between plan and apply. The run then writes nothing to that group and goes on
// with the others; and a write that hangs anyway says who holds the device.

using namespace vfio;
using test::contains;

namespace {

using vfio::test::addr;

// The workstation's /proc, with qemu holding IOMMU group `group` (or nobody).
struct Proc {
  explicit Proc(std::optional<unsigned> group) : dir("held-proc") {
    sim::Topology t = test::example_host("workstation");
    if (group) t.host.processes = {{4242, "qemu-system-x86", {*group}, 2, {}, {}}};
    sim::write_proc_tree(t, dir.path());
  }
  test::ScratchDir dir;
  RealSysfs proc{dir.path()};
};

const char* const kGpuToHostAndNvme = R"(version: 1
assignments:
  - { name: gpu0, state: host, match: { address: "0000:01:00.0" } }
  - { name: nvme, state: vfio, match: { address: "0000:02:00.0" } }
)";

// The workstation with its GPU group (1) claimed by this tool.
void claim_gpu(sim::KernelSimulator& kernel, OwnershipLedger& ledger) {
  auto applied = test::apply_manifest(kernel, test::example_manifest("workstation-gpu"), ledger);
  BOOST_REQUIRE(applied->outcome.count(GroupResult::Claimed) == 1u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_group_held_since_the_plan_is_not_written_and_the_rest_goes_on) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  OwnershipLedger ledger({}, nullptr);
  claim_gpu(kernel, ledger);
  test::ScratchFile manifest(kGpuToHostAndNvme, "m.yaml");
  Proc nobody(std::nullopt), qemu(1u);

  // Planned while nobody held group 1 ...
  HostSnapshot host = observe(kernel, ObserveDetail::Planning, &nobody.proc);
  const Plan plan =
      make_plan(load_manifests(test::disk(), {manifest.path()}), host, ledger.record());
  BOOST_REQUIRE(plan.summary().release == 1u);
  BOOST_REQUIRE(plan.summary().claim == 1u);
  // ... applied once qemu has it open.
  const std::size_t before = kernel.writes().size();
  KernelExecutor executor(kernel, ledger, std::chrono::milliseconds(300), &qemu.proc);
  const ApplyOutcome outcome = execute_plan(plan, executor, 2);
  BOOST_TEST(outcome.count(GroupResult::Claimed) == 1u);
  const GroupOutcome* gpu = nullptr;
  for (const auto& g : outcome.groups)
    if (g.change->group == 1u) gpu = &g;
  BOOST_REQUIRE(gpu);
  BOOST_REQUIRE(gpu->failure);
  BOOST_TEST(contains(gpu->failure->message, "now in use by pid 4242 (qemu-system-x86)"),
             gpu->failure->message);
  BOOST_TEST(contains(gpu->failure->message, "nothing was written"), gpu->failure->message);
  for (std::size_t k = before; k < kernel.writes().size(); ++k) {
    const auto device = kernel.writes()[k].device();
    BOOST_TEST((device && *device == addr("0000:02:00.0")), kernel.writes()[k].path.str());
  }
  BOOST_TEST(kernel.driver_of(addr("0000:01:00.0")).value_or("-") == "vfio-pci");
  // The record still says the group is ours: a later run releases it once the VM is gone.
  BOOST_TEST(ledger.find(1).has_value());
}

BOOST_AUTO_TEST_CASE(a_write_that_hangs_names_the_process_holding_the_device) {
  for (const bool held : {true, false}) {
    BOOST_TEST_CONTEXT((held ? "held by qemu" : "held by nobody")) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      OwnershipLedger ledger({}, nullptr);
      claim_gpu(kernel, ledger);
      Proc proc(held ? std::optional<unsigned>(1u) : std::nullopt);
      kernel.set_write_timeout(std::chrono::milliseconds(30));
      kernel.block_write(paths::pci_driver_file("vfio-pci", "unbind"), 1,
                         std::chrono::milliseconds(400));
      DeviceSteps steps(kernel, std::chrono::milliseconds(300), &proc.proc);
      const auto gpu = addr("0000:01:00.0");
      const auto failure = steps.release(gpu, *read_binding(kernel, gpu), "nvidia", false);
      BOOST_REQUIRE(failure);
      BOOST_TEST(failure->error == ETIMEDOUT);
      BOOST_TEST(steps.stuck(gpu));
      if (held) {
        BOOST_TEST(contains(failure->message, "held by pid 4242 (qemu-system-x86) (/dev/vfio/1)"),
                   failure->message);
      } else {
        BOOST_TEST(contains(failure->message, "no process holds /dev/vfio/1"), failure->message);
      }
      kernel.wait_for_blocked_writes();
    }
  }
}
