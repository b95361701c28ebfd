// Whether what the tool reads as root can be changed only by root (as sshd's StrictModes asks of
// its files): a manifest that another user may write, or that sits in a directory another user
// may write, lets that user make root unbind devices; a state directory another user may write
// lets them forge the ownership record.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "store/store.h"

namespace vfio {

struct Untrusted {
  std::string path;  // the file or directory at fault (maybe a directory above the one asked)
  uid_t owner = 0;
  mode_t mode = 0;  // permission bits
  std::string why;  // "writable by its group", "writable by anyone", "owned by uid 1000"
  std::string fix;  // the command that fixes it: "chmod go-w /etc/vfio-reconcile"

  // "/etc/vfio-reconcile/manifest.yaml (owner uid 1000, mode 0666) is writable by anyone"
  std::string str() const;
};

// `path` and every directory above it must be owned by root (or by `trusted`, the user running
// the tool: a non-root run trusts itself) and not writable by group or others. A directory with
// the sticky bit owned by root (/tmp) is allowed above: nobody else may replace what is in it.
// None when all holds; an error of the store (not a verdict) is returned as itself.
Result<std::optional<Untrusted>> only_root_can_change(Store& store, const Store::Path& path,
                                                      uid_t trusted);

// A directory only root (or `trusted`) may use at all: its owner, and no permission for group or
// others; and `only_root_can_change` of the directories above it. None for a missing directory
// (it is made private).
Result<std::optional<Untrusted>> private_directory(Store& store, const Store::Path& dir,
                                                   uid_t trusted);

}  // namespace vfio
