#include "cli/apply_text.h"

#include <ostream>
#include <set>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/plan_text.h"

namespace vfio::cli {
namespace {

std::string seconds(std::chrono::milliseconds elapsed) {
  return fmt::format("{:.2f} s", static_cast<double>(elapsed.count()) / 1000.0);
}

std::string driver_text(const std::optional<Binding>& b) {
  if (!b) return "unknown (could not be read)";
  return fmt::format("{}, driver_override {}", b->driver.value_or("no driver"),
                     b->override.value_or("(null)"));
}

// "vfio-pci", or the variant drivers the claim gave ("mlx5_vfio_pci").
std::string claimed_on(const GroupOutcome& g) {
  std::set<std::string> drivers;
  if (g.change) {
    for (const auto& d : g.change->devices) {
      if (d.changes() && d.after.driver) drivers.insert(*d.after.driver);
    }
  }
  if (drivers.empty()) return "vfio-pci";
  return fmt::format("{}", fmt::join(drivers, " and "));
}

void print_outcome(const GroupOutcome& g, std::ostream& out) {
  switch (g.result) {
    case GroupResult::Claimed:
      fmt::print(out, "  => claimed: every endpoint verified on {} ({})\n", claimed_on(g),
                 seconds(g.elapsed));
      break;
    case GroupResult::Released:
      fmt::print(out, "  => released: every endpoint verified back on the host ({})\n",
                 seconds(g.elapsed));
      break;
    case GroupResult::Adopted:
      fmt::print(out, "  => adopted: recorded as wanted on vfio-pci, nothing written\n");
      break;
    case GroupResult::Forgotten:
      fmt::print(out, "  => forgotten: no longer recorded as held, nothing written\n");
      break;
    case GroupResult::VfsSet:
      fmt::print(out, "  => VFs set: the count and VF autoprobe verified ({})\n",
                 seconds(g.elapsed));
      break;
    case GroupResult::RolledBack:
    case GroupResult::Failed: {
      const StepFailure& f = *g.failure;
      fmt::print(out, "  => FAILED at {} {}: {}\n", f.device.str(), f.step, f.message);
      if (g.devices.empty()) {
        fmt::print(out, "     nothing was written\n");
      } else if (g.result == GroupResult::RolledBack) {
        fmt::print(out, "     rolled back: every device this run changed is back as it was\n");
      } else {
        fmt::print(out, "     ROLLBACK INCOMPLETE: the group may be half-claimed; see below\n");
        for (const auto& d : g.devices) {
          fmt::print(out, "     {} was {}; now {}\n", d.address.str(), driver_text(d.before),
                     driver_text(d.after));
        }
      }
      break;
    }
    case GroupResult::NotStarted:
      fmt::print(out, "  => not started: the run was interrupted\n");
      break;
    case GroupResult::Blocked:
    case GroupResult::Unchanged:
    case GroupResult::DryRun:
      return;
  }
  for (const auto& p : g.problems) fmt::print(out, "     {}\n", p);
}

}  // namespace

void print_apply_text(const Plan& plan, const ApplyOutcome& outcome, const DeviceNames& names,
                      PlanTextOptions options, std::ostream& out) {
  options.summary_line = false;
  options.annotate = [&](std::size_t i, std::ostream& o) { print_outcome(outcome.groups[i], o); };
  print_plan_text(plan, names, options, out);
  if (plan.unusable) return;
  const PlanSummary summary = plan.summary();
  if (!plan.has_changes() && summary.blocked == 0 && summary.adopt == 0 && summary.forget == 0) {
    fmt::print(out, "No changes.\n");
    return;
  }
  const unsigned rolled_back = outcome.count(GroupResult::RolledBack);
  const unsigned failed = outcome.count(GroupResult::Failed);
  const unsigned not_started = outcome.count(GroupResult::NotStarted);
  std::string line =
      fmt::format("Applied: {} claimed, {} released, {} adopted, {} blocked",
                  outcome.count(GroupResult::Claimed), outcome.count(GroupResult::Released),
                  outcome.count(GroupResult::Adopted), outcome.count(GroupResult::Blocked));
  if (const unsigned vfs_set = outcome.count(GroupResult::VfsSet))
    line += fmt::format(", {} VF change{}", vfs_set, vfs_set == 1 ? "" : "s");
  if (const unsigned forgotten = outcome.count(GroupResult::Forgotten))
    line += fmt::format(", {} forgotten", forgotten);
  if (rolled_back) line += fmt::format(", {} failed and rolled back", rolled_back);
  if (failed) line += fmt::format(", {} FAILED with the rollback incomplete", failed);
  if (not_started) line += fmt::format(", {} not started (interrupted)", not_started);
  fmt::print(out, "{}.\n", line);
}

}  // namespace vfio::cli
