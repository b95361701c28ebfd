// Whether what root reads and keeps can be changed by root alone (store/trust.h), on real files:
// the tests run as root, so they can give files away and open their modes.
#define BOOST_TEST_MODULE trust
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "store/trust.h"
#include "test_support.h"

using namespace vfio;
using test::ScratchDir;

namespace {

std::optional<Untrusted> change(const boost::filesystem::path& p, uid_t trusted = 0) {
  auto verdict = only_root_can_change(test::disk(), p, trusted);
  BOOST_TEST_REQUIRE(static_cast<bool>(verdict));
  return *verdict;
}

std::optional<Untrusted> private_dir(const boost::filesystem::path& p, uid_t trusted = 0) {
  auto verdict = private_directory(test::disk(), p, trusted);
  BOOST_TEST_REQUIRE(static_cast<bool>(verdict));
  return *verdict;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_manifest_others_could_change_is_named_with_the_fix) {
  BOOST_TEST_REQUIRE(::geteuid() == 0u, "needs root to give files away");
  ScratchDir dir("trust");  // below /tmp: sticky and root's, which is allowed above
  ::chmod(dir.str().c_str(), 0755);
  const std::string file = dir.write("manifest.yaml", "version: 1\nassignments: []\n");
  ::chmod(file.c_str(), 0644);
  BOOST_TEST(!change(file));

  ::chmod(file.c_str(), 0666);
  auto anyone = change(file);
  BOOST_TEST_REQUIRE(anyone.has_value());
  BOOST_TEST(anyone->str() == file + " (owner uid 0, mode 0666) is writable by anyone");
  BOOST_TEST(anyone->fix == "chmod go-w " + file);
  ::chmod(file.c_str(), 0664);
  BOOST_TEST(change(file)->why == "is writable by its group");
  ::chmod(file.c_str(), 0644);

  BOOST_TEST_REQUIRE(::chown(file.c_str(), 1000, 1000) == 0);
  auto owned = change(file);
  BOOST_TEST_REQUIRE(owned.has_value());
  BOOST_TEST(owned->why == "is owned by uid 1000, not root");
  BOOST_TEST(owned->fix == "chown root: " + file);
  BOOST_TEST(!change(file, 1000), "a run as uid 1000 trusts its own files");
  BOOST_TEST_REQUIRE(::chown(file.c_str(), 0, 0) == 0);

  // A directory above that others may write (manifest.d/ of mode 777) is named, not the file.
  ::chmod(dir.str().c_str(), 0777);
  auto above = change(file);
  BOOST_TEST_REQUIRE(above.has_value());
  BOOST_TEST(above->path == dir.str());
  BOOST_TEST(above->fix == "chmod go-w " + dir.str());
  // With the sticky bit (as /tmp), nobody else may replace what is in it: allowed above.
  ::chmod(dir.str().c_str(), 01777);
  BOOST_TEST(!change(file));
  ::chmod(dir.str().c_str(), 0755);
  // A relative path is judged as the absolute one.
  BOOST_TEST(!change("."));
}

BOOST_AUTO_TEST_CASE(the_state_directory_must_be_private) {
  ScratchDir dir("trust");
  ::chmod(dir.str().c_str(), 0755);
  const auto state = dir.path() / "state";
  BOOST_TEST(!private_dir(state), "missing: it is made private");
  boost::filesystem::create_directory(state);
  ::chmod(state.c_str(), 0700);
  BOOST_TEST(!private_dir(state));
  ::chmod(state.c_str(), 0755);
  auto open = private_dir(state);
  BOOST_TEST_REQUIRE(open.has_value());
  BOOST_TEST(open->why == "may be used by users other than its owner");
  BOOST_TEST(open->fix == "chmod go= " + state.string());
}
