// KernelModules: whether a kernel module can be loaded, and loading it, through the module tools'
// library (libkmod), not a shell-out. Injected into the reconcile pipeline (apply/reconciler.h),
// which asks before planning when vfio-pci is not loaded yet, and loads it before a claim.
#pragma once

#include <optional>
#include <string>
#include <string_view>

struct kmod_ctx;

namespace vfio {

class KernelModules {
 public:
  virtual ~KernelModules() = default;
  // The module (or an alias, "vfio-pci") exists for the running kernel, as a file or built in.
  virtual bool available(std::string_view module) = 0;
  // Loads the module (and what it depends on), as modprobe would. Nothing, or why not.
  virtual std::optional<std::string> load(std::string_view module) = 0;
};

// libkmod over /lib/modules/<running kernel> (or `modules_dir`).
class KmodModules final : public KernelModules {
 public:
  explicit KmodModules(std::optional<std::string> modules_dir = std::nullopt);
  ~KmodModules() override;
  KmodModules(const KmodModules&) = delete;
  KmodModules& operator=(const KmodModules&) = delete;

  bool available(std::string_view module) override;
  std::optional<std::string> load(std::string_view module) override;

 private:
  kmod_ctx* context_;
};

}  // namespace vfio
