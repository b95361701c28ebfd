#define BOOST_TEST_MODULE manifest_decode
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <boost/filesystem.hpp>

#include "manifest/decode_manifest.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"
#include "manifest/manifest_values.h"
#include "plan/matching.h"
#include "sim/memory_store.h"
#include "test_support.h"
#include "util/did_you_mean.h"
#include "util/utf8.h"

using namespace vfio;
namespace fs = boost::filesystem;
using test::ScratchDir;

namespace {

const fs::path kCorpus = fs::path(VFIO_SOURCE_DIR) / "tests/manifests";

// Every diagnostic of decoding `text` as "m.yaml"; empty when it decodes.
std::vector<std::string> problems(const std::string& text) {
  try {
    decode_manifest_text(text, "m.yaml");
  } catch (const ManifestError& e) {
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) lines.push_back(d.str());
    return lines;
  }
  return {};
}

std::string first_problem(const std::string& text) {
  auto all = problems(text);
  return all.empty() ? "(valid)" : all.front();
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

const char* kGpu = R"(version: 1
assignments:
  - name: gpu0
    state: vfio
    match: { address: "0000:01:00.0" }
)";

std::vector<std::string> load_problems(const std::vector<std::string>& paths,
                                       ManifestProblem* problem = nullptr) {
  try {
    load_manifests(test::disk(), paths);
  } catch (const ManifestError& e) {
    if (problem) *problem = e.problem();
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) lines.push_back(d.str());
    return lines;
  }
  return {};
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> entries(fs::directory_iterator(dir), fs::directory_iterator{});
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::string expectation_in(const fs::path& file) {
  std::ifstream in(file.string());
  std::string line;
  std::getline(in, line);
  const std::string prefix = "# expect: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : "";
}

std::string without(std::string text, const std::string& prefix) {
  for (std::size_t at; (at = text.find(prefix)) != std::string::npos;)
    text.erase(at, prefix.size());
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_contract_example_decodes_with_defaults) {
  auto state = decode_manifest_text(R"(version: 1
assignments:
  - name: gpu0
    state: vfio
    match:
      address: "0000:01:00.0"
  - name: nics
    state: host
    match: { vendor: "8086", device: "10D3" }
    count: 2
    companions: listed
    force: "lab NIC"
)",
                                    "m.yaml");
  BOOST_TEST(state.files == std::vector<std::string>{"m.yaml"});
  BOOST_TEST(state.settings.probe_timeout.count() == 5000);
  BOOST_TEST(state.settings.jobs == 4u);
  BOOST_TEST(!state.settings.location);
  BOOST_REQUIRE(state.assignments.size() == 2u);
  const auto& gpu = state.assignments[0];
  BOOST_TEST(gpu.name == "gpu0");
  BOOST_TEST(gpu.location.str() == "m.yaml:3:5");
  BOOST_TEST(gpu.match.location.str() == "m.yaml:6:7");
  BOOST_TEST(gpu.match.address->str() == "0000:01:00.0");
  BOOST_TEST((gpu.companions == Companions::Auto));
  BOOST_TEST(!gpu.count);
  BOOST_TEST(!gpu.force);
  const auto& nics = state.assignments[1];
  BOOST_TEST((nics.state == WantedState::Host));
  BOOST_TEST(*nics.match.vendor == 0x8086);
  BOOST_TEST(*nics.match.device == 0x10d3);
  BOOST_TEST(*nics.count == 2u);
  BOOST_TEST((nics.companions == Companions::Listed));
  BOOST_TEST(*nics.force == "lab NIC");
  BOOST_TEST(nics.match.describe() == "vendor 8086, device 10d3");
  BOOST_TEST(gpu.match.describe() == "address 0000:01:00.0");
}

BOOST_AUTO_TEST_CASE(settings_are_decoded) {
  auto state = decode_manifest_text(
      "version: 1\nsettings:\n  probe-timeout: 2m\n  jobs: 64\nassignments: []\n", "s.yaml");
  BOOST_TEST(state.settings.probe_timeout.count() == 120000);
  BOOST_TEST(state.settings.jobs == 64u);
  BOOST_TEST(state.settings.location->str() == "s.yaml:2:1");
  BOOST_TEST(state.assignments.empty());
  // A settings file needs no assignments.
  BOOST_TEST(problems("version: 1\nsettings: { probe-timeout: 500ms }\n").empty());
}

