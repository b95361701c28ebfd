#define BOOST_TEST_MODULE ownership_journal
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>

#include <boost/filesystem.hpp>

#include "apply/ownership_journal.h"
#include "apply/state_dir.h"
#include "test_support.h"

using vfio::LoadedRecord;
using vfio::OwnedDevice;
using vfio::OwnedGroup;
using vfio::OwnershipJournal;
using vfio::OwnershipRecord;
using vfio::PciAddress;
using vfio::StateDirError;
using vfio::test::contains;
using vfio::test::ScratchDir;
namespace fs = boost::filesystem;

namespace {

const std::string kBoot = "6f0d2b1c-8a4e-4c1d-9f3e-2b7a1c5d9e00";

OwnedDevice device(const char* address, std::optional<std::string> driver,
                   std::optional<std::string> override_name) {
  return OwnedDevice{*PciAddress::parse(address), std::move(driver), std::move(override_name)};
}

// Every kind of entry: bound, adopted, in flight, with and without drivers and overrides, and
// a VMD domain that needs five digits.
OwnershipRecord full_record() {
  OwnershipRecord record;
  record.groups[12] = OwnedGroup{12,
                                 OwnedGroup::How::Bound,
                                 "gpu0",
                                 {device("0000:01:00.0", "nouveau", std::nullopt),
                                  device("0000:01:00.1", "snd_hda_intel", "snd_hda_intel")},
                                 false};
  record.groups[3] = OwnedGroup{3, OwnedGroup::How::Adopted, "nics", {}, false, "sandbox-7"};
  record.groups[22] = OwnedGroup{22, OwnedGroup::How::Bound, "e810-vfs", {}, false, "default"};
  record.groups[22].vfs.push_back(
      vfio::OwnedVfs{*vfio::PciAddress::parse("0000:5e:00.0"), 4, true, {"iavf", std::nullopt}});
  record.groups[40] = OwnedGroup{40,
                                 OwnedGroup::How::Bound,
                                 "vmd-nvme",
                                 {device("10000:00:02.0", std::nullopt, "nvme")},
                                 true};
  return record;
}

// The format exactly: groups by number, two-space indentation, a trailing newline.
const std::string kFullRecordText = R"({
  "format_version": 3,
  "boot_id": "6f0d2b1c-8a4e-4c1d-9f3e-2b7a1c5d9e00",
  "groups": [
    {
      "group": 3,
      "how": "adopted",
      "owner": "sandbox-7",
      "assignment": "nics",
      "in_flight": false,
      "devices": [],
      "vfs": []
    },
    {
      "group": 12,
      "how": "bound",
      "owner": "default",
      "assignment": "gpu0",
      "in_flight": false,
      "devices": [
        {
          "address": "0000:01:00.0",
          "original_driver": "nouveau",
          "original_override": null
        },
        {
          "address": "0000:01:00.1",
          "original_driver": "snd_hda_intel",
          "original_override": "snd_hda_intel"
        }
      ],
      "vfs": []
    },
    {
      "group": 22,
      "how": "bound",
      "owner": "default",
      "assignment": "e810-vfs",
      "in_flight": false,
      "devices": [],
      "vfs": [
        {
          "pf": "0000:5e:00.0",
          "original_count": 4,
          "original_autoprobe": true,
          "original_drivers": [
            "iavf",
            null
          ]
        }
      ]
    },
    {
      "group": 40,
      "how": "bound",
      "owner": "default",
      "assignment": "vmd-nvme",
      "in_flight": true,
      "devices": [
        {
          "address": "10000:00:02.0",
          "original_driver": null,
          "original_override": "nvme"
        }
      ],
      "vfs": []
    }
  ]
}
)";

