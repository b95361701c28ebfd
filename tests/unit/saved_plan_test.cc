#define BOOST_TEST_MODULE saved_plan
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// Issue 17, part 3: `plan --out FILE` saves the plan with the manifests it was made from and the
// facts of the host; `apply --plan FILE` carries out exactly that plan, and refuses (3, nothing
// written) when the host changed since, naming each change.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;

namespace {

const PciAddress kGpu{0, 1, 0, 0};
const PciAddress kUsb{0, 0, 0x14, 0};

const std::string kClaimGpu =
    "version: 1\nassignments:\n"
    "  - { name: gpu0, state: vfio, match: { address: \"0000:01:00.0\" }, companions: auto }\n";

struct Host {
  Host() : kernel(test::example_host("workstation")), modules(kernel, true) {}

  Ran run(const std::vector<std::string>& args, std::optional<bool> answer = std::nullopt) {
    std::vector<std::string> all{"--state-dir", (dir.path() / "state").string()};
    all.insert(all.end(), args.begin(), args.end());
    cli::Context context;
    context.sysfs = &kernel;
    context.modules = &modules;
    context.boot_id = "saved-plan-test";
    if (answer) {
      context.confirm = [this, answer](const std::string&) {
        ++questions;
        return *answer;
      };
    }
    return test::run_cli(all, context);
  }

  std::string file(const std::string& name) const { return (dir.path() / name).string(); }

  sim::KernelSimulator kernel;
  sim::SimulatedModules modules;
  ScratchDir dir;
  unsigned questions = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_saved_plan_applies_as_made_even_after_the_manifest_changed) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  const std::string saved = host.file("gpu.plan");
  Ran planned = host.run({"plan", manifest, "--out", saved});
  BOOST_TEST(planned.code == cli::kExitOk, planned.out << planned.err);
  BOOST_TEST(
      contains(planned.out, "apply exactly this plan with: vfio-reconcile apply --plan " + saved),
      planned.out);
  BOOST_TEST(host.kernel.successful_write_count() == 0u);
  // What apply --plan carries out is the plan saved, not what the file says by then.
  host.dir.write("gpu.yaml", "version: 1\nassignments: []\n");

  Ran applied = host.run({"apply", "--plan", saved});
  BOOST_TEST(applied.code == cli::kExitOk, applied.out << applied.err);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("none") == "vfio-pci");
  BOOST_TEST(host.kernel.driver_of(PciAddress{0, 1, 0, 1}).value_or("none") == "vfio-pci");
  // Carried out once: applying it again finds the host changed (by the plan itself).
  Ran again = host.run({"apply", "--plan", saved});
  BOOST_TEST(again.code == cli::kExitPlanStale, again.out << again.err);
  BOOST_TEST(contains(again.err, "0000:01:00.0: driver nvidia -> vfio-pci"), again.err);
}

BOOST_AUTO_TEST_CASE(a_host_changed_since_is_named_and_nothing_is_written) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  const std::string saved = host.file("gpu.plan");
  BOOST_TEST_REQUIRE(host.run({"plan", manifest, "--out", saved}).code == cli::kExitOk);
  // A device the plan is not about (the USB controller) may come and go: the plan still holds.
  host.kernel.remove_device(kUsb);
  const Ran unrelated = host.run({"apply", "--plan", saved, "--dry-run"});
  BOOST_TEST(unrelated.code == cli::kExitOk, unrelated.out << unrelated.err);
  // Its GPU's group may not change: the audio function leaves its driver.
  BOOST_TEST_REQUIRE(host.kernel.unload_driver("snd_hda_intel"));
  const auto writes = host.kernel.writes().size();

  for (const char* dry : {"--dry-run", ""}) {
    std::vector<std::string> args{"apply", "--plan", saved};
    if (*dry) args.push_back(dry);
    Ran refused = host.run(args);
    BOOST_TEST(refused.code == cli::kExitPlanStale, refused.out << refused.err);
    BOOST_TEST(contains(refused.err, saved + " is not the plan for this host any more, so nothing "
                                             "was written"),
               refused.err);
    BOOST_TEST(contains(refused.err, "0000:01:00.1: driver snd_hda_intel -> none"), refused.err);
    BOOST_TEST(refused.out.empty(), refused.out);
  }
  // Or it leaves the host.
  host.kernel.remove_device(PciAddress{0, 1, 0, 1});
  Ran gone = host.run({"apply", "--plan", saved});
  BOOST_TEST(gone.code == cli::kExitPlanStale, gone.out << gone.err);
  BOOST_TEST(contains(gone.err, "0000:01:00.1: gone"), gone.err);
  BOOST_TEST(host.kernel.writes().size() == writes);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("none") == "nvidia");
}

