#define BOOST_TEST_MODULE memory_store
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "sim/memory_store.h"
#include "store/state_file.h"

// The in-memory store keeps what a process sees apart from what a power cut leaves, as a file
// system's page cache and disk are apart; the crash and power-cut matrices rest on it.

using namespace vfio;
using sim::MemoryStore;

namespace {

const Store::Path kDir = "/state";
const Store::Path kFile = "/state/record";

std::string read_or(MemoryStore& store, const Store::Path& file, const std::string& otherwise) {
  auto bytes = store.read(file);
  return bytes ? *bytes : otherwise;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_power_cut_keeps_only_synced_data_in_synced_directory_entries) {
  MemoryStore store;
  BOOST_REQUIRE(make_dirs(store, kDir, 0755));
  BOOST_REQUIRE(store.create(kFile, "new", 0644));
  BOOST_TEST(read_or(store, kFile, "-") == "new");  // a process sees it at once
  store.power_cut();
  BOOST_TEST(read_or(store, kFile, "-") == "-");  // the directory entry was never synced

  BOOST_REQUIRE(store.create(kFile, "data", 0644));
  BOOST_REQUIRE(store.sync_dir(kDir));
  store.power_cut();
  BOOST_TEST(read_or(store, kFile, "-") == "");  // the entry lasted, the data never synced

  BOOST_REQUIRE(store.remove(kFile));
  BOOST_REQUIRE(store.sync_dir(kDir));
  BOOST_REQUIRE(replace_file_atomically(store, kFile, "whole", 0644));
  store.power_cut();
  BOOST_TEST(read_or(store, kFile, "-") == "whole");
}

BOOST_AUTO_TEST_CASE(an_atomic_replace_cut_at_any_change_leaves_old_or_new) {
  for (unsigned cut = 1; cut <= 3; ++cut) {  // create, sync the file, rename (then sync dir)
    BOOST_TEST_CONTEXT("power cut after change " << cut) {
      MemoryStore store;
      store.put(kFile, "old");
      store.crash_after_change(store.changes() + cut);
      (void)replace_file_atomically(store, kFile, "new", 0644);
      store.power_cut();
      BOOST_TEST(read_or(store, kFile, "-") == "old");
    }
  }
  MemoryStore store;
  store.put(kFile, "old");
  BOOST_REQUIRE(replace_file_atomically(store, kFile, "new", 0644));
  store.power_cut();
  BOOST_TEST(read_or(store, kFile, "-") == "new");
}

BOOST_AUTO_TEST_CASE(a_frozen_store_changes_nothing_until_thawed) {
  MemoryStore store;
  store.put(kFile, "old");
  bool hook = false;
  store.crash_after_change(store.changes() + 1, [&] { hook = true; });
  BOOST_REQUIRE(store.create("/state/a", "a", 0644));
  BOOST_TEST(hook);
  BOOST_TEST(store.frozen());
  auto refused = store.rename("/state/a", kFile, true);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(refused.error().error == EIO);
  BOOST_TEST(read_or(store, kFile, "-") == "old");
  store.thaw();
  BOOST_TEST(store.rename("/state/a", kFile, true).ok());
  BOOST_TEST(read_or(store, kFile, "-") == "a");
}

BOOST_AUTO_TEST_CASE(any_operation_can_be_made_to_fail_and_a_failed_replace_leaves_no_temporary) {
  MemoryStore store;
  store.put(kFile, "old");
  store.fail(IoError::Op::Rename, "record", EXDEV);
  auto replaced = replace_file_atomically(store, kFile, "new", 0644);
  BOOST_REQUIRE(!replaced);
  BOOST_TEST((replaced.error().op == IoError::Op::Rename));
  BOOST_TEST(replaced.error().error == EXDEV);
  BOOST_TEST(read_or(store, kFile, "-") == "old");
  auto names = store.list(kDir);
  BOOST_REQUIRE(names);
  BOOST_TEST((*names == std::vector<std::string>{"record"}));

  store.fail(IoError::Op::Read, "record", EACCES, 2);
  BOOST_TEST(store.read(kFile).ok());
  BOOST_TEST(store.read(kFile).error().error == EACCES);
  BOOST_TEST(store.read(kFile).ok());
}

BOOST_AUTO_TEST_CASE(a_lock_is_exclusive_and_dies_with_its_process) {
  MemoryStore store;
  store.put("/state/x", "");
  auto first = store.lock("/state/lock", false);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(*first);
  auto second = store.lock("/state/lock", false);
  BOOST_REQUIRE(second);
  BOOST_TEST(!*second);
  store.thaw();  // the holder's process is gone
  auto third = store.lock("/state/lock", false);
  BOOST_REQUIRE(third);
  BOOST_TEST(static_cast<bool>(*third));
}
