#define BOOST_TEST_MODULE real_sysfs
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>

#include <boost/filesystem.hpp>

#include "sysfs/real_sysfs.h"
#include "test_support.h"

using vfio::IoError;
using vfio::RealSysfs;
using vfio::SysPath;
namespace fs = boost::filesystem;

namespace {

// A small sysfs tree in a scratch directory, removed at the end.
struct TempTree {
  TempTree() : dir("real-sysfs"), root(dir.path()) {
    fs::create_directories(root / "bus" / "pci" / "drivers" / "e1000e");
    std::ofstream((root / "bus" / "pci" / "drivers_probe").string());
    std::ofstream((root / "bus" / "pci" / "vendor").string()) << "0x8086\n";
    fs::create_symlink("drivers/e1000e", root / "bus" / "pci" / "link");
  }
  vfio::test::ScratchDir dir;
  fs::path root;
};

const SysPath kPci = SysPath() / "bus" / "pci";

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

template <class T>
int error_of(const vfio::Result<T>& r) {
  return r.ok() ? 0 : r.error().error;
}

// True when this process has no child left to reap, running or a zombie.
bool no_children() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

// Waits until `fd` reports one of `events`, for at most `limit`.
bool wait_for(int fd, short events, std::chrono::milliseconds limit) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(limit.count())) == 1 && (p.revents & events) != 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_whole_attributes_and_honours_the_limit) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto full = sysfs.read(kPci / "vendor", 4096);
  BOOST_REQUIRE(full.ok());
  BOOST_TEST(*full == "0x8086\n");
  BOOST_TEST(*sysfs.read(kPci / "vendor", 3) == "0x8");
}

// A /proc table (routes, mounts) is read with a limit of megabytes; the buffer grows with what
// is there, so a limit far beyond memory costs nothing (it was allocated whole, and zero-filled).
BOOST_AUTO_TEST_CASE(reads_longer_files_whole_whatever_the_limit) {
  TempTree t;
  std::string table;
  for (int i = 0; table.size() < 100000; ++i) table += "line " + std::to_string(i) + "\n";
  std::ofstream((t.root / "table").string()) << table;
  RealSysfs sysfs(t.root);
  auto whole = sysfs.read(SysPath() / "table", std::size_t{1} << 44);  // 16 TiB
  BOOST_REQUIRE(whole.ok());
  BOOST_TEST(*whole == table);
  for (std::size_t limit : {std::size_t{4096}, std::size_t{4097}, std::size_t{12345},
                            std::size_t{65536}, table.size(), table.size() + 1}) {
    auto part = sysfs.read(SysPath() / "table", limit);
    BOOST_REQUIRE(part.ok());
    BOOST_TEST(*part == table.substr(0, limit), "limit " << limit);
  }
}

BOOST_AUTO_TEST_CASE(errors_carry_op_path_and_errno) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto missing = sysfs.read(kPci / "nope", 64);
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().error == ENOENT);
  BOOST_TEST(missing.error().path == (t.root / "bus/pci/nope").string());
  BOOST_TEST(missing.error().to_string().find("No such file or directory (ENOENT)") !=
             std::string::npos);

  auto not_a_link = sysfs.read_link(kPci / "vendor");
  BOOST_REQUIRE(!not_a_link.ok());
  BOOST_TEST(not_a_link.error().error == EINVAL);

  auto not_a_dir = sysfs.list(kPci / "vendor");
  BOOST_REQUIRE(!not_a_dir.ok());
  BOOST_TEST(not_a_dir.error().error == ENOTDIR);

  auto write_missing = sysfs.write(kPci / "drivers" / "nope" / "bind", "0000:01:00.0");
  BOOST_REQUIRE(!write_missing.ok());
  BOOST_TEST(write_missing.error().error == ENOENT);
  BOOST_TEST(write_missing.error().value == "0000:01:00.0");
  BOOST_TEST(write_missing.error().to_string() ==
             "write '0000:01:00.0' to " + (t.root / "bus/pci/drivers/nope/bind").string() +
                 ": No such file or directory (ENOENT)");
}

BOOST_AUTO_TEST_CASE(writes_exactly_the_value) {
  TempTree t;
  RealSysfs sysfs(t.root);
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "0000:01:00.0").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "0000:01:00.0");
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "\n").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "\n");
}

