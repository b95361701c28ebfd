#include "cli/command_line.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/exit_codes.h"
#include "manifest/manifest_values.h"
#include "sysfs/pci_address.h"
#include "util/did_you_mean.h"

namespace vfio::cli {
namespace {

constexpr std::string_view kProgram = "vfio-reconcile";

// A command's --help ends with the global options, which it takes as well (CLI11 lists only
// the command's own): generated from the same options, so the two never drift apart.
class HelpFormatter final : public CLI::Formatter {
 public:
  std::string make_footer(const CLI::App* app) const override {
    std::string footer = CLI::Formatter::make_footer(app);
    const CLI::App* parent = app->get_parent();
    if (parent == nullptr) return footer;
    std::vector<const CLI::Option*> globals = parent->get_options([](const CLI::Option* option) {
      return option->get_name() != "--help" && option->get_name() != "--version";
    });
    return make_group("Global options (before or after the command)", false, globals) + footer;
  }
};

// The long names of an app's options ("--sysfs-root"): what a mistyped option is compared with.
void collect_option_names(const CLI::App& app, std::vector<std::string>& names) {
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
  }
}

// Whether `app` itself has the option `typed` ("--json", "-l").
bool has_option(const CLI::App& app, std::string_view typed) {
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames())
      if (typed == "--" + name) return true;
    for (const auto& name : option->get_snames())
      if (typed == "-" + name) return true;
  }
  return false;
}

std::string suggestion(std::string_view typed, const std::vector<std::string>& known) {
  std::vector<std::string_view> candidates(known.begin(), known.end());
  const auto closest = closest_name(typed, candidates);
  return closest ? fmt::format(" Did you mean '{}'?", *closest) : std::string();
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_timeout_option(std::string_view text,
                                                              std::string* why) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size()) {
    // Not a plain number: a duration as the manifest writes one.
    std::string duration_why;
    auto duration = parse_duration(text, &duration_why);
    if (!duration && why) {
      *why = fmt::format("{} (or a number of seconds)", duration_why);
    }
    return duration;
  }
  if (!(seconds >= 0.001 && seconds <= 3600.0)) {
    if (why) *why = fmt::format("seconds must be from 0.001 to 3600, not {}", text);
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

CommandLine::CommandLine() {
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_version_flag("-V,--version", std::string(kProgram) + " " + VFIO_RECONCILE_VERSION);
  app.require_subcommand(1);
  // A global option after the command falls through to the program's options; what nobody
  // takes is left in remaining() for check_parsed() to answer with a suggestion.
  app.fallthrough();
  app.allow_extras();
  add_global_options();
  add_commands();
}

// Each may come before or after the command; given twice, the last one counts.
void CommandLine::add_global_options() {
  app.add_option("--sysfs-root", global.sysfs_root,
                 "Root of the sysfs tree to observe and change (a test host, say)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--proc-root", global.proc_root,
                 "Root of the procfs tree that says who holds VFIO groups, and which routes, "
                 "mounts and swap the host uses")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--modules-dir", global.modules_dir,
                 "The running kernel's module directory, whose modules.alias names its vfio "
                 "drivers (default: /lib/modules/$(uname -r))")
      ->check(CLI::ExistingDirectory)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--state-dir", global.state_dir,
                 "Where apply records what it bound and adopted, and takes its lock")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option_function<std::string>(
         "--timeout",
         [this](const std::string& text) { global.timeout = parse_timeout_option(text); },
         "Per device, how long to wait for a driver to bind or a write to return: 5s, 500ms, "
         "2m, or seconds (default: the manifest's probe-timeout, 5s)")
      ->type_name("DURATION")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->check([](const std::string& text) {
        std::string why;
        return parse_timeout_option(text, &why) ? std::string() : why;
      });
  app.add_option("--color", global.color,
                 "Colour: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ColorChoice>{{"auto", ColorChoice::Auto},
                                             {"always", ColorChoice::Always},
                                             {"never", ColorChoice::Never}}))
      ->option_text("WHEN")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_flag("-v,--verbose", global.verbose,
               "More detail: -v shows each sysfs write as it is made, -vv debug output");
  app.add_flag("-q,--quiet", global.quiet, "Errors only");
}

