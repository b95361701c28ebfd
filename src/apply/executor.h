// Executors: what carries out a plan's changes. `apply` uses the KernelExecutor; `apply
// --dry-run` the DryRunExecutor, which writes nothing at all (not even the ownership record).
// Both run behind execute_plan(), so a dry run walks exactly the path a real run would.
#pragma once

#include <atomic>
#include <chrono>

#include "apply/apply_outcome.h"
#include "apply/device_steps.h"
#include "apply/group_transaction.h"
#include "apply/ownership_ledger.h"
#include "apply/vf_count_steps.h"
#include "plan/plan.h"
#include "sysfs/sysfs.h"

namespace vfio {

class Executor {
 public:
  virtual ~Executor() = default;
  // One claim, release, adopt, forget or VF count change of the plan. Called for several groups
  // at once.
  virtual GroupOutcome execute(const GroupChange& change) = 0;
};

class DryRunExecutor final : public Executor {
 public:
  GroupOutcome execute(const GroupChange& change) override;
};

class KernelExecutor final : public Executor {
 public:
  // `probe_timeout`: per device, how long a driver may take to bind after a probe. `proc`
  // (/proc, may be null): who holds a VFIO group, checked before a group's first write.
  // `variants`: the running kernel's vfio variant drivers (DeviceSteps).
  KernelExecutor(Sysfs& sysfs, OwnershipLedger& ledger, std::chrono::milliseconds probe_timeout,
                 KernelFiles* proc = nullptr, std::set<std::string> variants = {});
  GroupOutcome execute(const GroupChange& change) override;

 private:
  DeviceSteps steps_;
  GroupTransaction transaction_;
  VfCountSteps vf_counts_;
};

// Runs the plan's claims, releases and adoptions, up to `jobs` groups at once (devices within a
// group in order), and reports every group. Blocked and unchanged groups are reported as such.
// Once `*stop` is set (SIGINT, SIGTERM) no further group begins; groups in flight finish or roll
// back, and the rest are reported as not started.
ApplyOutcome execute_plan(const Plan& plan, Executor& executor, unsigned jobs,
                          const std::atomic<bool>* stop = nullptr);

}  // namespace vfio
