// Result<T>: a value, or the IoError that kept us from getting it.
//
// Kernel and file I/O fail in ways a person must be told about precisely (which path, what was
// written, which errno), so every gateway and store call returns one of these instead of
// throwing, and callers branch on `op` and `error`, never on the text.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace vfio {

struct IoError {
  // Read, ReadLink, List and Write are the gateway's; the rest are the store's.
  // clang-format off
  enum class Op { Read, ReadLink, List, Write, Stat, MakeDir, Open, Create, Sync, Rename, Remove,
                  Lock };
  // clang-format on

  Op op = Op::Read;
  std::string path;  // as a person would type it, e.g. /sys/bus/pci/drivers_probe
  int error = 0;     // errno
  // Write: the bytes written (none: a file's contents, not shown); Rename: the path renamed to.
  std::string value;

  // "write '0000:01:00.0' to /sys/bus/pci/drivers/e1000e/unbind: No such device (ENODEV)",
  // "rename /run/x/.ownership.json.tmp-1a2b to /run/x/ownership.json: Is a directory (EISDIR)"
  std::string to_string() const;
};

// The symbolic errno name ("ENODEV"), or the number when the name is unknown.
std::string errno_name(int error);
// "No such device (ENODEV)": how every message here shows an errno.
std::string describe_errno(int error);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(IoError error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const IoError& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, IoError> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(IoError error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const IoError& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  IoError error_;
  bool ok_ = true;
};

}  // namespace vfio
