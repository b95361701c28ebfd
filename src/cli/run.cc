#include "cli/run.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "apply/kernel_modules.h"
#include "cli/apply_command.h"
#include "cli/command_env.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/plan_command.h"
#include "cli/status_command.h"
#include "cli/validate_command.h"
#include "store/store.h"
#include "sysfs/real_sysfs.h"

namespace vfio::cli {
namespace {

struct GlobalOptions {
  std::string sysfs_root = "/sys";
  std::string proc_root = "/proc";
  std::string state_dir = "/run/vfio-reconcile";
  std::optional<double> timeout_seconds;
  int verbose = 0;
  bool quiet = false;
};

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--sysfs-root", options.sysfs_root,
                 "Root of the sysfs tree to observe and change (a test host, say)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--proc-root", options.proc_root,
                 "Root of the procfs tree that says who holds VFIO groups, and which routes, "
                 "mounts and swap the host uses")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--state-dir", options.state_dir,
                 "Where apply records what it bound and adopted, and takes its lock")
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds,
                 "Seconds to wait per device for a driver to bind or a write to return "
                 "(default: the manifest's probe-timeout, 5)")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_flag("-v,--verbose", options.verbose, "More detail (repeat for debug output)");
  app.add_flag("-q,--quiet", options.quiet, "Errors only");
}

}  // namespace

int run(int argc, const char* const* argv, const Context& context) {
  std::ostream& out = context.out ? *context.out : std::cout;
  std::ostream& err = context.err ? *context.err : std::cerr;

  CLI::App app{"vfio-reconcile: bind PCIe devices to vfio-pci from a declarative manifest",
               "vfio-reconcile"};
  app.set_version_flag("--version", std::string("vfio-reconcile ") + VFIO_RECONCILE_VERSION);
  app.require_subcommand(1);
  GlobalOptions global;
  add_global_options(app, global);

  StatusOptions status;
  CLI::App* status_cmd =
      app.add_subcommand("status", "Show PCI devices by IOMMU group, with drivers and overrides");
  status_cmd->add_flag("--json", status.json, "Machine-readable output");

  ValidateOptions validate;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Check manifests (files, or directories of *.yaml) without touching sysfs");
  validate_cmd->add_option("MANIFEST", validate.manifests, "Manifest file or directory")
      ->required();

  PlanCommandOptions plan;
  CLI::App* plan_cmd = app.add_subcommand(
      "plan", "Show what apply would do, group by group, without writing anything");
  plan_cmd->add_option("MANIFEST", plan.manifests, "Manifest file or directory")->required();
  plan_cmd->add_flag("--json", plan.json, "Machine-readable output");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                     "Exit 2 when there are changes to apply");
  plan_cmd->add_flag("--explain", plan.explain,
                     "Say why: which assignment and match chose each device, which group peers");

  ApplyCommandOptions apply;
  CLI::App* apply_cmd = app.add_subcommand(
      "apply", "Bind and release devices as the manifests say, each IOMMU group all or nothing");
  CLI::Option* apply_manifests =
      apply_cmd->add_option("MANIFEST", apply.manifests, "Manifest file or directory");
  apply_cmd->add_flag("--dry-run", apply.dry_run, "Plan and check everything, write nothing");
  apply_cmd->add_flag("--json", apply.json, "Machine-readable output");
  apply_cmd->add_flag("--explain", apply.explain, "Say why each group is changed");
  apply_cmd->add_option("--jobs", apply.jobs, "IOMMU groups changed in parallel (default 4)")
      ->check(CLI::Range(1u, 64u));
  apply_cmd->add_flag("--no-prune", apply.no_prune,
                      "Keep groups this tool bound that no manifest names any more");
  apply_cmd->add_flag("--wait", apply.wait, "Wait for another run to finish instead of exiting 75");
  CLI::Option* boot_flag = apply_cmd->add_flag(
      "--boot", apply.boot,
      "The boot unit's run: without MANIFEST, read DIR/manifest.yaml and DIR/manifest.d/*.yaml "
      "(see --config-dir; none there: nothing to do); waits for another run's lock");
  apply_cmd
      ->add_option("--config-dir", apply.config_dir,
                   "Where --boot finds its manifests when none is named")
      ->capture_default_str()
      ->needs(boot_flag)
      ->excludes(apply_manifests);

  try {
    app.parse(argc, argv);
    if (apply_cmd->parsed() && apply.manifests.empty() && !apply.boot) {
      throw CLI::RequiredError(
          "apply: MANIFEST is required, or --boot to read " + std::string(kDefaultConfigDir),
          CLI::ExitCodes::RequiredError);
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }

  const LogStyle style =
      context.log_style.value_or(context.err ? LogStyle::Plain : detect_stderr_style());
  auto logger = make_logger(global.quiet ? -1 : global.verbose, context.err, style);
  // Manifests only: validate never builds the sysfs gateway.
  RealStore real_store;
  Store& store = context.store ? *context.store : real_store;
  if (validate_cmd->parsed()) return run_validate(validate, store, out, err, style);
  std::unique_ptr<Sysfs> owned;
  Sysfs* sysfs = context.sysfs;
  if (!sysfs) {
    owned = std::make_unique<RealSysfs>(global.sysfs_root);
    sysfs = owned.get();
  }

  std::unique_ptr<Sysfs> owned_proc;
  KernelFiles* proc = context.proc;
  if (!proc && (!context.sysfs || app.get_option("--proc-root")->count() > 0)) {
    owned_proc = std::make_unique<RealSysfs>(global.proc_root);
    proc = owned_proc.get();
  }

  if (status_cmd->parsed()) return run_status(status, *sysfs, proc, out);

  std::unique_ptr<KernelModules> own_modules;
  KernelModules* modules = context.modules;
  if (!modules) {
    own_modules = std::make_unique<KmodModules>();
    modules = own_modules.get();
  }
  std::optional<std::chrono::milliseconds> timeout;
  if (global.timeout_seconds) {
    timeout = std::chrono::milliseconds(std::llround(*global.timeout_seconds * 1000.0));
  }
  const CommandEnv env{.sysfs = *sysfs,
                       .modules = *modules,
                       .store = store,
                       .state_dir = global.state_dir,
                       .boot_id = context.boot_id,
                       .timeout = timeout,
                       .live_sys = !context.sysfs && global.sysfs_root == "/sys",
                       .stop = context.stop,
                       .out = out,
                       .err = err,
                       .log_style = style,
                       .proc = proc};
  if (plan_cmd->parsed()) return run_plan(plan, env);
  if (apply_cmd->parsed()) return run_apply(apply, env);
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace vfio::cli
