#include "cli/apply_command.h"

#include <unistd.h>

#include <cerrno>
#include <ostream>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "apply/ownership_journal.h"
#include "apply/ownership_ledger.h"
#include "apply/reconciler.h"
#include "apply/state_dir.h"
#include "cli/apply_json.h"
#include "cli/apply_text.h"
#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "cli/ownership_input.h"
#include "cli/plan_command.h"
#include "cli/plan_text.h"
#include "cli/planning.h"
#include "cli/saved_plan.h"
#include "manifest/initramfs_copy.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"
#include "observe/pci_id_database.h"
#include "store/store.h"
#include "store/trust.h"
#include "sysfs/sys_path.h"
#include "sysfs/sysfs.h"
#include "util/result.h"
#include "util/text_fields.h"

namespace vfio::cli {
namespace {

int state_dir_exit_code(const StateDirError& e) {
  spdlog::error("{}", e.what());
  const int error = e.error();
  return error == EACCES || error == EPERM ? kExitNotPermitted : kExitApplyFailed;
}

int apply_exit_code(const Plan& plan, const ApplyOutcome& outcome) {
  if (plan.unusable) return kExitUnavailable;
  if (outcome.any_failure() || outcome.interrupted) return kExitApplyFailed;
  if (plan.summary().blocked > 0) return kExitBlocked;
  return kExitOk;
}

PlanTextOptions text_options(const ApplyCommandOptions& options, bool color) {
  PlanTextOptions text;
  text.explain = options.explain;
  text.color = color;
  return text;
}

// sd-daemon(3) priority of a group's block in the journal: a failure an error, a refusal or a
// group an interrupted run did not begin a warning, the rest information.
int journal_priority_of(const GroupChange& change, const GroupOutcome& outcome) {
  if (outcome.failure || outcome.result == GroupResult::Failed ||
      outcome.result == GroupResult::RolledBack) {
    return 3;
  }
  const bool warn =
      change.action == GroupAction::Blocked || outcome.result == GroupResult::NotStarted;
  return warn ? 4 : 6;
}

// The devices apply's report names: every one in --json, else those of the groups the text lists.
std::vector<PciIds> named_in_report(const ApplyCommandOptions& options, const Plan& plan) {
  std::vector<PciIds> ids;
  for (const auto& c : plan.changes) {
    if (!options.json && !lists_devices(c, options.explain)) continue;
    for (const auto& d : c.devices) ids.push_back(d.ids);
  }
  return ids;
}

void print(const ApplyCommandOptions& options, const Plan& plan, const ApplyOutcome& outcome,
           const DeviceNames& names, const CommandEnv& env) {
  std::ostream& out = env.out;
  if (options.json) {
    out << apply_json(plan, outcome, names, options.dry_run).dump(2) << '\n';
  } else if (options.dry_run) {
    print_plan_text(plan, names, text_options(options, env.color), out);
    if (!plan.unusable) out << "Dry run: nothing was written.\n";
  } else if (env.out_style == LogStyle::Journal && outcome.groups.size() == plan.changes.size()) {
    JournalLineStream journal(out);
    PlanTextOptions text = text_options(options, false);
    text.begin_group = [&](std::size_t i) {
      journal.set_priority(journal_priority_of(plan.changes[i], outcome.groups[i]));
    };
    text.end_groups = [&] { journal.set_priority(6); };
    print_apply_text(plan, outcome, names, text, journal);
    journal.flush();
  } else {
    print_apply_text(plan, outcome, names, text_options(options, env.color), out);
  }
}

// The state directory opened (apply/state_dir.h), or the exit code after saying why not (75
// locked, 77 not permitted, 1).
std::variant<OpenStateDir, int> open_state(const CommandEnv& env, bool wait) {
  try {
    auto opened = open_state_dir(env.store, env.state_dir, current_boot_id(env), wait);
    if (!opened) {
      spdlog::error("another vfio-reconcile run holds {} (use --wait to wait for it)",
                    (env.state_dir / "lock").string());
      return kExitLocked;
    }
    return std::move(*opened);
  } catch (const StateDirError& e) {
    return state_dir_exit_code(e);
  }
}

// The manifests to read: those named, or with --boot and none named, the configuration
// directory's (none there: an empty list).
std::vector<std::string> manifests_to_read(const ApplyCommandOptions& options,
                                           const CommandEnv& env) {
  if (!options.manifests.empty() || !options.boot) return options.manifests;
  auto found = config_dir_manifests(env.store, options.config_dir);
  if (found.empty()) {
    spdlog::warn(
        "no manifest in {} (neither manifest.yaml, manifest.yml nor manifest.d/*.yaml, *.yml): "
        "nothing to apply, nothing released",
        options.config_dir);
  } else {
    spdlog::info("reading {}", fmt::join(found, ", "));
  }
  return found;
}

// With --json, blocked and failed groups are logged too: the JSON on stdout is for a program,
// stderr for the person who ran it. The text report says them once (in the journal with their
// priorities, print() above), so they are not logged again.
void log_problems(const Plan& plan, const ApplyOutcome& outcome) {
  for (const auto& c : plan.changes) {
    if (c.action != GroupAction::Blocked) continue;
    if (c.blockers.empty()) spdlog::warn("{}: {}", change_heading(c), c.reason);
    for (const auto& b : c.blockers) spdlog::warn("{}: {}", change_heading(c), b.message);
  }
  for (const auto& g : outcome.groups) {
    if (!g.failure) continue;
    spdlog::error("IOMMU group {}: {} {}: {}", g.change->group.value_or(0), g.failure->device.str(),
                  g.failure->step, g.failure->message);
  }
  if (outcome.interrupted)
    spdlog::error("interrupted: groups not yet begun were left as they were");
}

// 77 (said why) when this run may not make the writes an apply makes, before anything is tried
// or the state directory touched: not root against the real /sys, or a tree (--sysfs-root)
// whose control files it may not write. 0 when it may.
int write_denied(const CommandEnv& env) {
  constexpr const char* kWhy =
      "apply changes which drivers own devices: run it as root (plan and apply --dry-run work "
      "without)";
  if (env.live_sys && ::geteuid() != 0) {
    spdlog::error("{}", kWhy);
    return kExitNotPermitted;
  }
  auto writable = env.sysfs.may_write(paths::drivers_probe());
  const int error = writable ? 0 : writable.error().error;
  if (error == EACCES || error == EPERM || error == EROFS) {
    spdlog::error("{}: {} is not writable here ({})", kWhy, writable.error().path,
                  describe_errno(error));
    return kExitNotPermitted;
  }
  return 0;  // anything else (no such file) is the plan's to find
}

// What root reads and keeps must be changeable by root alone (sshd's StrictModes): a manifest,
// any directory above it, and the state directory (private). The boot unit's run refuses (77)
// before anything is read or written; a run by hand says the same as a warning and goes on.
int check_trust(const std::vector<std::string>& manifests, const ApplyCommandOptions& options,
                const CommandEnv& env) {
  const bool strict = options.boot && !options.dry_run;
  const uid_t self = ::geteuid();
  std::vector<Untrusted> found;
  auto judge = [&](const Result<std::optional<Untrusted>>& verdict) {
    if (verdict && *verdict) found.push_back(**verdict);
    // A path that cannot be examined is the loader's to report (66) or the state directory's.
  };
  for (const auto& manifest : manifests) {
    // The path itself (a directory named), then each file load_manifests() will read there.
    judge(only_root_can_change(env.store, manifest, self));
    for (const auto& file : manifest_files(env.store, manifest)) {
      if (file == manifest) continue;
      judge(only_root_can_change(env.store, file, self));
    }
  }
  if (!options.dry_run) judge(private_directory(env.store, env.state_dir, self));
  for (const auto& u : found) {
    if (strict) {
      spdlog::error(
          "refusing to apply at boot: {}, so a user other than root could change what "
          "root does to the host's devices; fix: {}",
          u.str(), u.fix);
    } else {
      spdlog::warn(
          "{}, so a user other than root could change what this run does (apply --boot "
          "refuses it); fix: {}",
          u.str(), u.fix);
    }
  }
  return strict && !found.empty() ? kExitNotPermitted : 0;
}

// The initramfs of the running kernel claims at the next boot by the manifests its hook copied
// in: when they are not the configuration directory's any more, say so (a warning: this run is
// not wrong, the next boot's early claim would be).
void warn_of_stale_initramfs(const ApplyCommandOptions& options, const CommandEnv& env) {
  std::string release;
  if (env.kernel_release) {
    release = *env.kernel_release;
  } else {
    auto read = env.store.read("/proc/sys/kernel/osrelease");
    if (!read) return;
    release = std::string(trim(*read));
  }
  if (release.empty() || release.find('/') != std::string::npos || release[0] == '.') return;
  const auto copy = (env.initramfs_copies / release).string();
  auto differences = initramfs_copy_differences(env.store, options.config_dir, copy);
  if (differences.empty()) return;
  spdlog::warn(
      "the initramfs of kernel {} holds other manifests than {} ({}; its copy: {}): the early "
      "claim at the next boot follows the old ones; run update-initramfs -u (or dracut --force)",
      release, options.config_dir, fmt::join(differences, ", "), copy);
}

// Releases (and VF give-backs) of groups no given manifest names, which a person at a terminal
// is asked about first, as Terraform asks before it destroys: applying one manifest must not
// give back, unasked, what another one claimed. A boot run is never asked (nobody is there).
// True to go on.
bool prunes_confirmed(const ApplyCommandOptions& options, const Plan& plan, const CommandEnv& env) {
  if (options.yes || options.boot || !env.confirm) return true;
  std::vector<std::string> prunes;
  for (const GroupChange& c : plan.changes) {
    if (c.pruned && (c.action == GroupAction::Release || c.action == GroupAction::SetVfs)) {
      prunes.push_back(change_heading(c));
    }
  }
  if (prunes.empty()) return true;
  const bool go_on = env.confirm(fmt::format(
      "This apply gives back {} IOMMU group{} that no manifest given names any more:\n  {}\n"
      "(--no-prune keeps them; --yes does not ask.) Release {}? [y/N] ",
      prunes.size(), prunes.size() == 1 ? "" : "s", fmt::join(prunes, "\n  "),
      prunes.size() == 1 ? "it" : "them"));
  if (!go_on) spdlog::error("apply cancelled at the question: nothing was written");
  return go_on;
}

PlanScope scope_of(const ApplyCommandOptions& options) {
  if (options.early) return {.kind = PlanScope::Kind::Early, .device = std::nullopt};
  if (!options.device.empty()) {
    return {.kind = PlanScope::Kind::Device, .device = PciAddress::parse(options.device)};
  }
  return {};
}

// The desired state of the manifests named (or --boot's), or the exit code to end with (0: --boot
// found no manifest, and nothing is to be done).
std::variant<DesiredState, int> manifests_desired(const ApplyCommandOptions& options,
                                                  const CommandEnv& env) {
  const std::vector<std::string> manifests = manifests_to_read(options, env);
  // Before anything else: with no manifest left, an older initramfs still claiming by one is the
  // surprise most worth saying.
  if (!options.early && options.device.empty()) warn_of_stale_initramfs(options, env);
  // --boot and no manifest anywhere: the host is not configured, which is not an error (the
  // unit's conditions normally skip this run), and nothing is released for lack of one.
  if (manifests.empty()) return kExitOk;
  if (const int refused = check_trust(manifests, options, env)) return refused;
  return load_desired(manifests, env);
}

// The saved plan of --plan FILE and the desired state of the manifests it holds, or the exit
// code after saying why not (66 unreadable, 65 not a saved plan or its manifests invalid).
std::variant<DesiredState, int> saved_plan_desired(const ApplyCommandOptions& options,
                                                   const CommandEnv& env,
                                                   std::optional<SavedPlan>& saved) {
  // The file decides what root does to the host's devices, as a manifest would.
  if (const int refused = check_trust({options.plan_file}, options, env)) return refused;
  auto text = env.store.read(options.plan_file);
  if (!text) {
    spdlog::error("cannot read the saved plan: {}", text.error().to_string());
    return kExitManifestMissing;
  }
  auto decoded = decode_saved_plan(*text);
  if (const auto* why = std::get_if<std::string>(&decoded)) {
    spdlog::error("{}: not a plan saved by vfio-reconcile plan --out: {}", options.plan_file, *why);
    return kExitManifestInvalid;
  }
  saved.emplace(std::move(std::get<SavedPlan>(decoded)));
  try {
    return decode_manifest_sources(saved->manifests);
  } catch (const ManifestError& e) {
    spdlog::error("{}: the manifests saved with the plan do not decode:", options.plan_file);
    return report_manifest_error(e, env.err, env.log_style);
  }
}

// With --plan: 0 when the plan made now is the one saved, else 3 after naming what changed.
int saved_plan_stale(const ApplyCommandOptions& options, const SavedPlan& saved, const Planned& now,
                     const DeviceNames& names) {
  // Named as the saved plan was (its JSON is compared whole).
  const auto differences = saved_plan_differences(saved, now.host, now.plan, names);
  if (differences.empty()) return 0;
  spdlog::error(
      "{} is not the plan for this host any more, so nothing was written; make a new one "
      "(vfio-reconcile plan --out FILE MANIFEST...). What changed:",
      options.plan_file);
  for (const auto& line : differences) spdlog::error("  {}", line);
  return kExitPlanStale;
}

}  // namespace

int run_apply(const ApplyCommandOptions& options, const CommandEnv& env) {
  std::optional<SavedPlan> saved;
  auto loaded = options.plan_file.empty() ? manifests_desired(options, env)
                                          : saved_plan_desired(options, env, saved);
  if (const int* code = std::get_if<int>(&loaded)) return *code;
  const DesiredState& desired = std::get<DesiredState>(loaded);

  if (!options.dry_run) {
    if (const int denied = write_denied(env)) return denied;
  }
  // A dry run creates nothing, not even the state directory, and takes no lock.
  std::optional<OpenStateDir> state;
  LoadedRecord owned;
  if (options.dry_run) {
    owned = read_ownership(env);
  } else {
    auto opened = open_state(env, options.wait || options.boot);
    if (const int* code = std::get_if<int>(&opened)) return *code;
    state.emplace(std::move(std::get<OpenStateDir>(opened)));
    owned = std::move(state->owned);
  }

  Reconciler reconciler(env.sysfs, env.proc, env.modules);
  // pci.ids is read on the first name printed, if any (observe/device_names.h).
  PciIdDatabase names;
  const PlanOptions plan_options{.prune = saved ? saved->prune : !options.no_prune,
                                 .scope = scope_of(options)};
  auto planned = observe_and_plan(reconciler, desired, owned.record, plan_options, env);
  if (const int* code = std::get_if<int>(&planned)) return *code;
  const Planned& done = std::get<Planned>(planned);
  const Plan& plan = done.plan;
  if (saved) {
    if (const int stale = saved_plan_stale(options, *saved, done, names)) return stale;
  }
  if (plan.unusable) {
    print(options, plan, ApplyOutcome{}, names, env);
    spdlog::error("nothing can be planned: {}", *plan.unusable);
    return kExitUnavailable;
  }

  // --timeout (or the manifest's probe-timeout) bounds each probe and each write alike.
  const auto timeout = env.timeout.value_or(desired.settings.probe_timeout);
  const ExecuteSettings settings{.probe_timeout = timeout,
                                 .write_timeout = timeout,
                                 .jobs = options.jobs.value_or(desired.settings.jobs),
                                 .stop = env.stop};
  if (options.dry_run) {
    const ApplyOutcome outcome = reconciler.dry_run(done, settings);
    print(options, plan, outcome, names, env);
    return plan_exit_code(plan, false);
  }

  // A saved plan was read before it was saved, prunes and all: it is not asked about again.
  if (!saved && !prunes_confirmed(options, plan, env)) return kExitNotPermitted;

  // The report's names are looked up while the kernel probes (libpci parses pci.ids first).
  names.prefetch(named_in_report(options, plan));
  OwnershipLedger ledger(owned.record, &state->journal);
  auto executed = reconciler.execute(desired, plan_options, done, ledger, settings);
  if (const auto* unavailable = std::get_if<VfioPciUnavailable>(&executed)) {
    spdlog::error("{}; nothing was changed", unavailable->why);
    return kExitUnavailable;
  }
  const ExecutedPlan& run = std::get<ExecutedPlan>(executed);
  print(options, run.plan, run.outcome, names, env);
  if (options.json) log_problems(run.plan, run.outcome);
  return apply_exit_code(run.plan, run.outcome);
}

}  // namespace vfio::cli
