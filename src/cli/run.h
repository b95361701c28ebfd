// The command-line entry point as a function, so tests run the real CLI in-process.
#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "cli/logging.h"

namespace vfio {
class KernelModules;
class KernelFiles;
class Store;
class Sysfs;
}  // namespace vfio

namespace vfio::cli {

// Where a run's input and output go. Tests hand in a simulated kernel and string streams;
// main() hands in nothing, and the gateway is built from --sysfs-root.
struct Context {
  Sysfs* sysfs = nullptr;            // overrides --sysfs-root when set
  KernelModules* modules = nullptr;  // overrides libkmod when set
  Store* store = nullptr;            // overrides the file system for the state directory
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::optional<std::string> boot_id;       // overrides /proc/sys/kernel/random/boot_id
  const std::atomic<bool>* stop = nullptr;  // set when SIGINT/SIGTERM arrive (main() does it)
  // How log lines look. None: Journal when the process's stderr is the journal, else Plain
  // (always Plain when `err` is handed in).
  std::optional<LogStyle> log_style;
  // What `out` is: None: Journal when the process's stdout is the journal, else Plain (always
  // Plain when `out` is handed in).
  std::optional<LogStyle> out_style;
  // How many columns `out` has, which `status` fits its device lines to; 0: no limit. None: the
  // terminal's ($COLUMNS, else its size) when stdout is one, else no limit (always no limit when
  // `out` is handed in).
  std::optional<std::size_t> out_columns;
  // Overrides --proc-root when set. With `sysfs` set and neither this nor --proc-root given, no
  // /proc is read: a simulated host's devices and this machine's processes do not mix.
  KernelFiles* proc = nullptr;
  // Override where the initramfs hooks' manifest copies are, and the running kernel's release.
  std::optional<std::string> initramfs_copies;
  std::optional<std::string> kernel_release;
  // Overrides how apply asks before a prune (CommandEnv::confirm); none: on a terminal (stdin
  // and stderr both), a question on stderr answered on stdin; elsewhere, nobody is asked.
  std::function<bool(const std::string& question)> confirm;
};

int run(int argc, const char* const* argv, const Context& context = {});

}  // namespace vfio::cli
