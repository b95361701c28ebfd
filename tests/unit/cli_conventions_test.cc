#define BOOST_TEST_MODULE cli_conventions
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/exit_codes.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// The conventions users bring from kubectl, systemctl and git (issue 17, part 1), through the
// real entry point: global options before or after the command, `help` and `version`, a
// suggestion for a mistyped command or option, durations for --timeout, --color, and -v showing
// each sysfs write.

using namespace vfio;
using namespace std::chrono_literals;
using test::contains;
using test::Ran;
using test::ScratchDir;

namespace {

const std::string kGpuManifest = VFIO_SOURCE_DIR "/examples/workstation-gpu.yaml";

Ran run(const std::vector<std::string>& args) {
  return test::run_cli(args);
}

// `vfio-reconcile ARGS...` on a simulated workstation, its state in `state`.
Ran run_on(sim::KernelSimulator& kernel, const ScratchDir& state,
           const std::vector<std::string>& args) {
  sim::SimulatedModules modules(kernel, true);
  return test::run_cli_on(kernel, modules, (state.path() / "state").string(), args);
}

}  // namespace

BOOST_AUTO_TEST_CASE(global_options_are_taken_after_the_command_too) {
  ScratchDir scratch("no-pci");
  const std::string empty = scratch.path().string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--sysfs-root", empty, "status"},
           {"status", "--sysfs-root", empty},
           {"plan", "--sysfs-root", empty, kGpuManifest},
           {"plan", kGpuManifest, "--sysfs-root=" + empty, "--explain"}}) {
    BOOST_TEST_CONTEXT(args[0] << " " << args[1]) {
      // The root was used: it has no PCI bus, which the run reports by its path (69).
      Ran ran = run(args);
      BOOST_TEST(ran.code == cli::kExitUnavailable, ran.err);
      BOOST_TEST(contains(ran.err, empty + "/bus/pci/devices"), ran.err);
    }
  }
  // Given twice, the last counts.
  ScratchDir first("first-root");
  Ran twice = run({"--sysfs-root", first.path().string(), "status", "--sysfs-root", empty});
  BOOST_TEST(twice.code == cli::kExitUnavailable, twice.err);
  BOOST_TEST(contains(twice.err, empty + "/bus/pci/devices"), twice.err);
}

BOOST_AUTO_TEST_CASE(every_command_help_lists_the_global_options) {
  for (const std::string command : {"status", "owners", "validate", "plan", "apply"}) {
    BOOST_TEST_CONTEXT(command) {
      Ran help = run({command, "--help"});
      BOOST_TEST(help.code == cli::kExitOk);
      BOOST_TEST(contains(help.out, "Global options (before or after the command):"), help.out);
      BOOST_TEST(contains(help.out, "--sysfs-root"), help.out);
      BOOST_TEST(contains(help.out, "--timeout DURATION"), help.out);
      // And `help COMMAND` says the same.
      Ran by_help = run({"help", command});
      BOOST_TEST(by_help.code == cli::kExitOk);
      BOOST_TEST(by_help.out == help.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(help_and_version_are_commands_too) {
  Ran help = run({"help"});
  BOOST_TEST(help.code == cli::kExitOk);
  BOOST_TEST(help.out == run({"--help"}).out);
  BOOST_TEST(contains(help.out, "Usage: vfio-reconcile [OPTIONS] SUBCOMMAND"), help.out);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"version"}, {"-V"}, {"--version"}}) {
    Ran version = run(args);
    BOOST_TEST(version.code == cli::kExitOk);
    BOOST_TEST(version.out == "vfio-reconcile " VFIO_RECONCILE_VERSION "\n", args[0]);
  }
}

BOOST_AUTO_TEST_CASE(a_mistyped_command_or_option_gets_the_closest_name) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"stauts"}, "unknown command 'stauts'. Did you mean 'status'?"},
           {{"plan", "--explian", kGpuManifest},
            "unknown option '--explian' for plan. Did you mean '--explain'?"},
           {{"apply", "--dryrun", kGpuManifest},
            "unknown option '--dryrun' for apply. Did you mean '--dry-run'?"},
           {{"--sysfs-rot", "/sys", "status"}, "Did you mean '--sysfs-root'?"},
           {{"status", "--jsn"}, "Did you mean '--json'?"},
           {{"help", "stat"}, "help: unknown command 'stat'. Did you mean 'status'?"},
           {{"frobnicate"}, "unknown command 'frobnicate'. The commands: status, owners"},
           {{"version", "extra"}, "unexpected argument 'extra' for version"},
           // A command's own option before its name: where it goes, not "did you mean" itself.
           {{"--json", "status"},
            "'--json' is an option of status: write it after the command's name "
            "(vfio-reconcile status --json); only global options may come before it."},
           {{"-l", "status"}, "'-l' is an option of status: write it after"},
           {{"--detailed-exitcode"},
            "'--detailed-exitcode' is an option of plan: name the command first "
            "(vfio-reconcile plan --detailed-exitcode)."},
           {{"--json"}, "'--json' is an option of status, owners, validate, plan, apply"}}) {
    BOOST_TEST_CONTEXT(c.args[0]) {
      Ran ran = run(c.args);
      BOOST_TEST(ran.code == cli::kExitUsage);
      BOOST_TEST(contains(ran.err, c.says), ran.err);
      BOOST_TEST(!contains(ran.err, "Did you mean '" + c.args[0] + "'"), ran.err);
      BOOST_TEST(ran.out.empty());
    }
  }
  // Nothing close: no guess.
  Ran far = run({"plan", "--zzzzzzzz", kGpuManifest});
  BOOST_TEST(far.code == cli::kExitUsage);
  BOOST_TEST(!contains(far.err, "Did you mean"), far.err);
}

