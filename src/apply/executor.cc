#include "apply/executor.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace vfio {

GroupOutcome DryRunExecutor::execute(const GroupChange& change) {
  GroupOutcome outcome;
  outcome.change = &change;
  outcome.result = GroupResult::DryRun;
  return outcome;
}

KernelExecutor::KernelExecutor(Sysfs& sysfs, OwnershipLedger& ledger,
                               std::chrono::milliseconds probe_timeout, KernelFiles* proc,
                               std::set<std::string> variants)
    : steps_(sysfs, probe_timeout, proc, std::move(variants)),
      transaction_{sysfs, steps_, ledger, proc},
      vf_counts_(sysfs, steps_, ledger, probe_timeout) {}

GroupOutcome KernelExecutor::execute(const GroupChange& change) {
  switch (change.action) {
    case GroupAction::Claim:
      return transaction_.claim(change);
    case GroupAction::Release:
      return transaction_.release(change);
    case GroupAction::Adopt:
      return transaction_.adopt(change);
    case GroupAction::Forget:
      return transaction_.forget(change);
    case GroupAction::SetVfs:
      return vf_counts_.run(change);
    case GroupAction::Noop:
    case GroupAction::Blocked:
      break;
  }
  GroupOutcome outcome;
  outcome.change = &change;
  outcome.result =
      change.action == GroupAction::Blocked ? GroupResult::Blocked : GroupResult::Unchanged;
  return outcome;
}

ApplyOutcome execute_plan(const Plan& plan, Executor& executor, unsigned jobs,
                          const std::atomic<bool>* stop) {
  ApplyOutcome out;
  out.groups.resize(plan.changes.size());
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < plan.changes.size(); ++i) {
    const GroupChange& c = plan.changes[i];
    out.groups[i].change = &c;
    switch (c.action) {
      case GroupAction::Claim:
      case GroupAction::Release:
      case GroupAction::Adopt:
      case GroupAction::Forget:
      case GroupAction::SetVfs:
        work.push_back(i);
        break;
      case GroupAction::Blocked:
        out.groups[i].result = GroupResult::Blocked;
        break;
      case GroupAction::Noop:
        out.groups[i].result = GroupResult::Unchanged;
        break;
    }
  }

  std::atomic<std::size_t> next{0};
  std::atomic<bool> interrupted{false};
  auto worker = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= work.size()) return;
      const std::size_t i = work[k];
      if (stop && stop->load()) {
        interrupted = true;
        out.groups[i].result = GroupResult::NotStarted;
        continue;
      }
      out.groups[i] = executor.execute(plan.changes[i]);
    }
  };
  const std::size_t threads =
      std::clamp<std::size_t>(jobs, 1, std::max<std::size_t>(work.size(), 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  out.interrupted = interrupted;
  return out;
}

}  // namespace vfio
