// The command line: the global options, the commands and their options, and how a mistyped one
// is answered. Global options are taken before or after the command (as kubectl and systemctl
// take theirs), every command's --help lists them, `help [COMMAND]` and `version` are commands,
// and an unknown command or option gets the closest known name as a suggestion.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/apply_command.h"
#include "cli/owners_command.h"
#include "cli/plan_command.h"
#include "cli/show_command.h"
#include "cli/status_command.h"
#include "cli/validate_command.h"

namespace vfio::cli {

// --color: colour on a terminal unless NO_COLOR is set (auto), or always, or never.
enum class ColorChoice { Auto, Always, Never };

struct GlobalOptions {
  std::string sysfs_root = "/sys";
  std::string proc_root = "/proc";
  std::string state_dir = "/run/vfio-reconcile";
  std::optional<std::string> modules_dir;
  std::optional<std::chrono::milliseconds> timeout;  // --timeout; none: the manifest's setting
  ColorChoice color = ColorChoice::Auto;
  int verbose = 0;
  bool quiet = false;
};

// "5s", "500ms", "2m" as the manifest writes durations (100ms to 10m), or a plain number of
// seconds from 0.001 to 3600 as earlier releases took it.
std::optional<std::chrono::milliseconds> parse_timeout_option(std::string_view text,
                                                              std::string* why = nullptr);

class CommandLine {
 public:
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Parses argv. Returns the exit code when the run ends here: help or the version was asked
  // for (written to `out`, 0), or the command line is wrong (written to `err`, 64).
  std::optional<int> parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

  // Whether the global option `name` ("--proc-root") was given, before or after the command.
  bool given(const std::string& name) const;

  GlobalOptions global;
  StatusOptions status;
  OwnersOptions owners;
  ValidateOptions validate;
  PlanCommandOptions plan;
  ApplyCommandOptions apply;
  ShowOptions show;

  CLI::App app{"vfio-reconcile: bind PCIe devices to vfio-pci from a declarative manifest",
               "vfio-reconcile"};
  CLI::App* status_cmd = nullptr;
  CLI::App* owners_cmd = nullptr;
  CLI::App* validate_cmd = nullptr;
  CLI::App* plan_cmd = nullptr;
  CLI::App* apply_cmd = nullptr;
  CLI::App* show_cmd = nullptr;

 private:
  void add_global_options();
  void add_commands();
  void add_apply_command();
  std::vector<std::string> command_names() const;
  // What CLI11 left over (an unknown option or command), answered with the closest known name.
  void check_leftovers() const;
  // What CLI11 cannot express: --config-dir only with --boot, MANIFEST or --boot for apply.
  void check_combinations() const;

  CLI::App* help_cmd_ = nullptr;
  CLI::App* version_cmd_ = nullptr;
  std::string help_topic_;
};

}  // namespace vfio::cli