BOOST_AUTO_TEST_CASE(value_syntaxes) {
  BOOST_TEST(parse_duration("100ms")->count() == 100);
  BOOST_TEST(parse_duration("600s")->count() == 600000);
  BOOST_TEST(parse_duration("10m")->count() == 600000);
  for (const char* bad : {"0s", "99ms", "11m", "601s", "5", "s", "05s", "5 s", "1h", "-1s",
                          "99999999999999999999999s"})
    BOOST_TEST(!parse_duration(bad), bad);
  BOOST_TEST(*parse_pci_id("10DE") == 0x10de);
  BOOST_TEST(!parse_pci_id("10de0"));
  BOOST_TEST(!parse_pci_id("0x10"));
  BOOST_TEST(is_assignment_name("0gpu_a-b"));
  BOOST_TEST(!is_assignment_name("-gpu"));
  BOOST_TEST(!is_assignment_name("Gpu"));
  BOOST_TEST(is_assignment_name(std::string(63, 'a')));
  BOOST_TEST(!is_assignment_name(std::string(64, 'a')));
}

BOOST_AUTO_TEST_CASE(class_prefixes_and_matching) {
  auto base = parse_class_prefix("0x02");
  auto sub = parse_class_prefix("0x0200");
  auto full = parse_class_prefix("0x0c0330");
  BOOST_REQUIRE((base && sub && full));
  BOOST_TEST(base->digits == 2);
  BOOST_TEST(base->matches(0x020000));
  BOOST_TEST(base->matches(0x028000));
  BOOST_TEST(!base->matches(0x030000));
  BOOST_TEST(sub->matches(0x020000));
  BOOST_TEST(!sub->matches(0x028000));
  BOOST_TEST(full->matches(0x0c0330));
  BOOST_TEST(!full->matches(0x0c0320));
  for (const char* bad : {"0x0", "0x020", "0x02000000", "02", "0X02", "0xzz"})
    BOOST_TEST(!parse_class_prefix(bad), bad);

  PciDevice nic;
  nic.address = *PciAddress::parse("0000:03:00.0");
  nic.ids = {0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000};
  DeviceMatch match;
  BOOST_TEST(matches(match, nic));  // empty: everything (the decoder refuses it)
  match.vendor = 0x8086;
  match.class_prefix = sub;
  BOOST_TEST(matches(match, nic));
  BOOST_TEST(match.describe() == "vendor 8086, class 0x0200");
  match.subsystem_device = 0xa01f;
  BOOST_TEST(matches(match, nic));
  match.subsystem_vendor = 0x1028;
  BOOST_TEST(!matches(match, nic));
  DeviceMatch at;
  at.address = nic.address;
  at.device = 0x10d3;
  BOOST_TEST(matches(at, nic));
  at.address = *PciAddress::parse("0000:04:00.0");
  BOOST_TEST(!matches(at, nic));
  at.class_prefix = base;
  at.subsystem_vendor = 0x8086;
  at.subsystem_device = 0xa01f;
  BOOST_TEST(at.describe() ==
             "address 0000:04:00.0, device 10d3, class 0x02, subsystem-vendor 8086, "
             "subsystem-device a01f");
}

BOOST_AUTO_TEST_CASE(source_locations_print_as_file_line_column) {
  BOOST_TEST((SourceLocation{"a.yaml", 12, 7}.str() == "a.yaml:12:7"));
  BOOST_TEST((SourceLocation{"a.yaml", 0, 0}.str() == "a.yaml"));
}

BOOST_AUTO_TEST_CASE(every_error_in_a_file_is_reported_in_reading_order) {
  auto all = problems(R"(version: 1
assignments:
  - name: gpu0
    state: vfoi
    match: { adress: "0000:01:00.0" }
    companion: auto
    state: host
)");
  BOOST_REQUIRE(all.size() == 5u);
  BOOST_TEST(all[0] ==
             "m.yaml:4:12: 'state' must be vfio or host, not 'vfoi'; did you mean 'vfio'?");
  BOOST_TEST(all[2] == "m.yaml:5:14: unknown key 'adress' in match; did you mean 'address'?");
  BOOST_TEST(has(all,
                 "m.yaml:5:12: the match of assignment 'gpu0' must give at least one of: "
                 "address, vendor, device, class, subsystem-vendor, subsystem-device"));
  BOOST_TEST(has(all,
                 "m.yaml:6:5: unknown key 'companion' in assignment 'gpu0'; did you mean "
                 "'companions'?"));
  BOOST_TEST(has(all, "m.yaml:7:5: duplicate key 'state' (first given at m.yaml:4:5)"));
}

