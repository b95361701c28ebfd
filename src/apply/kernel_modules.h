// KernelModules: whether a kernel module can be loaded, and loading it, through the module tools'
// library (libkmod), not a shell-out. Injected into the reconcile pipeline (apply/reconciler.h),
// which asks before planning when vfio-pci is not loaded yet, and loads it before a claim.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

struct kmod_ctx;

namespace vfio {

// The running kernel's modules.alias, as text: its `vfio_pci:` aliases name the vfio drivers
// (observe/vfio_drivers.h).
struct ModulesAlias {
  std::string path;  // as a person types it
  std::string text;
};

class KernelModules {
 public:
  virtual ~KernelModules() = default;
  // The module (or an alias, "vfio-pci") exists for the running kernel, as a file or built in.
  virtual bool available(std::string_view module) = 0;
  // Loads the module (and what it depends on), as modprobe would. Nothing, or why not.
  virtual std::optional<std::string> load(std::string_view module) = 0;
  // modules.alias of the modules directory, or why it could not be read.
  virtual Result<ModulesAlias> modules_alias() = 0;
};

// libkmod over /lib/modules/<running kernel> (or `modules_dir`: --modules-dir). Started on the
// first question, not before: kmod_new reads every modprobe.d file, which a run that asks
// nothing of the modules (a plan with nothing to load, status) has no use for.
class KmodModules final : public KernelModules {
 public:
  explicit KmodModules(std::optional<std::string> modules_dir = std::nullopt);
  ~KmodModules() override;
  KmodModules(const KmodModules&) = delete;
  KmodModules& operator=(const KmodModules&) = delete;

  bool available(std::string_view module) override;
  std::optional<std::string> load(std::string_view module) override;
  Result<ModulesAlias> modules_alias() override;

 private:
  kmod_ctx* context();  // null when libkmod could not start

  std::once_flag started_;
  kmod_ctx* context_ = nullptr;
  std::string dir_;  // the modules directory libkmod reads
};

}  // namespace vfio