void check_equal(const OwnershipRecord& got, const OwnershipRecord& want) {
  BOOST_TEST_REQUIRE(got.groups.size() == want.groups.size());
  for (const auto& [number, w] : want.groups) {
    BOOST_TEST_CONTEXT("group " << number) {
      const OwnedGroup* g = got.find(number);
      BOOST_TEST_REQUIRE(g != nullptr);
      BOOST_TEST(g->group == w.group);
      BOOST_TEST((g->how == w.how));
      BOOST_TEST(g->assignment == w.assignment);
      BOOST_TEST(g->owner == w.owner);
      BOOST_TEST(g->in_flight == w.in_flight);
      BOOST_TEST((g->vfs == w.vfs));
      BOOST_TEST_REQUIRE(g->devices.size() == w.devices.size());
      for (std::size_t i = 0; i < w.devices.size(); ++i) {
        BOOST_TEST(g->devices[i].address.str() == w.devices[i].address.str());
        BOOST_TEST((g->devices[i].original_driver == w.devices[i].original_driver));
        BOOST_TEST((g->devices[i].original_override == w.devices[i].original_override));
      }
    }
  }
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (fs::directory_iterator it(dir), end; it != end; ++it) {
    names.insert(it->path().filename().string());
  }
  return names;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file.string(), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes to regular files fail with EFBIG past `bytes` (as root, permissions cannot make a
// write fail; a file size limit still does). SIGXFSZ would end the test instead.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = SIG_DFL;
};

std::string utc_stamp(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_record_round_trips_in_the_documented_format) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  BOOST_TEST(journal.file() == dir.path() / "ownership.json");
  journal.save(full_record());

  BOOST_TEST(read_text(journal.file()) == kFullRecordText);
  const LoadedRecord loaded = journal.load();
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST(!loaded.unusable_file);
  check_equal(loaded.record, full_record());
}

BOOST_AUTO_TEST_CASE(an_empty_record_round_trips) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  journal.save(OwnershipRecord{});
  BOOST_TEST(read_text(journal.file()) == "{\n  \"format_version\": 3,\n  \"boot_id\": \"" + kBoot +
                                              "\",\n  \"groups\": []\n}\n");
  const LoadedRecord loaded = journal.load();
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST(loaded.record.groups.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_directory_or_file_is_an_empty_record_and_load_creates_nothing) {
  ScratchDir dir("journal");
  for (const fs::path& state : {dir.path(), dir.path() / "not-yet" / "state"}) {
    BOOST_TEST_CONTEXT(state) {
      const LoadedRecord loaded = OwnershipJournal(vfio::test::disk(), state, kBoot).load();
      BOOST_TEST(loaded.problems.empty());
      BOOST_TEST(!loaded.unusable_file);
      BOOST_TEST(loaded.record.groups.empty());
    }
  }
  BOOST_TEST(names_in(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_is_reported_and_left_where_it_is) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  // As root nothing is unreadable for want of permission; a directory in the file's place
  // fails the read (EISDIR) all the same.
  fs::create_directory(journal.file());
  const LoadedRecord loaded = journal.load();
  BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
  BOOST_TEST(loaded.problems[0] == journal.file().string() +
                                       ": cannot be read: Is a directory (EISDIR): ignoring it; "
                                       "this run owns nothing it bound earlier");
  BOOST_TEST(!loaded.unusable_file);
  BOOST_TEST(loaded.record.groups.empty());
}

BOOST_AUTO_TEST_CASE(save_replaces_the_file_and_leaves_no_temporary_files) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  const mode_t old_umask = ::umask(022);
  journal.save(OwnershipRecord{});
  journal.save(full_record());
  ::umask(old_umask);

  BOOST_TEST((names_in(dir.path()) == std::set<std::string>{"ownership.json"}));
  BOOST_TEST(read_text(journal.file()) == kFullRecordText);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(journal.file().c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0644u);
}

BOOST_AUTO_TEST_CASE(a_save_that_fails_mid_write_keeps_the_old_file_and_removes_the_temporary) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  journal.save(OwnershipRecord{});
  const std::string before = read_text(journal.file());
  try {
    // The first write(2) stops short at the limit, the retry for the rest gets EFBIG.
    FileSizeLimit limit(100);
    journal.save(full_record());
    BOOST_FAIL("save() past the file size limit did not throw");
  } catch (const StateDirError& e) {
    const std::string what = e.what();
    BOOST_TEST(e.error() == EFBIG);
    BOOST_TEST(contains(what, journal.file().string()), what);
    BOOST_TEST(contains(what, "write " + dir.str() + "/.ownership.json.tmp-"), what);
    BOOST_TEST(contains(what, "(EFBIG)"), what);
  }
  BOOST_TEST(read_text(journal.file()) == before);
  BOOST_TEST((names_in(dir.path()) == std::set<std::string>{"ownership.json"}));
}

BOOST_AUTO_TEST_CASE(a_save_whose_rename_fails_removes_the_temporary) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  // rename(2) will not put a file over a directory.
  fs::create_directories(journal.file() / "keep");
  try {
    journal.save(full_record());
    BOOST_FAIL("save() over a directory did not throw");
  } catch (const StateDirError& e) {
    const std::string what = e.what();
    BOOST_TEST(e.error() == EISDIR);
    BOOST_TEST(contains(what, "rename " + dir.str() + "/.ownership.json.tmp-"), what);
    BOOST_TEST(contains(what, " to " + journal.file().string() + ": Is a directory (EISDIR)"),
               what);
  }
  BOOST_TEST((names_in(dir.path()) == std::set<std::string>{"ownership.json"}));
  BOOST_TEST(fs::is_directory(journal.file() / "keep"));
}