BOOST_AUTO_TEST_CASE(lists_and_reads_links) {
  TempTree t;
  RealSysfs sysfs(t.root);
  auto names = sysfs.list(kPci);
  BOOST_REQUIRE(names.ok());
  auto sorted = *names;
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST(sorted == (std::vector<std::string>{"drivers", "drivers_probe", "link", "vendor"}),
             boost::test_tools::per_element());
  BOOST_TEST(*sysfs.read_link(kPci / "link") == "drivers/e1000e");
  BOOST_TEST(sysfs.display(kPci / "link") == (t.root / "bus/pci/link").string());
}

BOOST_AUTO_TEST_CASE(error_text_escapes_what_was_written) {
  IoError e{IoError::Op::Write, "/sys/x/driver_override", EINVAL, "\n"};
  BOOST_TEST(e.to_string() == "write '\\n' to /sys/x/driver_override: Invalid argument (EINVAL)");
}

BOOST_AUTO_TEST_CASE(a_write_with_a_timeout_acts_and_fails_like_a_direct_one) {
  TempTree t;
  fs::create_symlink("/dev/full", t.root / "bus" / "pci" / "full");
  RealSysfs sysfs(t.root);
  sysfs.set_write_timeout(5s);
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "0000:01:00.0").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "0000:01:00.0");
  BOOST_TEST(sysfs.write(kPci / "drivers_probe", "\n").ok());
  BOOST_TEST(*sysfs.read(kPci / "drivers_probe", 64) == "\n");

  // Open errors (reported by the caller's process).
  auto missing = sysfs.write(kPci / "drivers" / "nope" / "bind", "0000:01:00.0");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().error == ENOENT);
  BOOST_TEST((missing.error().op == IoError::Op::Write));
  BOOST_TEST(missing.error().path == (t.root / "bus/pci/drivers/nope/bind").string());
  BOOST_TEST(missing.error().value == "0000:01:00.0");
  BOOST_TEST(error_of(sysfs.write(kPci / "drivers", "1")) == EISDIR);

  // A write(2) error (reported by the writing process): its errno comes through.
  auto full = sysfs.write(kPci / "full", "vfio-pci");
  BOOST_REQUIRE(!full.ok());
  BOOST_TEST(full.error().error == ENOSPC);
  BOOST_TEST(full.error().path == (t.root / "bus/pci/full").string());
  BOOST_TEST(full.error().value == "vfio-pci");

  // Every process the writes made has been reaped, or was never ours to reap.
  BOOST_TEST(no_children());

  // The direct path agrees.
  sysfs.set_write_timeout(0ms);
  BOOST_TEST(error_of(sysfs.write(kPci / "full", "vfio-pci")) == ENOSPC);
}

BOOST_AUTO_TEST_CASE(a_write_that_blocks_times_out_and_is_left_to_finish_on_its_own) {
  TempTree t;
  // A FIFO stands in for an attribute whose store sleeps: with a reader present, opening it
  // succeeds, and a value larger than the pipe's capacity blocks the write until it is read.
  const fs::path fifo = t.root / "bus" / "pci" / "stuck";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(reader >= 0);
  int sentinel[2];  // a descriptor of ours the stuck writer must not keep open
  BOOST_REQUIRE(::pipe2(sentinel, O_CLOEXEC) == 0);

  RealSysfs sysfs(t.root);
  sysfs.set_write_timeout(200ms);
  const std::string value(1 << 20, 'x');
  const auto start = Clock::now();
  auto r = sysfs.write(kPci / "stuck", value);
  const auto took = Clock::now() - start;
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().error == ETIMEDOUT);
  BOOST_TEST((r.error().op == IoError::Op::Write));
  BOOST_TEST(r.error().path == fifo.string());
  BOOST_TEST(r.error().value.size() == value.size());
  BOOST_TEST((took >= 150ms));
  BOOST_TEST((took < 5s));

  // The writer is in its write(2) (the FIFO has data), and holds none of our descriptors: with
  // our end closed, the sentinel's read end sees the hangup at once.
  BOOST_TEST(wait_for(reader, POLLIN, 5000ms));
  ::close(sentinel[1]);
  BOOST_TEST(wait_for(sentinel[0], POLLHUP, 0ms));
  ::close(sentinel[0]);
  // Nothing of ours is left to reap later.
  BOOST_TEST(no_children());

  // The store still completes once the kernel (here: the reader) lets it.
  std::size_t drained = 0;
  std::string buffer(1 << 16, '\0');
  const auto drain_start = Clock::now();
  while (drained < value.size() && Clock::now() - drain_start < 5s) {
    if (!wait_for(reader, POLLIN, 100ms)) continue;
    const ssize_t n = ::read(reader, buffer.data(), buffer.size());
    if (n > 0) drained += static_cast<std::size_t>(n);
  }
  BOOST_TEST(drained == value.size());
  ::close(reader);
}
