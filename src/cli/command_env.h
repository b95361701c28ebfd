// What plan and apply are handed besides their own options: the gateway, the module loader,
// the state directory and the run's global settings.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include <boost/filesystem/path.hpp>

#include "cli/logging.h"

namespace vfio {
class KernelModules;
class Store;
class KernelFiles;
class Sysfs;
}  // namespace vfio

namespace vfio::cli {

struct CommandEnv {
  Sysfs& sysfs;
  KernelModules& modules;
  Store& store;                        // what lasts between runs: the state directory, the boot id
  boost::filesystem::path state_dir;   // --state-dir
  std::optional<std::string> boot_id;  // none: the running kernel's, from /proc
  std::optional<std::chrono::milliseconds> timeout;  // --timeout; none: the manifest's setting
  bool live_sys = false;                    // the gateway is the real /sys: changing it needs root
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM
  std::ostream& out;
  std::ostream& err;
  LogStyle log_style = LogStyle::Plain;  // how lines written to `err` itself must look
  LogStyle out_style = LogStyle::Plain;  // Journal: `out` is the journal (apply's report)
  bool color = false;  // colour what goes to `out` (a terminal, or --color=always)
  // /proc (--proc-root): who holds VFIO groups, routes, mounts; none: unknown.
  KernelFiles* proc = nullptr;
  // Where the initramfs hooks keep their copies of the manifests (manifest/initramfs_copy.h),
  // and the running kernel's release (none: /proc/sys/kernel/osrelease).
  boost::filesystem::path initramfs_copies;
  std::optional<std::string> kernel_release;
  // Asks the person at the terminal a yes/no question (the text ends with the question); none:
  // nobody to ask (not a terminal, the boot unit), and the run goes on as asked.
  std::function<bool(const std::string& question)> confirm;
};

}  // namespace vfio::cli
