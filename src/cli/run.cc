#include "cli/run.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "apply/kernel_modules.h"
#include "cli/command_env.h"
#include "cli/command_line.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/ownership_input.h"
#include "cli/write_trace.h"
#include "manifest/initramfs_copy.h"
#include "store/store.h"
#include "sysfs/real_sysfs.h"

namespace vfio::cli {
namespace {

// apply's question before a prune: on stderr, answered by a line on stdin ("y" or "yes").
bool ask_at_terminal(const std::string& question) {
  std::cerr << question << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  for (auto& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

// Whether a stream gets colour: --color, else (auto) a terminal and no NO_COLOR in the
// environment (no-color.org: set and not empty).
bool use_color(ColorChoice choice, bool handed_in, int fd) {
  if (choice != ColorChoice::Auto) return choice == ColorChoice::Always;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return !handed_in && ::isatty(fd) == 1;
}

// The columns of the terminal stdout is, as systemctl finds them: $COLUMNS when set to a number,
// else the terminal's size; 0 when stdout is no terminal (or handed in).
std::size_t terminal_columns(bool handed_in) {
  if (handed_in || ::isatty(STDOUT_FILENO) != 1) return 0;
  if (const char* columns = std::getenv("COLUMNS")) {
    std::size_t value = 0;
    const char* end = columns + std::strlen(columns);
    if (auto [at, ec] = std::from_chars(columns, end, value);
        ec == std::errc() && at == end && value > 0) {
      return value;
    }
  }
  struct winsize size {};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}

}  // namespace

int run(int argc, const char* const* argv, const Context& context) {
  std::ostream& out = context.out ? *context.out : std::cout;
  std::ostream& err = context.err ? *context.err : std::cerr;

  CommandLine line;
  if (const auto code = line.parse(argc, argv, out, err)) return *code;
  const GlobalOptions& global = line.global;

  const LogStyle style =
      context.log_style.value_or(context.err ? LogStyle::Plain : detect_style(STDERR_FILENO));
  const bool color_err =
      style == LogStyle::Plain && use_color(global.color, context.err != nullptr, STDERR_FILENO);
  auto logger = make_logger(global.quiet ? -1 : global.verbose, context.err, style, color_err);
  // Manifests only: validate never builds the sysfs gateway.
  RealStore real_store;
  Store& store = context.store ? *context.store : real_store;
  if (line.validate_cmd->parsed()) return run_validate(line.validate, store, out, err, style);
  std::unique_ptr<Sysfs> owned;
  Sysfs* sysfs = context.sysfs;
  if (!sysfs) {
    owned = std::make_unique<RealSysfs>(global.sysfs_root);
    sysfs = owned.get();
  }
  // -v: every write as it is made (write_trace.h).
  std::unique_ptr<Sysfs> traced;
  if (!global.quiet && global.verbose > 0) {
    traced = std::make_unique<WriteTracingSysfs>(*sysfs);
    sysfs = traced.get();
  }

  std::unique_ptr<Sysfs> owned_proc;
  KernelFiles* proc = context.proc;
  if (!proc && (!context.sysfs || line.given("--proc-root"))) {
    owned_proc = std::make_unique<RealSysfs>(global.proc_root);
    proc = owned_proc.get();
  }

  std::unique_ptr<KernelModules> own_modules;
  KernelModules* modules = context.modules;
  if (!modules) {
    own_modules = std::make_unique<KmodModules>(global.modules_dir);
    modules = own_modules.get();
  }
  CommandEnv env{.sysfs = *sysfs,
                 .modules = *modules,
                 .store = store,
                 .state_dir = global.state_dir,
                 .boot_id = context.boot_id,
                 .timeout = global.timeout,
                 .live_sys = !context.sysfs && global.sysfs_root == "/sys",
                 .stop = context.stop,
                 .out = out,
                 .err = err,
                 .log_style = style,
                 .out_style = context.out_style.value_or(context.out ? LogStyle::Plain
                                                                     : detect_style(STDOUT_FILENO)),
                 .color = use_color(global.color, context.out != nullptr, STDOUT_FILENO),
                 .proc = proc,
                 .initramfs_copies = context.initramfs_copies.value_or(kInitramfsCopies),
                 .kernel_release = context.kernel_release,
                 .confirm = context.confirm};
  // Nobody handed in a way to ask: the terminal, when the run has one to ask at.
  if (!env.confirm && !context.out && !context.err && ::isatty(STDIN_FILENO) == 1 &&
      ::isatty(STDERR_FILENO) == 1) {
    env.confirm = ask_at_terminal;
  }
  if (line.status_cmd->parsed()) {
    return run_status(line.status, *sysfs, proc, read_ownership(env).record, out,
                      context.out_columns.value_or(terminal_columns(context.out != nullptr)));
  }
  if (line.owners_cmd->parsed()) return run_owners(line.owners, env);
  if (line.plan_cmd->parsed()) return run_plan(line.plan, env);
  if (line.apply_cmd->parsed()) return run_apply(line.apply, env);
  if (line.show_cmd->parsed()) return run_show(line.show, env);
  return kExitUsage;  // unreachable: a command is required
}

}  // namespace vfio::cli
