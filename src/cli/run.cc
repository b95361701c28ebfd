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
#include "cli/owners_command.h"
#include "cli/ownership_input.h"
#include "cli/plan_command.h"
#include "cli/status_command.h"
#include "cli/validate_command.h"
#include "manifest/initramfs_copy.h"
#include "store/store.h"
#include "sysfs/real_sysfs.h"

namespace vfio::cli {
namespace {

struct GlobalOptions {
  std::string sysfs_root = "/sys";
  std::string proc_root = "/proc";
  std::string state_dir = "/run/vfio-reconcile";
  std::optional<std::string> modules_dir;
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
  app.add_option("--modules-dir", options.modules_dir,
                 "The running kernel's module directory, whose modules.alias names its vfio "
                 "drivers (default: /lib/modules/$(uname -r))")
      ->check(CLI::ExistingDirectory);
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

// The subcommands, their options and where each option's value goes.
struct Commands {
  StatusOptions status;
  OwnersOptions owners;
  ValidateOptions validate;
  PlanCommandOptions plan;
  ApplyCommandOptions apply;
  CLI::App* status_cmd = nullptr;
  CLI::App* owners_cmd = nullptr;
  CLI::App* validate_cmd = nullptr;
  CLI::App* plan_cmd = nullptr;
  CLI::App* apply_cmd = nullptr;
};

void add_commands(CLI::App& app, Commands& c) {
  c.status_cmd =
      app.add_subcommand("status", "Show PCI devices by IOMMU group, with drivers and overrides");
  c.status_cmd->add_flag("--json", c.status.json, "Machine-readable output");

  c.owners_cmd = app.add_subcommand(
      "owners", "List the IOMMU groups each owner holds, as the ownership record says");
  c.owners_cmd->add_option("OWNER", c.owners.owners, "Only these owners");
  c.owners_cmd->add_flag("--json", c.owners.json, "Machine-readable output");

  c.validate_cmd = app.add_subcommand(
      "validate", "Check manifests (files, or directories of *.yaml) without touching sysfs");
  c.validate_cmd->add_option("MANIFEST", c.validate.manifests, "Manifest file or directory")
      ->required();

  c.plan_cmd = app.add_subcommand(
      "plan", "Show what apply would do, group by group, without writing anything");
  c.plan_cmd->add_option("MANIFEST", c.plan.manifests, "Manifest file or directory")->required();
  c.plan_cmd->add_flag("--json", c.plan.json, "Machine-readable output");
  c.plan_cmd->add_flag("--detailed-exitcode", c.plan.detailed_exitcode,
                       "Exit 2 when there are changes to apply");
  c.plan_cmd->add_flag("--explain", c.plan.explain,
                       "Say why: which assignment and match chose each device, which group peers");

  c.apply_cmd = app.add_subcommand(
      "apply", "Bind and release devices as the manifests say, each IOMMU group all or nothing");
  CLI::Option* apply_manifests =
      c.apply_cmd->add_option("MANIFEST", c.apply.manifests, "Manifest file or directory");
  c.apply_cmd->add_flag("--dry-run", c.apply.dry_run, "Plan and check everything, write nothing");
  c.apply_cmd->add_flag("--json", c.apply.json, "Machine-readable output");
  c.apply_cmd->add_flag("--explain", c.apply.explain, "Say why each group is changed");
  c.apply_cmd->add_option("--jobs", c.apply.jobs, "IOMMU groups changed in parallel (default 4)")
      ->check(CLI::Range(1u, 64u));
  c.apply_cmd->add_flag("--no-prune", c.apply.no_prune,
                        "Keep groups this tool bound that no manifest names any more");
  c.apply_cmd->add_flag("--wait", c.apply.wait,
                        "Wait for another run to finish instead of exiting 75");
  c.apply_cmd->add_flag(
      "--boot", c.apply.boot,
      "The boot unit's run: without MANIFEST, read DIR/manifest.yaml and DIR/manifest.d/*.yaml "
      "(see --config-dir; none there: nothing to do); waits for another run's lock");
  CLI::Option* early_flag = c.apply_cmd->add_flag(
      "--early", c.apply.early,
      "The initramfs's run, before udev loads any driver: as --boot, but it only claims devices "
      "no driver has taken yet (and adopts), leaving the rest for the boot unit");
  c.apply_cmd
      ->add_option("--device", c.apply.device,
                   "Only the IOMMU group of this PCI device, one that appeared (the udev rule's "
                   "run): claim, adopt or set its VF count, never release anything")
      ->check([](const std::string& text) {
        std::string why;
        return PciAddress::parse(text, &why) ? std::string() : why;
      })
      ->excludes(early_flag);
  c.apply_cmd
      ->add_option("--config-dir", c.apply.config_dir,
                   "Where --boot finds its manifests when none is named")
      ->capture_default_str()
      ->excludes(apply_manifests);
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

  Commands commands;
  add_commands(app, commands);

  try {
    app.parse(argc, argv);
    ApplyCommandOptions& apply = commands.apply;
    apply.boot = apply.boot || apply.early;  // the early run is a boot run, narrowed
    if (commands.apply_cmd->get_option("--config-dir")->count() > 0 && !apply.boot) {
      throw CLI::RequiresError("--config-dir", "--boot");
    }
    if (commands.apply_cmd->parsed() && apply.manifests.empty() && !apply.boot) {
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
  if (commands.validate_cmd->parsed())
    return run_validate(commands.validate, store, out, err, style);
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

  std::unique_ptr<KernelModules> own_modules;
  KernelModules* modules = context.modules;
  if (!modules) {
    own_modules = std::make_unique<KmodModules>(global.modules_dir);
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
                       .proc = proc,
                       .initramfs_copies = context.initramfs_copies.value_or(kInitramfsCopies),
                       .kernel_release = context.kernel_release};
  if (commands.status_cmd->parsed()) {
    return run_status(commands.status, *sysfs, proc, read_ownership(env).record, out);
  }
  if (commands.owners_cmd->parsed()) return run_owners(commands.owners, env);
  if (commands.plan_cmd->parsed()) return run_plan(commands.plan, env);
  if (commands.apply_cmd->parsed()) return run_apply(commands.apply, env);
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace vfio::cli