BOOST_AUTO_TEST_CASE(wrong_types_and_missing_keys) {
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - name: 12\n    state: vfio\n    match: "
                           "{ vendor: \"8086\" }\n") ==
             "m.yaml:3:11: 'name' must be a string, not the number 12");
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - name: a\n    state: [vfio]\n    "
                           "match: { vendor: \"8086\" }\n") ==
             "m.yaml:4:12: 'state' must be a string, not a list");
  BOOST_TEST(first_problem("version: 1\nassignments: {}\n") ==
             "m.yaml:2:14: 'assignments' must be a list, not a mapping");
  BOOST_TEST(first_problem("version: 1\nsettings: [1]\n") ==
             "m.yaml:2:11: 'settings' must be a mapping, not a list");
  BOOST_TEST(first_problem("version: 1\nsettings: { jobs: four }\n") ==
             "m.yaml:2:19: 'jobs' must be a whole number, not the string \"four\"");
  BOOST_TEST(first_problem("assignments: []\n") ==
             "m.yaml:1:1: the manifest is missing required key 'version'");
  BOOST_TEST(first_problem("version: 1\n") ==
             "m.yaml:1:1: the manifest is missing required key 'assignments'");
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - name: a\n") ==
             "m.yaml:3:5: assignment 'a' is missing required key 'state'");
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - name: a\n    state:\n    match: "
                           "{ vendor: \"8086\" }\n") == "m.yaml:4:5: 'state' has no value");
  BOOST_TEST(first_problem("\"just a string\"\n") ==
             "m.yaml:1:1: a manifest must be a mapping of version, settings and assignments, "
             "not the string \"just a string\"");
}

BOOST_AUTO_TEST_CASE(matches_and_addresses) {
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - { name: a, state: vfio, match: { "
                           "address: \"0000:01:00\" } }\n") ==
             "m.yaml:3:47: invalid address '0000:01:00' is not a PCI address: expected "
             "dddd:bb:dd.f, for example 0000:01:00.0");
  // An address may be combined with IDs (a check that the slot holds that device)...
  BOOST_TEST(problems("version: 1\nassignments:\n  - { name: a, state: vfio, match: { address: "
                      "\"0000:01:00.0\", vendor: \"10de\" }, count: 1 }\n")
                 .empty());
  // ...but a count above 1 can never hold for it.
  BOOST_TEST(first_problem("version: 1\nassignments:\n  - { name: a, state: vfio, match: { "
                           "address: \"0000:01:00.0\" }, count: 2 }\n") ==
             "m.yaml:3:72: 'count' is 2, but a match on an exact address selects at most one "
             "device");
  // The same device twice, however it is spelt.
  BOOST_TEST(
      first_problem(std::string(kGpu) +
                    "  - { name: b, state: host, match: { address: \"0000:01:00.0\" } }\n"
                    "  - { name: c, state: host, match: { address: \"0000:01:00.0\" } }\n"
                    "  - { name: d, state: host, match: { address: \"0000:0A:00.0\" } }\n"
                    "  - { name: e, state: host, match: { address: \"0000:0a:00.0\" } }\n") ==
      "m.yaml:6:47: address 0000:01:00.0 is already selected by assignment 'gpu0' at "
      "m.yaml:5:23");
  auto all = problems(std::string(kGpu) +
                      "  - { name: d, state: host, match: { address: \"0000:0A:00.0\" } }\n"
                      "  - { name: e, state: host, match: { address: \"0000:0a:00.0\" } }\n");
  BOOST_TEST(has(all,
                 "m.yaml:7:47: address 0000:0a:00.0 is already selected by assignment 'd' "
                 "at m.yaml:6:47"));
}

BOOST_AUTO_TEST_CASE(yaml_level_refusals) {
  // yaml-cpp's YAML::Load keeps both entries of a duplicate key; the reader refuses the second.
  BOOST_TEST(first_problem("version: 1\nversion: 1\nassignments: []\n") ==
             "m.yaml:2:1: duplicate key 'version' (first given at m.yaml:1:1)");
  BOOST_TEST(first_problem("version: 1\nassignments: &a []\n") ==
             "m.yaml:2:14: YAML anchors (&name) are not supported in manifests; write the value "
             "out");
  BOOST_TEST(has(problems("version: 1\nsettings: &s { jobs: 2 }\nassignments: *s\n"),
                 "m.yaml:3:14: YAML aliases (*name) are not supported in manifests; write the "
                 "value out"));
  BOOST_TEST(first_problem("version: !!int 1\nassignments: []\n") ==
             "m.yaml:1:10: YAML tags ('tag:yaml.org,2002:int') are not supported in manifests");
  BOOST_TEST(first_problem("version: 1\nassignments: [\n") ==
             "m.yaml:3:1: YAML syntax error: end of sequence flow not found");
  BOOST_TEST(first_problem("version: 1\nassignments: []\n---\nversion: 1\n") ==
             "m.yaml:3:1: a manifest file holds one YAML document, but a second one starts here");
  BOOST_TEST(has(problems("? [a]\n: b\nversion: 1\n"),
                 "m.yaml:1:3: mapping keys must be plain names, not a mapping, list or nothing"));
}

