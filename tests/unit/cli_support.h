// Running the real CLI entry point (cli::run) in-process, as the CLI suites do: arguments as
// strings, stdout and stderr captured.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/run.h"

namespace vfio::test {

struct Ran {
  int code;
  std::string out;
  std::string err;
};

// Runs `vfio-reconcile ARGS...` with `context`, whose out and err are replaced by string streams.
inline Ran run_cli(const std::vector<std::string>& args, cli::Context context = {}) {
  std::vector<const char*> argv{"vfio-reconcile"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  context.out = &out;
  context.err = &err;
  const int code = cli::run(static_cast<int>(argv.size()), argv.data(), context);
  return {code, out.str(), err.str()};
}

// `vfio-reconcile --state-dir STATE_DIR ARGS...` on a simulated kernel and its module loader;
// `context` may set the rest (a terminal's width, say).
inline Ran run_cli_on(Sysfs& kernel, KernelModules& modules, const std::string& state_dir,
                      std::vector<std::string> args, const std::string& boot_id = "cli-test",
                      cli::Context context = {}) {
  args.insert(args.begin(), {"--state-dir", state_dir});
  context.sysfs = &kernel;
  context.modules = &modules;
  context.boot_id = boot_id;
  return run_cli(args, context);
}

}  // namespace vfio::test
