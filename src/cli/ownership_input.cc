#include "cli/ownership_input.h"

#include <spdlog/spdlog.h>

namespace vfio::cli {

std::string current_boot_id(const CommandEnv& env) {
  return env.boot_id ? *env.boot_id : read_boot_id(env.store, "/proc");
}

LoadedRecord read_ownership(const CommandEnv& env) {
  LoadedRecord loaded;
  try {
    loaded = OwnershipJournal(env.store, env.state_dir, current_boot_id(env)).load();
  } catch (const StateDirError& e) {
    loaded.problems.push_back(fmt::format("{}; what earlier runs bound is not known", e.what()));
    loaded.read_error = e.error();
  }
  for (const auto& problem : loaded.problems) spdlog::warn("{}", problem);
  return loaded;
}

}  // namespace vfio::cli