BOOST_AUTO_TEST_CASE(a_plan_that_would_come_out_otherwise_is_refused_by_group) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  const std::string saved = host.file("gpu.plan");
  BOOST_TEST_REQUIRE(host.run({"plan", manifest, "--out", saved}).code == cli::kExitOk);
  // The same host, but the plan in the file says otherwise (edited, or made by another record).
  auto file = nlohmann::json::parse(slurp(saved));
  BOOST_TEST_REQUIRE(file["plan"]["changes"][0]["group"] == 1);
  file["plan"]["changes"][0]["action"] = "adopt";
  spill(saved, file.dump());
  Ran refused = host.run({"apply", "--plan", saved});
  BOOST_TEST(refused.code == cli::kExitPlanStale, refused.out << refused.err);
  BOOST_TEST(contains(refused.err, "IOMMU group 1: planned adopt, now claim"), refused.err);
  BOOST_TEST(host.kernel.successful_write_count() == 0u);

  // Made by another version of the tool: refused, whatever it says.
  file["plan"]["changes"][0]["action"] = "claim";
  file["tool_version"] = "0.0.1";
  spill(saved, file.dump());
  refused = host.run({"apply", "--plan", saved});
  BOOST_TEST(refused.code == cli::kExitPlanStale, refused.out << refused.err);
  BOOST_TEST(contains(refused.err, "it was made by vfio-reconcile 0.0.1, this is "), refused.err);
  BOOST_TEST(host.kernel.successful_write_count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_no_saved_plan_is_refused_by_name) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  const std::string saved = host.file("gpu.plan");
  BOOST_TEST_REQUIRE(host.run({"plan", manifest, "--out", saved}).code == cli::kExitOk);
  const std::string good = slurp(saved);

  Ran missing = host.run({"apply", "--plan", host.file("nowhere.plan")});
  BOOST_TEST(missing.code == cli::kExitManifestMissing, missing.err);
  BOOST_TEST(contains(missing.err, "cannot read the saved plan: "), missing.err);
  BOOST_TEST(contains(missing.err, "nowhere.plan"), missing.err);

  spill(saved, good.substr(0, good.size() / 2));
  Ran truncated = host.run({"apply", "--plan", saved});
  BOOST_TEST(truncated.code == cli::kExitManifestInvalid, truncated.err);
  BOOST_TEST(contains(truncated.err, saved + ": not a plan saved by vfio-reconcile plan --out: not "
                                             "JSON: "),
             truncated.err);

  // Facts edited apart from their fingerprint would name the wrong changes.
  auto file = nlohmann::json::parse(good);
  file["observed"]["devices"][2]["driver"] = "vfio-pci";
  spill(saved, file.dump());
  Ran edited = host.run({"apply", "--plan", saved});
  BOOST_TEST(edited.code == cli::kExitManifestInvalid, edited.err);
  BOOST_TEST(contains(edited.err, "the file was changed after it was saved"), edited.err);

  file = nlohmann::json::parse(good);
  file["observed"]["devices"][1]["address"] = "0000:01:00";
  spill(saved, file.dump());
  Ran bad_address = host.run({"apply", "--plan", saved});
  BOOST_TEST(bad_address.code == cli::kExitManifestInvalid, bad_address.err);
  BOOST_TEST(contains(bad_address.err,
                      "observed.devices[1].address \"0000:01:00\" is not a PCI "
                      "address"),
             bad_address.err);

  // The manifests it holds are checked as any manifest is, named as they were read.
  file = nlohmann::json::parse(good);
  file["manifests"][0]["text"] = "version: 1\nassignmnets: []\n";
  spill(saved, file.dump());
  Ran bad_manifest = host.run({"apply", "--plan", saved});
  BOOST_TEST(bad_manifest.code == cli::kExitManifestInvalid, bad_manifest.err);
  BOOST_TEST(contains(bad_manifest.err, "the manifests saved with the plan do not decode"),
             bad_manifest.err);
  BOOST_TEST(contains(bad_manifest.err, manifest + ":2:1"), bad_manifest.err);
  BOOST_TEST(host.kernel.successful_write_count() == 0u);
}

