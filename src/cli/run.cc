#include "cli/run.h"

#include <iostream>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/plan_command.h"
#include "cli/status_command.h"
#include "cli/validate_command.h"
#include "observe/kernel_modules.h"
#include "sysfs/real_sysfs.h"

namespace vfio::cli {
namespace {

struct GlobalOptions {
  std::string sysfs_root = "/sys";
  int verbose = 0;
  bool quiet = false;
};

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--sysfs-root", options.sysfs_root,
                 "Root of the sysfs tree to observe and change (a test host, say)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }

  auto logger = make_logger(global.quiet ? -1 : global.verbose, context.err);
  // Manifests only: validate never builds the sysfs gateway.
  if (validate_cmd->parsed()) return run_validate(validate, out, err);
  std::unique_ptr<Sysfs> owned;
  Sysfs* sysfs = context.sysfs;
  if (!sysfs) {
    owned = std::make_unique<RealSysfs>(global.sysfs_root);
    sysfs = owned.get();
  }

  if (status_cmd->parsed()) return run_status(status, *sysfs, out);
  if (plan_cmd->parsed()) {
    std::unique_ptr<KernelModules> own_modules;
    KernelModules* modules = context.modules;
    if (!modules) {
      own_modules = std::make_unique<KmodModules>();
      modules = own_modules.get();
    }
    return run_plan(plan, *sysfs, *modules, out, err);
  }
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace vfio::cli
