// The reconcile pipeline as one object: observe, fill in what the plan needs (can vfio-pci be
// loaded), plan, execute, record. It is given what it works through - the sysfs gateway, /proc,
// the module loader - as ninja's Builder is given its disk interface, so
// `plan`, `apply`, the engine's tests and the benchmarks all run these steps in this one order
// instead of re-assembling them. Printing, exit codes and the state directory stay with the
// caller.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "apply/apply_outcome.h"
#include "apply/kernel_modules.h"
#include "apply/ownership_ledger.h"
#include "observe/host_snapshot.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "sysfs/sysfs.h"

namespace vfio {

struct Planned {
  HostSnapshot host;
  Plan plan;  // an ApplyOutcome points into it
};

// How a plan is carried out.
struct ExecuteSettings {
  std::chrono::milliseconds probe_timeout{5000};  // per device: for a driver to bind
  // Per sysfs write (Sysfs::set_write_timeout); none: the gateway's own bound stands.
  std::optional<std::chrono::milliseconds> write_timeout = std::nullopt;
  unsigned jobs = 4;                        // groups at once
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM: no new group begins
};

// vfio-pci was needed for a claim and could not be loaded; nothing more was written.
struct VfioPciUnavailable {
  std::string why;
};

// What a run did. A run may take more than one round: a change of an SR-IOV PF's VF count makes
// VFs the first plan could not know, so the host is observed and planned again, and the new VFs
// are claimed in a second round, the PF's VF autoprobe restored in a third. `plan` is the first
// round's plan followed by what each later round did (its changes that were not noops), and
// `outcome` holds one entry per change of `plan`, in order.
struct ExecutedPlan {
  Plan plan;
  ApplyOutcome outcome;
};

// What a plan of `desired` with the record `owned` is about: the devices an assignment matches
// (by identity: matching needs no more; an address, its slot whatever it holds), and the groups
// and devices the record holds. observe_host() reads those in full. `desired` must outlive it.
ObserveScope scope_of_plan(const DesiredState& desired, const OwnershipRecord& owned);

class Reconciler {
 public:
  // `proc` (/proc, may be null: unknown) tells who holds VFIO groups and what the host uses.
  Reconciler(Sysfs& sysfs, KernelFiles* proc, KernelModules& modules)
      : sysfs_(sysfs), proc_(proc), modules_(modules) {}

  // Observes the host as planning `desired` needs it: whether vfio-pci could be loaded if it is
  // not, and which devices are on a vfio variant driver where that matters. Reads only.
  // Observation's findings are logged as warnings. Throws ObserveError when the root holds no
  // PCI bus.
  // Only what the plan is about is read in full (observe_scope): the devices the assignments
  // match, what the record holds, their groups' members.
  HostSnapshot observe_host(const DesiredState& desired, const OwnershipRecord& owned) const;
  // The same for every device (`show`, which looks for every group on a vfio driver).
  HostSnapshot observe_whole_host() const;

  // observe_host(), then the plan.
  Planned plan(const DesiredState& desired, const OwnershipRecord& owned,
               const PlanOptions& options = {}) const;

  // Walks the plan as a real run would, writing nothing at all.
  ApplyOutcome dry_run(const Planned& planned, const ExecuteSettings& settings) const;

  // Loads vfio-pci (and each variant driver) when a claim needs it, then carries out every change
  // of `planned` (made by plan() from `desired`, the ledger's record and `options`) through
  // transactions recorded in `ledger`, and settles what an earlier run left in flight. While a
  // round sets a VF count and nothing failed, observes, plans and executes again (at most
  // kMaxRounds in all).
  std::variant<ExecutedPlan, VfioPciUnavailable> execute(const DesiredState& desired,
                                                         const PlanOptions& options,
                                                         const Planned& planned,
                                                         OwnershipLedger& ledger,
                                                         const ExecuteSettings& settings);
  static constexpr unsigned kMaxRounds = 3;

 private:
  // Logs the findings; fills in whether vfio-pci can be loaded and, where it matters, the vfio
  // variant drivers.
  HostSnapshot noted(HostSnapshot host, const DesiredState& desired) const;
  std::variant<ApplyOutcome, VfioPciUnavailable> execute_round(const Planned& planned,
                                                               OwnershipLedger& ledger,
                                                               const ExecuteSettings& settings);
  // Loads `module` through the module loader and waits for `driver` to register.
  std::optional<std::string> load_driver(std::string_view module, std::string_view driver,
                                         std::chrono::milliseconds timeout);

  Sysfs& sysfs_;
  KernelFiles* proc_;
  KernelModules& modules_;
};

}  // namespace vfio
