#include "observe/kernel_modules.h"

#include <libkmod.h>

#include <spdlog/spdlog.h>

namespace vfio {

KmodModules::KmodModules(std::optional<std::string> modules_dir)
    : context_(kmod_new(modules_dir ? modules_dir->c_str() : nullptr, nullptr)) {
  if (!context_) spdlog::warn("libkmod could not start; kernel modules count as unavailable");
}

KmodModules::~KmodModules() {
  if (context_) kmod_unref(context_);
}

bool KmodModules::available(std::string_view module) {
  if (!context_) return false;
  const std::string name(module);
  kmod_list* list = nullptr;
  if (kmod_module_new_from_lookup(context_, name.c_str(), &list) < 0 || !list) {
    spdlog::debug("libkmod: no module or alias '{}' for this kernel", name);
    return false;
  }
  bool found = false;
  for (kmod_list* it = list; it && !found; it = kmod_list_next(list, it)) {
    kmod_module* mod = kmod_module_get_module(it);
    // A module with a path can be loaded; one without is built in (or was removed from disk).
    found = kmod_module_get_path(mod) != nullptr ||
            kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN;
    kmod_module_unref(mod);
  }
  kmod_module_unref_list(list);
  return found;
}

}  // namespace vfio
