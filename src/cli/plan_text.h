// The human plan: one block per IOMMU group, marked `+` claim, `-` release, `=` adopt or
// unchanged, `!` blocked; each device with its ids, name and `driver -> driver`; a summary last.
#pragma once

#include <functional>
#include <iosfwd>

#include "observe/device_names.h"
#include "plan/plan.h"

namespace vfio::cli {

struct PlanTextOptions {
  bool explain = false;  // add the why of each block: assignment, match, group peers
  // Called at the end of each group's block (apply prints the group's outcome there).
  std::function<void(std::size_t change_index, std::ostream& out)> annotate;
  // Called before each group's block and once after the last (apply's report in the journal
  // gives each block its priority there).
  std::function<void(std::size_t change_index)> begin_group;
  std::function<void()> end_groups;
  bool summary_line = true;  // end with "Plan: ..." / "No changes."
  bool color = false;        // markers coloured: `+` green, `-` red, `!` yellow (a terminal's)
};

// Whether a group's block lists its devices, each named: a change, or any group with --explain.
bool lists_devices(const GroupChange& change, bool explain);

// A device is named (`names`) only where its group's block lists it.
void print_plan_text(const Plan& plan, const DeviceNames& names, const PlanTextOptions& options,
                     std::ostream& out);

// The first line of a group's block, without its marker: "IOMMU group 1: claim for gpu0 (...)",
// "IOMMU group 0: blocked (boot-display) for igpu".
std::string change_heading(const GroupChange& change);

// "Plan: 1 to claim, 0 to release, 0 adopted, 1 blocked." or "No changes."
std::string plan_summary_line(const Plan& plan);

}  // namespace vfio::cli