BOOST_AUTO_TEST_CASE(empty_huge_and_non_utf8_files) {
  BOOST_TEST(first_problem("") == "m.yaml:1:1: empty manifest");
  BOOST_TEST(first_problem("# only\n\n# comments\n") == "m.yaml:1:1: empty manifest");
  BOOST_TEST(first_problem("---\n") == "m.yaml:1:1: empty manifest");
  std::string huge = "version: 1\nassignments: []\n#" + std::string(kMaxManifestBytes, 'x');
  BOOST_TEST(first_problem(huge) ==
             "m.yaml: the file is 1048604 bytes; manifests are limited to 1048576 bytes (1 MiB)");
  BOOST_TEST(first_problem("version: 1\n# \xc3\xa9 ok, \xff not\n") ==
             "m.yaml:2:10: invalid UTF-8 (byte 0xff); manifests must be UTF-8 text");
  auto bad = find_invalid_utf8("ab\ncd\xe2\x82");  // truncated sequence
  BOOST_REQUIRE(bad);
  BOOST_TEST(bad->line == 2);
  BOOST_TEST(bad->column == 3);
  BOOST_TEST(bad->offset == 5u);
  BOOST_TEST(!find_invalid_utf8("\xf0\x9f\x98\x80 \xe2\x82\xac"));
  for (const char* invalid : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xf8"})
    BOOST_TEST(find_invalid_utf8(invalid).has_value());
}

BOOST_AUTO_TEST_CASE(did_you_mean) {
  BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
  BOOST_TEST(*closest_name("companion", {"name", "companions"}) == "companions");
  BOOST_TEST(!closest_name("iommu-group", {"address", "vendor"}));
}

BOOST_AUTO_TEST_CASE(directories_are_read_in_name_order_and_names_are_unique_across_files) {
  ScratchDir dir("manifests");
  dir.write("20-nics.yaml",
            "version: 1\nassignments:\n  - { name: nics, state: vfio, match: { vendor: "
            "\"8086\" } }\n");
  dir.write("10-gpu.yaml", kGpu);
  dir.write("notes.txt", "not a manifest");
  dir.write(".hidden.yaml", "not: [read");
  auto state = load_manifests(test::disk(), {dir.path().string()});
  BOOST_REQUIRE(state.files.size() == 2u);
  BOOST_TEST(state.files[0] == (dir.path() / "10-gpu.yaml").string());
  BOOST_REQUIRE(state.assignments.size() == 2u);
  BOOST_TEST(state.assignments[0].name == "gpu0");
  BOOST_TEST(state.assignments[1].name == "nics");

  // A file next to the directory: one set, so the second gpu0 is a duplicate.
  std::string extra = ScratchDir("manifests").str() + ".yaml";
  std::ofstream(extra) << "version: 1\nassignments:\n  - { name: gpu0, state: host, match: { "
                          "address: \"0000:02:00.0\" } }\n";
  auto all = load_problems({dir.path().string(), extra});
  fs::remove(extra);
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0] == extra + ":3:13: duplicate assignment name 'gpu0'; first used at " +
                           (dir.path() / "10-gpu.yaml").string() + ":3:11");
}