void CommandLine::add_commands() {
  status_cmd =
      app.add_subcommand("status", "Show PCI devices by IOMMU group, with drivers and overrides");
  status_cmd->add_option("ADDRESS|GROUP", status.selectors,
                         "Only the IOMMU groups of these devices (0000:01:00.0, or 01:00.0), or "
                         "these groups");
  status_cmd->add_flag("--json", status.json, "Machine-readable output");
  status_cmd->add_flag("-l,--full", status.full,
                       "Whole lines on a terminal (otherwise descriptions are cut to its width)");

  owners_cmd = app.add_subcommand(
      "owners", "List the IOMMU groups each owner holds, as the ownership record says");
  owners_cmd->add_option("OWNER", owners.owners, "Only these owners");
  owners_cmd->add_flag("--json", owners.json, "Machine-readable output");

  validate_cmd = app.add_subcommand(
      "validate",
      "Check manifests (files, or directories of *.yaml and *.yml) without touching sysfs");
  validate_cmd->add_option("MANIFEST", validate.manifests, "Manifest file or directory")
      ->required();
  validate_cmd->add_flag("--json", validate.json,
                         "Machine-readable output: the verdict, the counts and every problem");

  plan_cmd = app.add_subcommand(
      "plan", "Show what apply would do, group by group, without writing anything");
  plan_cmd->add_option("MANIFEST", plan.manifests, "Manifest file or directory")->required();
  plan_cmd->add_flag("--json", plan.json, "Machine-readable output");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                     "Exit 2 when there are changes to apply");
  plan_cmd->add_flag("--explain", plan.explain,
                     "Say why: which assignment and match chose each device, which group peers");
  plan_cmd->add_flag("--no-prune", plan.no_prune,
                     "Keep groups this tool bound that no manifest names any more");
  plan_cmd
      ->add_option("--out", plan.out,
                   "Also save the plan to FILE, for apply to carry out exactly as shown")
      ->type_name("FILE");

  add_apply_command();

  show_cmd = app.add_subcommand(
      "show", "Print the host's vfio bindings as a manifest that plans no change here");
  show_cmd->add_flag("--match-ids", show.match_ids,
                     "Match by vendor:device (for a fleet of hosts alike) instead of by address");

  help_cmd_ = app.add_subcommand("help", "Show the commands, or one command's options");
  help_cmd_->add_option("COMMAND", help_topic_, "The command to show");
  version_cmd_ = app.add_subcommand("version", "Show the version");
}

void CommandLine::add_apply_command() {
  apply_cmd = app.add_subcommand(
      "apply", "Bind and release devices as the manifests say, each IOMMU group all or nothing");
  CLI::Option* apply_manifests =
      apply_cmd->add_option("MANIFEST", apply.manifests, "Manifest file or directory");
  apply_cmd
      ->add_option("--plan", apply.plan_file,
                   "Carry out the plan that plan saved in FILE, only while the host is as it "
                   "was then (else exit 3, nothing written); no MANIFEST")
      ->type_name("FILE");
  apply_cmd->add_flag("--dry-run", apply.dry_run, "Plan and check everything, write nothing");
  apply_cmd->add_flag("--json", apply.json, "Machine-readable output");
  apply_cmd->add_flag("--explain", apply.explain, "Say why each group is changed");
  apply_cmd->add_option("--jobs", apply.jobs, "IOMMU groups changed in parallel (default 4)")
      ->check(CLI::Range(1u, 64u));
  apply_cmd->add_flag("--no-prune", apply.no_prune,
                      "Keep groups this tool bound that no manifest names any more");
  apply_cmd->add_flag("-y,--yes", apply.yes,
                      "Release groups no manifest names any more without asking (a run on a "
                      "terminal asks first; others never ask)");
  apply_cmd->add_flag("--wait", apply.wait, "Wait for another run to finish instead of exiting 75");
  apply_cmd->add_flag(
      "--boot", apply.boot,
      "The boot unit's run: without MANIFEST, read DIR/manifest.yaml and DIR/manifest.d/*.yaml, "
      "or .yml (see --config-dir; none there: nothing to do); waits for another run's lock");
  CLI::Option* early_flag = apply_cmd->add_flag(
      "--early", apply.early,
      "The initramfs's run, before udev loads any driver: as --boot, but it only claims devices "
      "no driver has taken yet (and adopts), leaving the rest for the boot unit");
  apply_cmd
      ->add_option("--device", apply.device,
                   "Only the IOMMU group of this PCI device, one that appeared (the udev rule's "
                   "run): claim, adopt or set its VF count, never release anything")
      ->check([](const std::string& text) {
        std::string why;
        return PciAddress::parse(text, &why) ? std::string() : why;
      })
      ->excludes(early_flag);
  apply_cmd
      ->add_option("--config-dir", apply.config_dir,
                   "Where --boot finds its manifests when none is named")
      ->capture_default_str()
      ->excludes(apply_manifests);
}