BOOST_AUTO_TEST_CASE(the_command_line_keeps_a_saved_plan_whole) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  const std::string saved = host.file("gpu.plan");
  // A plan saved is carried out as it is: nothing narrows or widens it.
  for (const std::vector<std::string>& extra : {std::vector<std::string>{manifest},
                                                {"--no-prune"},
                                                {"--boot"},
                                                {"--early"},
                                                {"--device", "0000:01:00.0"}}) {
    std::vector<std::string> args{"apply", "--plan", saved};
    args.insert(args.end(), extra.begin(), extra.end());
    Ran refused = host.run(args);
    BOOST_TEST(refused.code == cli::kExitUsage, extra.front() << ": " << refused.err);
    BOOST_TEST(contains(refused.err, "carries out the saved plan as it was made"), refused.err);
  }
  // A plan that cannot be saved is said, and leaves nothing behind.
  Ran unsaved = host.run({"plan", manifest, "--out", host.file("no/such/dir/gpu.plan")});
  BOOST_TEST(unsaved.code == cli::kExitCannotCreate, unsaved.out << unsaved.err);
  BOOST_TEST(contains(unsaved.err, "cannot save the plan to "), unsaved.err);
  BOOST_TEST(!boost::filesystem::exists(host.file("no")));
}

BOOST_AUTO_TEST_CASE(a_saved_plan_that_prunes_is_not_asked_about_again) {
  Host host;
  const std::string manifest = host.dir.write("gpu.yaml", kClaimGpu);
  BOOST_TEST_REQUIRE(host.run({"apply", manifest}).code == cli::kExitOk);
  const std::string none =
      host.dir.write("usb.yaml",
                     "version: 1\nassignments:\n"
                     "  - { name: usb, state: host, match: { address: \"0000:00:14.0\" } }\n");
  const std::string saved = host.file("release.plan");
  Ran planned = host.run({"plan", none, "--out", saved});
  BOOST_TEST_REQUIRE(planned.code == cli::kExitOk, planned.err);
  BOOST_TEST(contains(planned.out, "IOMMU group 1: release for gpu0"), planned.out);
  // Its prunes were shown when it was made; applying it does not ask (a person asked would say
  // no here) and gives the GPU back.
  Ran applied = host.run({"apply", "--plan", saved}, false);
  BOOST_TEST(applied.code == cli::kExitOk, applied.out << applied.err);
  BOOST_TEST(host.questions == 0u);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("none") == "nvidia");

  // plan --no-prune saves a plan that keeps what no manifest names.
  BOOST_TEST_REQUIRE(host.run({"apply", manifest}).code == cli::kExitOk);
  const std::string kept = host.file("keep.plan");
  Ran keeping = host.run({"plan", none, "--no-prune", "--out", kept});
  BOOST_TEST_REQUIRE(keeping.code == cli::kExitOk, keeping.err);
  BOOST_TEST(!contains(keeping.out, "release for gpu0"), keeping.out);
  BOOST_TEST(host.run({"apply", "--plan", kept}).code == cli::kExitOk);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("none") == "vfio-pci");
}