BOOST_AUTO_TEST_CASE(timeout_takes_durations_as_the_manifest_writes_them) {
  BOOST_TEST(cli::parse_timeout_option("5s").value() == 5000ms);
  BOOST_TEST(cli::parse_timeout_option("500ms").value() == 500ms);
  BOOST_TEST(cli::parse_timeout_option("2m").value() == 120000ms);
  // Plain seconds, as earlier releases took them (the initramfs hook passes `--timeout 10`).
  BOOST_TEST(cli::parse_timeout_option("10").value() == 10000ms);
  BOOST_TEST(cli::parse_timeout_option("0.1").value() == 100ms);
  for (const std::string bad : {"1ms", "11m", "0", "3601", "5 s", "s", "-1", "1e9", "five"}) {
    std::string why;
    BOOST_TEST(!cli::parse_timeout_option(bad, &why), bad);
    BOOST_TEST(!why.empty(), bad);
  }
  Ran bad = run({"--timeout", "5sec", "status"});
  BOOST_TEST(bad.code == cli::kExitUsage);
  BOOST_TEST(contains(bad.err, "--timeout: must be a duration like \"5s\", \"500ms\" or \"2m\""),
             bad.err);
}

BOOST_AUTO_TEST_CASE(a_timeout_given_as_a_duration_bounds_each_write_also_under_v) {
  // The GPU's unbind hangs; `--timeout 200ms` bounds it, passed through -v's tracing gateway.
  for (const std::string verbose : {"-q", "-v"}) {
    BOOST_TEST_CONTEXT(verbose) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      kernel.block_write(paths::pci_driver_file("nvidia", "unbind"), 1, 1500ms);
      ScratchDir state;
      Ran ran = run_on(kernel, state, {verbose, "apply", kGpuManifest, "--timeout", "200ms"});
      BOOST_TEST(ran.code == cli::kExitApplyFailed, ran.out << ran.err);
      BOOST_TEST(contains(ran.out, "did not return within 200 ms"), ran.out);
      kernel.wait_for_blocked_writes();
    }
  }
}

BOOST_AUTO_TEST_CASE(plan_markers_are_coloured_only_when_asked_or_on_a_terminal) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  const std::string green_plus = "\x1b[32m+";
  Ran always = run_on(kernel, state, {"--color=always", "plan", kGpuManifest});
  BOOST_TEST(always.code == cli::kExitOk, always.err);
  BOOST_TEST(contains(always.out, green_plus + "\x1b[0m IOMMU group"), always.out);
  // A stream handed in is no terminal: no colour by default, nor with never.
  for (const std::string when : {"--color=auto", "--color=never"}) {
    Ran plain = run_on(kernel, state, {when, "plan", kGpuManifest});
    BOOST_TEST(plain.code == cli::kExitOk);
    BOOST_TEST(!contains(plain.out, "\x1b["), when);
  }
  Ran bad = run_on(kernel, state, {"--color", "sometimes", "plan", kGpuManifest});
  BOOST_TEST(bad.code == cli::kExitUsage);
  BOOST_TEST(contains(bad.err, "--color"), bad.err);
}

BOOST_AUTO_TEST_CASE(verbose_shows_each_sysfs_write_as_it_is_made) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  Ran quiet = run_on(kernel, state, {"apply", "--dry-run", kGpuManifest, "-v"});
  BOOST_TEST(!contains(quiet.err, "write '"), quiet.err);  // a dry run writes nothing

  Ran verbose = run_on(kernel, state, {"apply", kGpuManifest, "-v"});
  BOOST_TEST(verbose.code == cli::kExitOk, verbose.err);
  BOOST_REQUIRE(!kernel.writes().empty());
  // Every write the kernel saw is in the trace, with its path, value and result, in order.
  std::size_t at = 0;
  for (const auto& write : kernel.writes()) {
    std::string value = write.value;
    if (!value.empty() && value.back() == '\n') value.pop_back();
    const std::string line = "info: write '" + value + "' to " + kernel.display(write.path) + ": ";
    at = verbose.err.find(line, at);
    BOOST_TEST_REQUIRE(at != std::string::npos, line << "\n" << verbose.err);
  }
  BOOST_TEST(contains(verbose.err, "driver_override: ok in "), verbose.err);

  // Without -v, none.
  sim::KernelSimulator again(test::example_host("workstation"));
  ScratchDir other;
  Ran normal = run_on(again, other, {"apply", kGpuManifest});
  BOOST_TEST(normal.code == cli::kExitOk);
  BOOST_TEST(!contains(normal.err, "write '"), normal.err);
}

BOOST_AUTO_TEST_CASE(verbose_shows_a_failed_write_with_its_errno) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  kernel.fail_write(paths::pci_driver_file("nvidia", "unbind"), 1, EBUSY);
  ScratchDir state;
  Ran ran = run_on(kernel, state, {"-v", "apply", kGpuManifest});
  BOOST_TEST(ran.code == cli::kExitApplyFailed);
  BOOST_TEST(contains(ran.err, "/unbind: Device or resource busy (EBUSY) in "), ran.err);
}
