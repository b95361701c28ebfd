#define BOOST_TEST_MODULE run_lock
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include <boost/filesystem.hpp>

#include "apply/ownership_journal.h"
#include "apply/run_lock.h"
#include "test_support.h"

using vfio::RunLock;
using vfio::StateDirError;
using vfio::test::contains;
using vfio::test::ScratchDir;
namespace fs = boost::filesystem;

// flock(2) locks belong to the open file description, not the process: a second acquire in
// the same process opens the file again and so conflicts, like another run would.
BOOST_AUTO_TEST_CASE(a_second_acquire_is_refused_while_the_first_holds_the_lock) {
  ScratchDir dir("lock");
  auto first = RunLock::acquire(vfio::test::disk(), dir.path(), false);
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST(fs::is_regular_file(dir.path() / "lock"));
  BOOST_TEST(!RunLock::acquire(vfio::test::disk(), dir.path(), false).has_value());
  BOOST_TEST(!RunLock::acquire(vfio::test::disk(), dir.path(), false).has_value());
}

BOOST_AUTO_TEST_CASE(the_lock_is_released_when_the_run_lock_is_destroyed) {
  ScratchDir dir("lock");
  {
    auto first = RunLock::acquire(vfio::test::disk(), dir.path(), false);
    BOOST_TEST_REQUIRE(first.has_value());
  }
  auto again = RunLock::acquire(vfio::test::disk(), dir.path(), false);
  BOOST_TEST(again.has_value());
}

BOOST_AUTO_TEST_CASE(moving_keeps_the_lock_with_the_new_owner) {
  ScratchDir a("lock");
  ScratchDir b("lock");
  auto held = RunLock::acquire(vfio::test::disk(), a.path(), false);
  BOOST_TEST_REQUIRE(held.has_value());
  std::optional<RunLock> moved;
  {
    RunLock taken = std::move(*held);
    held.reset();  // the moved-from lock closes nothing
    BOOST_TEST(!RunLock::acquire(vfio::test::disk(), a.path(), false).has_value());
    moved.emplace(std::move(taken));
  }
  BOOST_TEST(!RunLock::acquire(vfio::test::disk(), a.path(), false).has_value());

  // Assigning over a held lock releases the one it held.
  auto other = RunLock::acquire(vfio::test::disk(), b.path(), false);
  BOOST_TEST_REQUIRE(other.has_value());
  *moved = std::move(*other);
  other.reset();
  BOOST_TEST(RunLock::acquire(vfio::test::disk(), a.path(), false).has_value());
  BOOST_TEST(!RunLock::acquire(vfio::test::disk(), b.path(), false).has_value());
  moved.reset();
  BOOST_TEST(RunLock::acquire(vfio::test::disk(), b.path(), false).has_value());
}

BOOST_AUTO_TEST_CASE(waiting_blocks_until_the_holder_lets_go) {
  ScratchDir dir("lock");
  auto held = RunLock::acquire(vfio::test::disk(), dir.path(), false);
  BOOST_TEST_REQUIRE(held.has_value());
  std::atomic<bool> released{false};
  std::thread holder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    released = true;
    held.reset();
  });
  std::optional<RunLock> waited;
  try {
    waited = RunLock::acquire(vfio::test::disk(), dir.path(), true);
  } catch (...) {
    holder.join();
    throw;
  }
  const bool was_released = released;
  holder.join();
  BOOST_TEST(waited.has_value());
  BOOST_TEST(was_released);  // it did not get the lock before the holder let it go
}

BOOST_AUTO_TEST_CASE(another_process_is_refused_while_this_one_holds_the_lock) {
  ScratchDir dir("lock");
  auto held = RunLock::acquire(vfio::test::disk(), dir.path(), false);
  BOOST_TEST_REQUIRE(held.has_value());
  const pid_t child = ::fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    int status = 3;
    try {
      status = RunLock::acquire(vfio::test::disk(), dir.path(), false).has_value() ? 1 : 0;
    } catch (...) {
      status = 2;
    }
    ::_exit(status);
  }
  int status = 0;
  BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);  // 1: it got the lock; 2: it threw
}

BOOST_AUTO_TEST_CASE(a_missing_state_directory_is_an_error_naming_the_lock_file) {
  ScratchDir dir("lock");
  const fs::path missing = dir.path() / "missing";
  try {
    (void)RunLock::acquire(vfio::test::disk(), missing, false);
    BOOST_FAIL("acquire() in a missing directory did not throw");
  } catch (const StateDirError& e) {
    BOOST_TEST(e.error() == ENOENT);
    BOOST_TEST(contains(e.what(), "open " + (missing / "lock").string()), e.what());
    BOOST_TEST(contains(e.what(), "(ENOENT)"), e.what());
  }
  BOOST_TEST(!fs::exists(missing));
}
