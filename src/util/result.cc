#include "util/result.h"

#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace vfio {
namespace {

std::string_view op_verb(IoError::Op op) {
  switch (op) {
    case IoError::Op::Read:
      return "read";
    case IoError::Op::ReadLink:
      return "read link";
    case IoError::Op::List:
      return "list";
    case IoError::Op::Write:
      return "write";
    case IoError::Op::Stat:
      return "stat";
    case IoError::Op::MakeDir:
      return "mkdir";
    case IoError::Op::Open:
      return "open";
    case IoError::Op::Create:
      return "create";
    case IoError::Op::Sync:
      return "fsync";
    case IoError::Op::Rename:
      return "rename";
    case IoError::Op::Remove:
      return "remove";
    case IoError::Op::Lock:
      return "lock";
  }
  return "access";
}

// Written values often end in "\n" or are a lone "\n" (a clear): show them so a person can tell.
std::string escape_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string errno_name(int error) {
  // strerrorname_np is glibc >= 2.32 (Debian 12 has 2.36); it returns null for unknown values.
  if (const char* name = strerrorname_np(error)) return name;
  return fmt::format("errno {}", error);
}

std::string describe_errno(int error) {
  return fmt::format("{} ({})", std::strerror(error), errno_name(error));
}

std::string IoError::to_string() const {
  std::string what;
  if (op == Op::Write && !value.empty())
    what = fmt::format("write '{}' to {}", escape_value(value), path);
  else if (op == Op::Rename)
    what = fmt::format("rename {} to {}", path, value);
  else
    what = fmt::format("{} {}", op_verb(op), path);
  return fmt::format("{}: {}", what, describe_errno(error));
}

}  // namespace vfio