std::optional<int> CommandLine::parse(int argc, const char* const* argv, std::ostream& out,
                                      std::ostream& err) {
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError&) {
      // Of a mistyped command CLI11 says only "A subcommand is required": the argument it left
      // over is the better answer.
      check_leftovers();
      throw;
    }
    check_leftovers();
    apply.boot = apply.boot || apply.early;  // the early run is a boot run, narrowed
    check_combinations();
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }
  if (version_cmd_->parsed()) {
    out << kProgram << ' ' << VFIO_RECONCILE_VERSION << '\n';
    return kExitOk;
  }
  if (help_cmd_->parsed()) {
    // app.help() would show the help of the command given, `help` itself.
    out << (help_topic_.empty()
                ? app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal)
                : app.get_subcommand(help_topic_)->help(app.get_name()));
    return kExitOk;
  }
  return std::nullopt;
}

std::vector<std::string> CommandLine::command_names() const {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

void CommandLine::check_leftovers() const {
  const std::vector<std::string> commands = command_names();
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  const CLI::App* command = parsed.empty() ? nullptr : parsed.front();
  const std::vector<std::string> leftover = app.remaining();  // a copy: remaining() makes one
  if (!leftover.empty()) {
    const std::string& first = leftover.front();
    if (first.starts_with('-')) {
      std::vector<std::string> options;
      collect_option_names(app, options);
      if (command) collect_option_names(*command, options);
      const std::string typed = first.substr(0, first.find('='));
      // A command's own option written before the command's name: say where it goes rather than
      // suggest the very name typed.
      std::vector<std::string> takers;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (has_option(*sub, typed)) takers.push_back(sub->get_name());
      }
      if (command && has_option(*command, typed)) {
        throw CLI::ParseError(
            fmt::format("'{}' is an option of {}: write it after the command's name "
                        "(vfio-reconcile {} {}); only global options may come before it.",
                        typed, command->get_name(), command->get_name(), first),
            CLI::ExitCodes::ExtrasError);
      }
      if (!command && !takers.empty()) {
        throw CLI::ParseError(
            fmt::format("'{}' is an option of {}: name the command first (vfio-reconcile {} {}).",
                        typed, fmt::join(takers, ", "), takers.front(), first),
            CLI::ExitCodes::ExtrasError);
      }
      const std::string where = command ? " for " + command->get_name() : "";
      throw CLI::ParseError(
          fmt::format("unknown option '{}'{}.{}", typed, where, suggestion(typed, options)),
          CLI::ExitCodes::ExtrasError);
    }
    if (!command) {
      throw CLI::ParseError(fmt::format("unknown command '{}'.{} The commands: {}.", first,
                                        suggestion(first, commands), fmt::join(commands, ", ")),
                            CLI::ExitCodes::ExtrasError);
    }
    throw CLI::ParseError(
        fmt::format("unexpected argument '{}' for {}", first, command->get_name()),
        CLI::ExitCodes::ExtrasError);
  }
  if (command == help_cmd_ && !help_topic_.empty() &&
      std::find(commands.begin(), commands.end(), help_topic_) == commands.end()) {
    throw CLI::ParseError(
        fmt::format("help: unknown command '{}'.{} The commands: {}.", help_topic_,
                    suggestion(help_topic_, commands), fmt::join(commands, ", ")),
        CLI::ExitCodes::ExtrasError);
  }
}

// After --early has set apply.boot (an early run is a boot run).
void CommandLine::check_combinations() const {
  const bool boot = apply.boot;
  if (apply_cmd->get_option("--config-dir")->count() > 0 && !boot) {
    throw CLI::RequiresError("--config-dir", "--boot");
  }
  if (!apply.plan_file.empty() &&
      (!apply.manifests.empty() || boot || !apply.device.empty() || apply.no_prune)) {
    throw CLI::ValidationError(
        "--plan",
        "apply --plan FILE carries out the saved plan as it was made: it takes no MANIFEST, "
        "--boot, --early, --device or --no-prune");
  }
  if (apply_cmd->parsed() && apply.manifests.empty() && !boot && apply.plan_file.empty()) {
    throw CLI::RequiredError("apply: MANIFEST is required, or --plan FILE, or --boot to read " +
                                 std::string(kDefaultConfigDir),
                             CLI::ExitCodes::RequiredError);
  }
}

bool CommandLine::given(const std::string& name) const {
  return app.get_option(name)->count() > 0;
}

}  // namespace vfio::cli
