#define BOOST_TEST_MODULE apply_prune_question
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// Issue 17, part 4: on a terminal, an apply that would give back groups no given manifest names
// (prunes) lists them and asks first; no, and nothing is written (77); --yes, and every run with
// nobody to ask (the boot unit, a pipe), goes on as before.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;
using test::ScratchFile;

namespace {

const std::string kGpuManifest = VFIO_SOURCE_DIR "/examples/workstation-gpu.yaml";
const PciAddress kGpu{0, 1, 0, 0};

// A workstation whose GPU an earlier apply claimed, and a way to apply with someone to ask.
struct Host {
  Host() : kernel(test::example_host("workstation")), modules(kernel, true) {
    BOOST_TEST_REQUIRE(apply({kGpuManifest}, std::nullopt).code == cli::kExitOk);
  }

  // answer: what the person says when asked; none: nobody to ask.
  Ran apply(const std::vector<std::string>& args, std::optional<bool> answer) {
    std::vector<std::string> all{"--state-dir", (state.path() / "state").string(), "apply"};
    all.insert(all.end(), args.begin(), args.end());
    cli::Context context;
    context.sysfs = &kernel;
    context.modules = &modules;
    context.boot_id = "apply-prune-question-test";
    if (answer) {
      context.confirm = [this, answer](const std::string& question) {
        questions.push_back(question);
        return *answer;
      };
    }
    return test::run_cli(all, context);
  }

  sim::KernelSimulator kernel;
  sim::SimulatedModules modules;
  ScratchDir state;
  std::vector<std::string> questions;
};

// A manifest that no longer names the GPU, and names the USB controller (on its host driver).
ScratchFile usb_only() {
  return ScratchFile(
      "version: 1\nassignments:\n"
      "  - { name: usb, state: host, match: { address: \"0000:00:14.0\" } }\n",
      "manifest.yaml");
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_prune_is_asked_about_and_no_writes_nothing) {
  Host host;
  const ScratchFile other = usb_only();
  const auto writes = host.kernel.writes().size();
  Ran declined = host.apply({other.path()}, false);
  BOOST_TEST(declined.code == cli::kExitNotPermitted, declined.out << declined.err);
  BOOST_TEST_REQUIRE(host.questions.size() == 1u);
  const std::string& question = host.questions.front();
  BOOST_TEST(contains(question, "gives back 1 IOMMU group that no manifest given names any more"),
             question);
  BOOST_TEST(contains(question, "IOMMU group 1: release for gpu0"), question);
  BOOST_TEST(contains(question, "Release it? [y/N]"), question);
  BOOST_TEST(contains(declined.err, "apply cancelled at the question: nothing was written"),
             declined.err);
  BOOST_TEST(host.kernel.writes().size() == writes);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("-") == "vfio-pci");

  // Yes: given back.
  Ran accepted = host.apply({other.path()}, true);
  BOOST_TEST(accepted.code == cli::kExitOk, accepted.err);
  BOOST_TEST(host.questions.size() == 2u);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("-") == "nvidia");
}

BOOST_AUTO_TEST_CASE(yes_or_nobody_to_ask_goes_on_without_a_question) {
  const ScratchFile other = usb_only();
  for (const bool yes : {true, false}) {
    BOOST_TEST_CONTEXT((yes ? "--yes" : "nobody to ask")) {
      Host host;
      Ran ran = yes ? host.apply({other.path(), "--yes"}, false) : host.apply({other.path()}, {});
      BOOST_TEST(ran.code == cli::kExitOk, ran.err);
      BOOST_TEST(host.questions.empty());
      BOOST_TEST(host.kernel.driver_of(kGpu).value_or("-") == "nvidia");
    }
  }
}

BOOST_AUTO_TEST_CASE(no_question_without_a_prune_that_writes) {
  Host host;
  // The same manifest again: nothing to prune. --no-prune: nothing released. A dry run: nothing
  // written. A release the manifest asks for (state: host) is no prune.
  BOOST_TEST(host.apply({kGpuManifest}, false).code == cli::kExitOk);
  const ScratchFile other = usb_only();
  BOOST_TEST(host.apply({other.path(), "--no-prune"}, false).code == cli::kExitOk);
  BOOST_TEST(host.apply({other.path(), "--dry-run"}, false).code == cli::kExitOk);
  ScratchFile back(
      "version: 1\nassignments:\n"
      "  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  Ran released = host.apply({back.path()}, false);
  BOOST_TEST(released.code == cli::kExitOk, released.err);
  BOOST_TEST(host.questions.size() == 0u);
  BOOST_TEST(host.kernel.driver_of(kGpu).value_or("-") == "nvidia");
}

BOOST_AUTO_TEST_CASE(the_vfs_another_manifest_made_are_asked_about_too) {
  // The case: the gpu-server release example applied alone after the VF example.
  sim::KernelSimulator kernel(test::example_host("gpu-server"));
  sim::SimulatedModules modules(kernel, true);
  ScratchDir state;
  const std::string state_dir = (state.path() / "state").string();
  const std::string examples = VFIO_SOURCE_DIR "/examples/";
  BOOST_TEST_REQUIRE(
      test::run_cli_on(kernel, modules, state_dir, {"apply", examples + "gpu-server-vfs.yaml"})
          .code == cli::kExitOk);
  std::vector<std::string> questions;
  cli::Context context;
  context.sysfs = &kernel;
  context.modules = &modules;
  context.boot_id = "cli-test";  // run_cli_on's: the record is this boot's
  context.confirm = [&](const std::string& question) {
    questions.push_back(question);
    return false;
  };
  const auto writes = kernel.writes().size();
  Ran ran = test::run_cli({"--state-dir", state_dir, "apply", examples + "gpu-server-release.yaml"},
                          context);
  BOOST_TEST(ran.code == cli::kExitNotPermitted, ran.out << ran.err);
  BOOST_TEST_REQUIRE(questions.size() == 1u);
  BOOST_TEST(contains(questions.front(), "gives back 4 IOMMU groups"), questions.front());
  BOOST_TEST(contains(questions.front(), "IOMMU group 110: release for cx6-vfs"),
             questions.front());
  BOOST_TEST(kernel.writes().size() == writes);
}