// Each file's assignments are its owner's; the set speaks for the owners of the files that list
// assignments (an empty list too), each where it was first declared, and for none of a
// settings-only file.
BOOST_AUTO_TEST_CASE(each_file_has_one_owner_and_the_set_speaks_for_theirs) {
  ScratchDir dir("manifests");
  auto boot = dir.write("10-boot.yaml", std::string(kGpu));
  auto sandbox = dir.write(
      "20-sandbox-7.yaml",
      "version: 1\nowner: sandbox-7\nassignments:\n  - { name: scratch, state: vfio, match: { "
      "address: \"0000:02:00.0\" } }\n");
  auto gone = dir.write("30-sandbox-8.yaml", "version: 1\nowner: sandbox-8\nassignments: []\n");
  auto settings = dir.write("40-settings.yaml", "version: 1\nsettings: { jobs: 2 }\n");
  auto more = dir.write("50-more.yaml",
                        "version: 1\nowner: sandbox-7\nassignments:\n  - { name: nic, state: "
                        "vfio, match: { address: \"0000:03:00.0\" } }\n");
  const DesiredState state = load_manifests(test::disk(), {boot, sandbox, gone, settings, more});
  BOOST_REQUIRE(state.assignments.size() == 3u);
  BOOST_TEST(state.assignments[0].owner == "default");
  BOOST_TEST(state.assignments[1].owner == "sandbox-7");
  BOOST_TEST(state.assignments[2].owner == "sandbox-7");
  BOOST_REQUIRE(state.owners.size() == 3u);
  BOOST_TEST(state.owners.at("default").str() == boot);
  BOOST_TEST(state.owners.at("sandbox-7").str() == sandbox + ":2:8");
  BOOST_TEST(state.owners.at("sandbox-8").str() == gone + ":2:8");
  BOOST_TEST(state.speaks_for("sandbox-8"));
  BOOST_TEST(!load_manifests(test::disk(), {settings}).speaks_for("default"));
  // Names stay unique across owners: a run's messages name assignments alone.
  auto clash = dir.write("60-clash.yaml",
                         "version: 1\nowner: sandbox-9\nassignments:\n  - { name: scratch, "
                         "state: vfio, match: { vendor: \"8086\" } }\n");
  auto all = load_problems({sandbox, clash});
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0] == clash + ":4:13: duplicate assignment name 'scratch'; first used at " +
                           sandbox + ":4:13");
}

BOOST_AUTO_TEST_CASE(owner_names_follow_the_assignment_name_rules) {
  BOOST_TEST(first_problem("version: 1\nowner: boot_2-a\nassignments: []\n") == "(valid)");
  BOOST_TEST(first_problem("version: 1\nowner: -boot\nassignments: []\n") ==
             "m.yaml:2:8: invalid owner name '-boot': use lower-case letters, digits, '-' and '_', "
             "starting with a letter or digit");
  BOOST_TEST(first_problem("version: 1\nowner: \"\"\nassignments: []\n") ==
             "m.yaml:2:8: an owner name may not be empty");
  BOOST_TEST(first_problem("version: 1\nowner: " + std::string(64, 'a') + "\nassignments: []\n") ==
             "m.yaml:2:8: owner name '" + std::string(64, 'a') +
                 "' is 64 characters long; at most 63 are allowed");
  BOOST_TEST(first_problem("version: 1\nowner: [a]\nassignments: []\n") ==
             "m.yaml:2:8: 'owner' must be a string, not a list");
  BOOST_TEST(first_problem("version: 1\nowner:\nassignments: []\n") ==
             "m.yaml:2:1: 'owner' has no value");
  BOOST_TEST(first_problem("version: 1\nowners: boot\nassignments: []\n") ==
             "m.yaml:2:1: unknown key 'owners' in the manifest; did you mean 'owner'?");
}

BOOST_AUTO_TEST_CASE(settings_in_two_files_name_both) {
  ScratchDir dir("manifests");
  auto a = dir.write("a.yaml", "version: 1\nsettings: { jobs: 2 }\n");
  auto b = dir.write("b.yaml", "version: 1\nassignments: []\nsettings: { jobs: 3 }\n");
  auto all = load_problems({a, b});
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0] ==
             b + ":3:1: settings were already given at " + a + ":2:1; give them in one file only");
}

BOOST_AUTO_TEST_CASE(missing_and_unreadable_paths_are_missing_not_invalid) {
  ScratchDir dir("manifests");
  ManifestProblem problem = ManifestProblem::Invalid;
  auto all = load_problems({(dir.path() / "nope.yaml").string()}, &problem);
  BOOST_TEST((problem == ManifestProblem::Missing));
  BOOST_TEST(all.at(0) == (dir.path() / "nope.yaml").string() + ": no such file or directory");
  all = load_problems({dir.path().string()}, &problem);
  BOOST_TEST((problem == ManifestProblem::Missing));
  BOOST_TEST(all.at(0) == dir.path().string() + ": no *.yaml or *.yml files in this directory");
  // Both kinds at once: invalid wins (65 before 66).
  auto bad = dir.write("bad.yaml", "version: 2\nassignments: []\n");
  all = load_problems({bad, (dir.path() / "nope.yaml").string()}, &problem);
  BOOST_TEST(all.size() == 2u);
  BOOST_TEST((problem == ManifestProblem::Invalid));
  // A huge file is refused before it is read.
  auto huge = dir.write("huge.yaml", std::string(kMaxManifestBytes + 1, '#'));
  all = load_problems({huge}, &problem);
  BOOST_TEST(all.at(0) == huge +
                              ": the file is 1048577 bytes; manifests are limited to 1048576 "
                              "bytes (1 MiB)");
}