BOOST_AUTO_TEST_CASE(a_save_into_a_missing_or_impossible_directory_names_path_step_and_errno) {
  ScratchDir dir("journal");
  const std::string plain_file = dir.write("plain-file", "not a directory\n");
  struct Case {
    fs::path state;
    int error;
    const char* name;
  };
  for (const Case& c : {Case{dir.path() / "removed", ENOENT, "(ENOENT)"},
                        Case{fs::path(plain_file) / "state", ENOTDIR, "(ENOTDIR)"}}) {
    BOOST_TEST_CONTEXT(c.state) {
      OwnershipJournal journal(vfio::test::disk(), c.state, kBoot);
      try {
        journal.save(full_record());
        BOOST_FAIL("save() did not throw");
      } catch (const StateDirError& e) {
        const std::string what = e.what();
        BOOST_TEST(e.error() == c.error);
        BOOST_TEST(contains(what, "cannot save the ownership record " + journal.file().string()),
                   what);
        BOOST_TEST(contains(what, ": create " + c.state.string() + "/.ownership.json.tmp-"), what);
        BOOST_TEST(contains(what, c.name), what);
      }
    }
  }
  BOOST_TEST((names_in(dir.path()) == std::set<std::string>{"plain-file"}));
}

BOOST_AUTO_TEST_CASE(save_refuses_a_record_it_could_not_read_back) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  OwnershipRecord bad;
  bad.groups[5] = OwnedGroup{5,
                             OwnedGroup::How::Bound,
                             "gpu0",
                             {device("0000:05:00.0", "../../../../etc", std::nullopt)},
                             false};
  BOOST_CHECK_THROW(journal.save(bad), std::invalid_argument);
  OwnershipRecord misfiled;
  misfiled.groups[6] = OwnedGroup{5, OwnedGroup::How::Bound, "gpu0", {}, false};
  BOOST_CHECK_THROW(journal.save(misfiled), std::invalid_argument);
  OwnershipRecord unnamed;
  unnamed.groups[7] = OwnedGroup{7, OwnedGroup::How::Bound, "gpu0", {}, false, "Boot Team"};
  BOOST_CHECK_THROW(journal.save(unnamed), std::invalid_argument);
  BOOST_TEST(names_in(dir.path()).empty());
}

// An entry dropped as damaged (here: an owner that is not a name) is not lost: opening the state
// directory keeps the file as it was beside it, then saves the entries that were good.
BOOST_AUTO_TEST_CASE(opening_keeps_a_copy_of_a_record_with_damaged_entries_then_saves_the_rest) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  journal.save(full_record());
  std::string text = read_text(journal.file());
  const std::string from = R"("owner": "sandbox-7")";
  text.replace(text.find(from), from.size(), R"("owner": "Sandbox Seven")");
  dir.write("ownership.json", text);

  auto opened = vfio::open_state_dir(vfio::test::disk(), dir.path(), kBoot, false);
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->owned.dropped_entries);
  BOOST_TEST(!opened->owned.record.find(3));
  auto names = names_in(dir.path());
  names.erase("ownership.json");
  names.erase("lock");
  BOOST_TEST_REQUIRE(names.size() == 1u);
  const std::string kept = *names.begin();
  BOOST_TEST(std::regex_match(kept, std::regex(R"(ownership\.json\.damaged-\d{8}T\d{6}Z)")), kept);
  BOOST_TEST(read_text(dir.path() / kept) == text);
  // The file now holds what was good, and reads back without a problem.
  const vfio::LoadedRecord again = journal.load();
  BOOST_TEST(again.problems.empty());
  BOOST_TEST(again.record.groups.size() == full_record().groups.size() - 1);
}

BOOST_AUTO_TEST_CASE(keep_aside_renames_with_reason_and_utc_time) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  dir.write("ownership.json", "{ damaged");
  journal.keep_aside("corrupt");
  const auto names = names_in(dir.path());
  BOOST_TEST_REQUIRE(names.size() == 1u);
  const std::string kept = *names.begin();
  BOOST_TEST(std::regex_match(kept, std::regex(R"(ownership\.json\.corrupt-\d{8}T\d{6}Z)")), kept);
  BOOST_TEST(read_text(dir.path() / kept) == "{ damaged");
}

