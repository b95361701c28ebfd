// The initramfs hooks (packaging/initramfs: initramfs-tools and dracut) keep a copy of the
// manifests they put into a kernel's initramfs, in kInitramfsCopies/<kernel release>, laid out as
// the configuration directory. An initramfs made before a manifest changed claims by the old one
// at the next boot, so `apply` compares the two and says how they differ.
#pragma once

#include <string>
#include <vector>

namespace vfio {

class Store;

inline constexpr const char* kInitramfsCopies = "/var/lib/vfio-reconcile/initramfs";

// How the manifests of `copy_dir` differ from those of `config_dir` (config_dir_manifests() of
// each): "manifest.yaml differs", "manifest.d/gpu.yaml is not in it", "manifest.d/old.yaml is
// only in it". Empty when they are the same files byte for byte, or when `copy_dir` does not
// exist (no initramfs was made with a manifest).
std::vector<std::string> initramfs_copy_differences(Store& store, const std::string& config_dir,
                                                    const std::string& copy_dir);

}  // namespace vfio
