#include "cli/plan_text.h"

#include <algorithm>
#include <ostream>

#include <fmt/color.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "cli/device_text.h"

namespace vfio::cli {
namespace {

char action_marker(GroupAction action) {
  switch (action) {
    case GroupAction::Claim:
      return '+';
    case GroupAction::Release:
      return '-';
    case GroupAction::Adopt:
    case GroupAction::Noop:
    case GroupAction::Forget:
      return '=';
    case GroupAction::Blocked:
      return '!';
    case GroupAction::SetVfs:
      return '~';
  }
  return '?';
}

char device_marker(const GroupChange& c, const PlannedDevice& d) {
  if (c.action == GroupAction::Blocked) return '!';
  if (!d.changes()) return '=';
  return c.action == GroupAction::Release ? '-' : '+';
}

// A marker as printed: coloured as terminals colour diffs, when asked.
std::string marker_text(char marker, bool color) {
  if (!color) return std::string(1, marker);
  switch (marker) {
    case '+':
      return fmt::format(fmt::fg(fmt::terminal_color::green), "{}", marker);
    case '-':
      return fmt::format(fmt::fg(fmt::terminal_color::red), "{}", marker);
    case '!':
      return fmt::format(fmt::fg(fmt::terminal_color::yellow), "{}", marker);
    default:
      return std::string(1, marker);
  }
}

std::string driver_name(const std::optional<std::string>& driver) {
  return driver ? *driver : "no driver";
}

// "nvidia -> vfio-pci", "vfio-pci -> any host driver", "e1000e, override vfio-pci -> (null)".
std::string transition(const PlannedDevice& d) {
  if (!d.changes()) return driver_name(d.before.driver);
  std::string after =
      d.any_host_driver ? std::string("any host driver") : driver_name(d.after.driver);
  std::string text = fmt::format("{} -> {}", driver_name(d.before.driver), after);
  if (d.before.driver == d.after.driver && !d.any_host_driver) {
    text = fmt::format("{}, override {} -> {}", driver_name(d.before.driver),
                       d.before.override.value_or("(null)"), d.after.override.value_or("(null)"));
  }
  return text;
}

// "0000:5e:00.0: 4 VFs -> 8, VF autoprobe on -> off".
std::string vf_count_text(const VfCount& v) {
  auto on = [](bool b) { return b ? "on" : "off"; };
  std::string text = v.from == v.to ? fmt::format("{}: {} VFs", v.pf.str(), v.from)
                                    : fmt::format("{}: {} VFs -> {}", v.pf.str(), v.from, v.to);
  if (v.autoprobe_from != v.autoprobe_to) {
    text += fmt::format(", VF autoprobe {} -> {}", on(v.autoprobe_from), on(v.autoprobe_to));
  }
  return text;
}

// "boot-display, console": each kind of reason a blocked group has, once, in the order found.
std::string blocked_reasons(const GroupChange& c) {
  std::vector<std::string_view> kinds;
  for (const auto& b : c.blockers) {
    if (std::find(kinds.begin(), kinds.end(), to_string(b.reason)) == kinds.end())
      kinds.push_back(to_string(b.reason));
  }
  if (kinds.empty()) kinds.push_back(to_string(c.blocked_by.value_or(BlockReason::Conflict)));
  return fmt::format("{}", fmt::join(kinds, ", "));
}

}  // namespace

std::string change_heading(const GroupChange& c) {
  // Outside any group: devices the IOMMU does not translate, or an assignment that selected none.
  std::string where = c.group             ? fmt::format("IOMMU group {}", *c.group)
                      : c.devices.empty() ? fmt::format("assignment {}", c.assignment)
                                          : std::string("no IOMMU group");
  std::string what;
  switch (c.action) {
    case GroupAction::Claim:
      what = "claim";
      break;
    case GroupAction::Release:
      what = "release";
      break;
    case GroupAction::Adopt:
      what = "adopt";
      break;
    case GroupAction::Noop:
      what = "unchanged";
      break;
    case GroupAction::Forget:
      what = "forget";
      break;
    case GroupAction::Blocked:
      what = fmt::format("blocked ({})", blocked_reasons(c));
      break;
    case GroupAction::SetVfs:
      what = "set VFs";
      break;
  }
  std::string who = c.assignment.empty() || (!c.group && c.devices.empty())
                        ? ""
                        : fmt::format(" for {}", held_for(c.owner, c.assignment));
  if (c.action == GroupAction::Blocked) return fmt::format("{}: {}{}", where, what, who);
  return fmt::format("{}: {}{} ({})", where, what, who, c.reason);
}

std::string plan_summary_line(const Plan& plan) {
  PlanSummary s = plan.summary();
  if (!plan.has_changes() && s.blocked == 0 && s.adopt == 0 && s.forget == 0) return "No changes.";
  // Forgetting is rare (an owner let go of a group it adopted): said only when there is some.
  const std::string forget = s.forget ? fmt::format(", {} to forget", s.forget) : "";
  const std::string vfs =
      s.set_vfs ? fmt::format(", {} VF count{} to set", s.set_vfs, s.set_vfs == 1 ? "" : "s") : "";
  return fmt::format("Plan: {} to claim, {} to release, {} adopted{}{}, {} blocked.", s.claim,
                     s.release, s.adopt, forget, vfs, s.blocked);
}

bool lists_devices(const GroupChange& change, bool explain) {
  // An unchanged group needs no device list unless asked why.
  return change.action != GroupAction::Noop || explain;
}

void print_plan_text(const Plan& plan, const DeviceNames& names, const PlanTextOptions& options,
                     std::ostream& out) {
  // Said once, by the command, as the error it is (on stderr).
  if (plan.unusable) return;
  std::size_t transition_width = 0;
  for (const auto& c : plan.changes) {
    for (const auto& d : c.devices)
      transition_width = std::max(transition_width, transition(d).size());
  }
  for (std::size_t i = 0; i < plan.changes.size(); ++i) {
    const GroupChange& c = plan.changes[i];
    if (options.begin_group) options.begin_group(i);
    fmt::print(out, "{} {}\n", marker_text(action_marker(c.action), options.color),
               change_heading(c));
    if (c.action == GroupAction::Blocked) {
      // Every reason, each once (a blocker's message names its device).
      if (c.blockers.empty()) fmt::print(out, "    {}\n", c.reason);
      for (const auto& b : c.blockers) fmt::print(out, "    {}\n", b.message);
    }
    if (c.forced) fmt::print(out, "    forced: \"{}\"\n", *c.forced);
    for (const auto& w : c.warnings) fmt::print(out, "    warning: {}\n", w);
    if (lists_devices(c, options.explain)) {
      for (const auto& d : c.devices) {
        fmt::print(out, "    {} {}  {}  {:<{}}  {}{}\n",
                   marker_text(device_marker(c, d), options.color), d.address.str(),
                   ids_text(d.ids), transition(d), transition_width, name_text(d.ids, names),
                   d.role == DeviceRole::Companion ? " (companion)" : "");
        // Which vfio driver and why, when it is not plain vfio-pci's default.
        if (!d.driver_reason.empty()) fmt::print(out, "        {}\n", d.driver_reason);
      }
      for (const auto& b : c.bridges) {
        fmt::print(out, "      {}  bridge, left alone\n", b.str());
      }
      for (const auto& v : c.vf_counts) fmt::print(out, "    ~ {}\n", vf_count_text(v));
    }
    if (options.explain) {
      for (const auto& why : c.explain) fmt::print(out, "      why: {}\n", why);
    }
    if (options.annotate) options.annotate(i, out);
    fmt::print(out, "\n");
  }
  if (options.end_groups) options.end_groups();
  // A narrow run's (the initramfs's, a hot-added device's) changes left to a later run.
  if (!plan.deferred.empty()) fmt::print(out, "Left as they are, for a later run:\n");
  for (const auto& d : plan.deferred) {
    fmt::print(out, "  {}\n      {}\n", change_heading(d.change), d.why);
  }
  if (!plan.deferred.empty()) fmt::print(out, "\n");
  if (options.summary_line) fmt::print(out, "{}\n", plan_summary_line(plan));
}

}  // namespace vfio::cli