BOOST_AUTO_TEST_CASE(keep_aside_adds_a_counter_instead_of_overwriting) {
  ScratchDir dir("journal");
  OwnershipJournal journal(vfio::test::disk(), dir.path(), kBoot);
  // The names keep_aside would pick in this second and the next two are taken already, so
  // whenever the call lands it must count on from one of them.
  const std::time_t now = std::time(nullptr);
  std::set<std::string> taken;
  for (std::time_t t = now; t <= now + 2; ++t) {
    const std::string name = "ownership.json.stale-" + utc_stamp(t);
    dir.write(name, "earlier\n");
    taken.insert(name);
  }
  dir.write("ownership.json", "latest\n");
  journal.keep_aside("stale");

  auto names = names_in(dir.path());
  BOOST_TEST(!names.count("ownership.json"));
  for (const auto& name : taken) {
    BOOST_TEST(read_text(dir.path() / name) == "earlier\n", name);
    names.erase(name);
  }
  BOOST_TEST_REQUIRE(names.size() == 1u);
  const std::string kept = *names.begin();
  BOOST_TEST(std::regex_match(kept, std::regex(R"(ownership\.json\.stale-\d{8}T\d{6}Z-1)")), kept);
  BOOST_TEST(taken.count(kept.substr(0, kept.size() - 2)) == 1u, kept);
  BOOST_TEST(read_text(dir.path() / kept) == "latest\n");
}

BOOST_AUTO_TEST_CASE(keep_aside_without_a_file_does_nothing) {
  ScratchDir dir("journal");
  OwnershipJournal(vfio::test::disk(), dir.path(), kBoot).keep_aside("corrupt");
  OwnershipJournal(vfio::test::disk(), dir.path() / "missing", kBoot).keep_aside("corrupt");
  BOOST_TEST(names_in(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(keep_aside_refuses_a_reason_that_is_not_a_name) {
  ScratchDir dir("journal");
  dir.write("ownership.json", "{}");
  BOOST_CHECK_THROW(OwnershipJournal(vfio::test::disk(), dir.path(), kBoot).keep_aside("../x"),
                    std::invalid_argument);
  BOOST_TEST((names_in(dir.path()) == std::set<std::string>{"ownership.json"}));
}

BOOST_AUTO_TEST_CASE(ensure_state_dir_creates_it_private_and_its_parents_0755) {
  ScratchDir dir("journal");
  const fs::path state = dir.path() / "run" / "vfio-reconcile";
  const mode_t old_umask = ::umask(0);  // the mode must not depend on a permissive umask
  vfio::ensure_state_dir(vfio::test::disk(), state);
  vfio::ensure_state_dir(vfio::test::disk(), state);  // already there: fine
  ::umask(old_umask);
  for (const fs::path& p : {state, state.parent_path()}) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(p.c_str(), &st) == 0);
    BOOST_TEST(S_ISDIR(st.st_mode));
    BOOST_TEST((st.st_mode & 07777) == (p == state ? 0700u : 0755u), p);
  }
}

BOOST_AUTO_TEST_CASE(ensure_state_dir_refuses_a_file_in_its_place) {
  ScratchDir dir("journal");
  const fs::path file = dir.write("state", "x");
  for (const fs::path& state : {file, file / "below"}) {
    BOOST_TEST_CONTEXT(state) {
      try {
        vfio::ensure_state_dir(vfio::test::disk(), state);
        BOOST_FAIL("ensure_state_dir() did not throw");
      } catch (const StateDirError& e) {
        BOOST_TEST(e.error() == ENOTDIR);
        BOOST_TEST(contains(e.what(), state.string()), e.what());
        BOOST_TEST(contains(e.what(), "ENOTDIR"), e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(read_boot_id_trims_and_refuses_empty_or_missing) {
  ScratchDir proc("proc");
  fs::create_directories(proc.path() / "sys/kernel/random");
  proc.write("sys/kernel/random/boot_id", "  " + kBoot + "\n");
  BOOST_TEST(vfio::read_boot_id(vfio::test::disk(), proc.path()) == kBoot);

  proc.write("sys/kernel/random/boot_id", " \n");
  BOOST_CHECK_EXCEPTION(vfio::read_boot_id(vfio::test::disk(), proc.path()), StateDirError,
                        [](const StateDirError& e) { return contains(e.what(), "is empty"); });

  ScratchDir empty("proc");
  BOOST_CHECK_EXCEPTION(vfio::read_boot_id(vfio::test::disk(), empty.path()), StateDirError,
                        [&](const StateDirError& e) {
                          return e.error() == ENOENT &&
                                 contains(e.what(), empty.str() + "/sys/kernel/random/boot_id");
                        });
}