// Manifests are read through the store, like the state directory: the boot's configuration
// directory in memory, and a read that fails names the file and the errno.
BOOST_AUTO_TEST_CASE(manifests_are_read_through_the_store) {
  sim::MemoryStore store;
  const std::string one = "version: 1\nassignments: []\n";
  store.put("/etc/vfio-reconcile/manifest.yaml", one);
  store.put("/etc/vfio-reconcile/manifest.d/b.yaml", one);
  store.put("/etc/vfio-reconcile/manifest.d/a.yaml", one);
  store.put("/etc/vfio-reconcile/manifest.d/.hidden.yaml", one);
  store.put("/etc/vfio-reconcile/manifest.d/notes.txt", one);
  const auto paths = config_dir_manifests(store, "/etc/vfio-reconcile");
  BOOST_TEST((paths == std::vector<std::string>{"/etc/vfio-reconcile/manifest.yaml",
                                                "/etc/vfio-reconcile/manifest.d/a.yaml",
                                                "/etc/vfio-reconcile/manifest.d/b.yaml"}));
  BOOST_TEST(load_manifests(store, paths).files.size() == 3u);

  store.fail(IoError::Op::Read, "b.yaml", EIO);
  try {
    load_manifests(store, paths);
    BOOST_FAIL("a manifest that cannot be read was taken");
  } catch (const ManifestError& e) {
    BOOST_TEST((e.problem() == ManifestProblem::Missing));
    BOOST_REQUIRE(e.diagnostics().size() == 1u);
    BOOST_TEST(e.diagnostics()[0].str() ==
               "/etc/vfio-reconcile/manifest.d/b.yaml: cannot read: Input/output error (EIO)");
  }
}

BOOST_AUTO_TEST_CASE(good_corpus_decodes_file_by_file_and_as_one_set) {
  std::size_t files = 0;
  for (const auto& file : sorted_entries(kCorpus / "good")) {
    ++files;
    BOOST_TEST(load_problems({file.string()}).empty(), file);
  }
  BOOST_TEST(files >= 5u);
  auto state = load_manifests(test::disk(), {(kCorpus / "good").string()});
  BOOST_TEST(state.files.size() == files);
  BOOST_TEST(state.settings.jobs == 8u);
  BOOST_TEST(state.settings.probe_timeout.count() == 500);
  BOOST_TEST(state.assignments.size() == 14u);
  const auto vfs = std::find_if(state.assignments.begin(), state.assignments.end(),
                                [](const Assignment& a) { return a.name == "e810-vfs"; });
  BOOST_REQUIRE(vfs != state.assignments.end());
  BOOST_TEST((vfs->vfs == std::optional<unsigned>(8)));
  BOOST_TEST(vfs->vfs_location.line == 8);
}

BOOST_AUTO_TEST_CASE(bad_corpora_give_their_expected_first_diagnostic) {
  std::size_t checked = 0;
  for (const char* folder : {"bad", "bad-beyond-schema"}) {
    for (const auto& entry : sorted_entries(kCorpus / folder)) {
      // A directory is one manifest set; its expectation is in the file that carries one.
      std::string expected;
      if (fs::is_directory(entry)) {
        for (const auto& file : sorted_entries(entry))
          if (expected.empty()) expected = expectation_in(file);
      } else {
        expected = expectation_in(entry);
      }
      BOOST_TEST(!expected.empty(), entry << " has no '# expect: ' line");
      ManifestProblem problem = ManifestProblem::Missing;
      auto all = load_problems({entry.string()}, &problem);
      BOOST_REQUIRE_MESSAGE(!all.empty(), entry << " decoded without errors");
      const fs::path base = fs::is_directory(entry) ? entry : entry.parent_path();
      BOOST_TEST(without(all.front(), base.string() + "/") == expected, entry);
      BOOST_TEST((problem == ManifestProblem::Invalid), entry);
      ++checked;
    }
  }
  BOOST_TEST(checked >= 50u);
}
