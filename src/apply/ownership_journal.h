// The ownership journal: the OwnershipRecord kept on disk in the state directory
// (/run/vfio-reconcile/ownership.json by default), so that a later run knows what this tool bound
// and what it adopted, and a run that stopped half-way can be finished or undone.
//
// Every save replaces the whole file atomically (a temporary file in the same directory, fsync,
// rename, fsync of the directory): a crash leaves the old record or the new one, never a mix.
// The record is stamped with the boot id: group numbers and bindings mean nothing after a
// reboot, so a record from another boot is stale. A stale or corrupt record is reported and
// ignored, never fatal: the tool then simply owns nothing, and the file is kept aside, not lost.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <boost/filesystem/path.hpp>

#include "plan/ownership.h"
#include "store/store.h"
#include "util/result.h"

namespace vfio {

// The state directory could not be created, read or written: what was being done, then the
// store's error (the operation, the path and the errno). Callers branch on io() (the CLI tells
// EACCES/EPERM apart), never on the text.
class StateDirError : public std::runtime_error {
 public:
  StateDirError(const std::string& doing, IoError io)
      : std::runtime_error(doing + ": " + io.to_string()), io_(std::move(io)) {}
  const IoError& io() const { return io_; }
  int error() const { return io_.error; }

 private:
  IoError io_;
};

struct LoadedRecord {
  OwnershipRecord record;
  // One line each, naming the file: unreadable or corrupt JSON (with where), another boot's
  // record, entries dropped because an address, driver name or field is not valid.
  std::vector<std::string> problems;
  // The file exists but could not be used at all (corrupt, stale): keep_aside() moves it away
  // before the next save, so what it said is not lost.
  bool unusable_file = false;
  // Some entries were dropped (a field not valid, a group listed twice), the rest are in
  // `record`: keep_copy_aside() keeps the file as it was before a save rewrites it without them.
  bool dropped_entries = false;
  // The file (or the boot id it is checked against) exists but could not be read: its errno.
  // `record` is then empty although the file may hold groups: a command whose whole answer is
  // the record (`owners`) must say so rather than list nothing.
  int read_error = 0;
};

class OwnershipJournal {
 public:
  // `boot_id`: /proc/sys/kernel/random/boot_id of the running kernel (tests pass their own).
  OwnershipJournal(Store& store, boost::filesystem::path state_dir, std::string boot_id);

  boost::filesystem::path file() const;  // <state dir>/ownership.json

  // Reads the record; writes nothing and creates nothing (plan and --dry-run use it). A missing
  // directory or file is an empty record with no problems.
  LoadedRecord load() const;

  // Renames an unusable file to ownership.json.<reason>-<UTC time> in the same directory (with
  // "-N" added when that name is taken); nothing to do when there is no file. Throws
  // StateDirError (std::invalid_argument when `reason` cannot be part of a file name).
  void keep_aside(const std::string& reason) const;

  // Copies the file, as it is, to ownership.json.<reason>-<UTC time> (with "-N" added when that
  // name is taken); the file itself stays. Nothing to do when there is no file. Throws
  // StateDirError (std::invalid_argument for a `reason` that cannot be part of a file name).
  void keep_copy_aside(const std::string& reason) const;

  // Replaces the file with `record` atomically. Throws StateDirError (std::invalid_argument for
  // a record load() would not take back, such as a driver name with a '/': a caller's bug).
  void save(const OwnershipRecord& record) const;

 private:
  Store& store_;
  boost::filesystem::path state_dir_;
  std::string boot_id_;
};

// Creates the state directory when missing, mode 0700 (its missing parents 0755). Throws
// StateDirError.
void ensure_state_dir(Store& store, const boost::filesystem::path& state_dir);

// The running kernel's boot id, read from `proc_root`/sys/kernel/random/boot_id, trimmed.
// Throws StateDirError when it cannot be read.
std::string read_boot_id(Store& store, const boost::filesystem::path& proc_root = "/proc");

}  // namespace vfio
