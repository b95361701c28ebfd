#include "apply/kernel_modules.h"

#include <libkmod.h>

#include <sys/utsname.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "util/result.h"

namespace vfio {

namespace {

std::string running_kernel_modules_dir() {
  utsname u{};
  if (uname(&u) != 0) return "/lib/modules";
  return fmt::format("/lib/modules/{}", u.release);
}

}  // namespace

KmodModules::KmodModules(std::optional<std::string> modules_dir)
    : dir_(modules_dir ? std::move(*modules_dir) : running_kernel_modules_dir()) {}

KmodModules::~KmodModules() {
  if (context_) kmod_unref(context_);
}

kmod_ctx* KmodModules::context() {
  std::call_once(started_, [this] {
    // The directory libkmod itself would choose (/lib/modules/<uname -r>), or --modules-dir.
    context_ = kmod_new(dir_.c_str(), nullptr);
    if (!context_) spdlog::warn("libkmod could not start; kernel modules count as unavailable");
  });
  return context_;
}

bool KmodModules::available(std::string_view module) {
  kmod_ctx* ctx = context();
  if (!ctx) return false;
  const std::string name(module);
  kmod_list* list = nullptr;
  if (kmod_module_new_from_lookup(ctx, name.c_str(), &list) < 0 || !list) {
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

std::optional<std::string> KmodModules::load(std::string_view module) {
  const std::string name(module);
  kmod_ctx* ctx = context();
  if (!ctx) return "libkmod could not start";
  kmod_list* list = nullptr;
  if (kmod_module_new_from_lookup(ctx, name.c_str(), &list) < 0 || !list) {
    return fmt::format("no module or alias '{}' for the running kernel", name);
  }
  std::optional<std::string> error;
  for (kmod_list* it = list; it; it = kmod_list_next(list, it)) {
    kmod_module* mod = kmod_module_get_module(it);
    // Honours the blacklist like modprobe: a host that blacklisted vfio_pci meant it.
    const int rc = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, nullptr,
                                                   nullptr, nullptr, nullptr);
    if (rc < 0) {
      error = fmt::format("loading {} failed: {}", kmod_module_get_name(mod), describe_errno(-rc));
    } else if (rc > 0) {
      error =
          fmt::format("{} is blacklisted (modprobe.d); not loading it", kmod_module_get_name(mod));
    } else {
      error.reset();
    }
    kmod_module_unref(mod);
    if (!error) break;
  }
  kmod_module_unref_list(list);
  return error;
}

Result<ModulesAlias> KmodModules::modules_alias() {
  // depmod writes it from the modules' own ID tables; a distribution kernel's is about 1.3 MB.
  constexpr std::streamoff kLimit = 64 << 20;
  ModulesAlias out{dir_ + "/modules.alias", {}};
  errno = 0;
  std::ifstream in(out.path, std::ios::binary);
  // filebuf::open fails through open(2), whose errno is left as it set it.
  if (!in) return IoError{IoError::Op::Open, out.path, errno ? errno : ENOENT, {}};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError{IoError::Op::Read, out.path, EIO, {}};
  out.text = std::move(text).str();
  if (static_cast<std::streamoff>(out.text.size()) > kLimit) {
    return IoError{IoError::Op::Read, out.path, EFBIG, {}};
  }
  return out;
}

}  // namespace vfio
