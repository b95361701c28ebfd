// What the state directory needs of a Store, written once over its primitives.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "store/store.h"

namespace vfio {

// Replaces `file` with `bytes` so that a crash or a power cut leaves either the old bytes or the
// new ones, never a mix and never an empty file: the bytes go to a new file in the same
// directory (rename(2) is atomic only within one file system), which is synced before it is
// renamed over the target (otherwise the rename could reach the disk before the data); the
// directory is synced last, so the rename itself lasts. On failure the temporary file is gone
// and `file` is as it was, unless only the last sync failed: the new file is then in place, but
// the rename might not survive a power cut.
Result<void> replace_file_atomically(Store& store, const Store::Path& file, std::string_view bytes,
                                     mode_t mode);

// mkdir -p with `mode` for each directory created (not 0777 less the umask: the state directory
// of a tool that runs as root must not be writable by others whatever the umask). A path that
// exists and is not a directory is ENOTDIR.
Result<void> make_dirs(Store& store, const Store::Path& dir, mode_t mode);

}  // namespace vfio
