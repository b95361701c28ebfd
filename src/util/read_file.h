// Reading a whole small file (a state file, /proc's boot id) with the errno kept for the message.
#pragma once

#include <string>

#include "util/result.h"

namespace vfio {

// The file's bytes; an IoError (Op::Read, the path, the errno) when it cannot be opened or read.
Result<std::string> read_whole_file(const std::string& path);

}  // namespace vfio
