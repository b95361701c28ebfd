#define BOOST_TEST_MODULE cli_run
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <vector>

#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/run.h"
#include "cli_support.h"
#include "test_support.h"

namespace fs = boost::filesystem;
using vfio::test::contains;
using vfio::test::Ran;

namespace {

Ran run(const std::vector<std::string>& args) {
  return vfio::test::run_cli(args);
}

}  // namespace

BOOST_AUTO_TEST_CASE(version_and_help_exit_zero) {
  auto version = run({"--version"});
  BOOST_TEST(version.code == 0);
  BOOST_TEST(contains(version.out, "vfio-reconcile " VFIO_RECONCILE_VERSION), version.out);
  auto help = run({"--help"});
  BOOST_TEST(help.code == 0);
  BOOST_TEST(contains(help.out, "status"), help.out);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_64) {
  BOOST_TEST(run({}).code == vfio::cli::kExitUsage);
  BOOST_TEST(run({"frobnicate"}).code == vfio::cli::kExitUsage);
  BOOST_TEST(run({"status", "--bogus"}).code == vfio::cli::kExitUsage);
  auto missing_root = run({"--sysfs-root", "/nonexistent/sysfs", "status"});
  BOOST_TEST(missing_root.code == vfio::cli::kExitUsage);
  BOOST_TEST(contains(missing_root.err, "/nonexistent/sysfs"), missing_root.err);
}

BOOST_AUTO_TEST_CASE(a_root_without_a_pci_bus_exits_69_and_says_where_it_looked) {
  vfio::test::ScratchDir scratch("no-pci");
  const fs::path& empty = scratch.path();
  auto ran = run({"--sysfs-root", empty.c_str(), "status"});
  BOOST_TEST(ran.code == vfio::cli::kExitUnavailable);
  BOOST_TEST(contains(ran.err, (empty / "bus/pci/devices").string()), ran.err);
  BOOST_TEST(contains(ran.err, "is this a sysfs tree with a PCI bus?"), ran.err);
  BOOST_TEST(ran.out.empty());
}

BOOST_AUTO_TEST_CASE(validate_exits_0_65_or_66_and_never_needs_sysfs) {
  const std::string corpus = VFIO_SOURCE_DIR "/tests/manifests/";
  // --sysfs-root is not consulted: a root without a PCI bus does not matter to validate.
  auto good = run({"validate", (corpus + "good/10-contract-example.yaml").c_str()});
  BOOST_TEST(good.code == vfio::cli::kExitOk, good.err);
  BOOST_TEST(good.out == corpus +
                             "good/10-contract-example.yaml: valid, 2 assignments (2 to vfio, "
                             "0 to host)\n");
  auto set = run({"validate", (corpus + "good").c_str()});
  BOOST_TEST(set.code == vfio::cli::kExitOk, set.err);
  BOOST_TEST(contains(set.out,
                      ": valid, 14 assignments (10 to vfio, 4 to host) in 8 files; owners "
                      "default, sandbox-7\n"),
             set.out);
  auto owned = run({"validate", (corpus + "good/50-owner.yaml").c_str()});
  BOOST_TEST(contains(owned.out, ": valid, 1 assignment (1 to vfio, 0 to host); owner sandbox-7\n"),
             owned.out);

  auto bad = run({"validate", (corpus + "bad/unknown-key-typo.yaml").c_str()});
  BOOST_TEST(bad.code == vfio::cli::kExitManifestInvalid);
  BOOST_TEST(bad.err == corpus +
                            "bad/unknown-key-typo.yaml:7:5: unknown key 'companion' in "
                            "assignment 'gpu0'; did you mean 'companions'?\n");
  BOOST_TEST(bad.out.empty());

  auto missing = run({"validate", "/nonexistent/manifest.yaml"});
  BOOST_TEST(missing.code == vfio::cli::kExitManifestMissing);
  BOOST_TEST(missing.err == "/nonexistent/manifest.yaml: no such file or directory\n");
  // Invalid wins over missing (65 before 66).
  auto both =
      run({"validate", "/nonexistent/manifest.yaml", (corpus + "bad/version-2.yaml").c_str()});
  BOOST_TEST(both.code == vfio::cli::kExitManifestInvalid);
  BOOST_TEST(run({"validate"}).code == vfio::cli::kExitUsage);
}

// Issue 17: validate --json says as much as the text, each problem once: in the JSON on stdout,
// not on stderr too; the exit codes are the text's.
BOOST_AUTO_TEST_CASE(validate_json_gives_every_problem_once_on_stdout) {
  const std::string corpus = VFIO_SOURCE_DIR "/tests/manifests/";
  auto bad = run(
      {"validate", "--json", corpus + "bad/unknown-key-typo.yaml", "/nonexistent/manifest.yaml"});
  BOOST_TEST(bad.code == vfio::cli::kExitManifestInvalid);
  BOOST_TEST(bad.err.empty(), bad.err);
  const auto j = nlohmann::json::parse(bad.out);
  BOOST_TEST(j["valid"] == false);
  BOOST_TEST_REQUIRE(j["problems"].size() == 2u);
  BOOST_TEST(j["problems"][0]["file"] == corpus + "bad/unknown-key-typo.yaml");
  BOOST_TEST(j["problems"][0]["line"] == 7);
  BOOST_TEST(j["problems"][0]["column"] == 5);
  BOOST_TEST(j["problems"][0]["problem"] == "invalid");
  BOOST_TEST(j["problems"][1]["line"].is_null());
  BOOST_TEST(j["problems"][1]["problem"] == "missing");

  auto missing = run({"validate", "--json", "/nonexistent/manifest.yaml"});
  BOOST_TEST(missing.code == vfio::cli::kExitManifestMissing);
  BOOST_TEST(missing.err.empty(), missing.err);

  auto good = run({"validate", corpus + "good", "--json"});
  BOOST_TEST(good.code == vfio::cli::kExitOk, good.err);
  const auto g = nlohmann::json::parse(good.out);
  BOOST_TEST(g["valid"] == true);
  BOOST_TEST(g["assignments"]["total"] == 14);
  BOOST_TEST(g["assignments"]["vfio"] == 10);
  BOOST_TEST(g["files"].size() == 8u);
  BOOST_TEST(g["problems"].empty());
}
