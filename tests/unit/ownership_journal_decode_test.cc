// What load() makes of files it did not write: damaged JSON, another format or boot, and
// entries that are wrong one field at a time.
#define BOOST_TEST_MODULE ownership_journal_decode
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "apply/ownership_journal.h"
#include "test_support.h"

using vfio::LoadedRecord;
using vfio::OwnershipJournal;
using vfio::test::contains;
using vfio::test::ScratchDir;

namespace {

const std::string kBoot = "boot-now";

const std::string kGroup12 =
    R"({"group": 12, "how": "bound", "owner": "boot", "assignment": "gpu0", "in_flight": false, )"
    R"("devices": [)"
    R"({"address": "0000:01:00.0", "original_driver": "nouveau", "original_override": null}]})";

const std::string kGroup7 =
    R"({"group": 7, "how": "adopted", "owner": "sandbox-7", "assignment": "nics", )"
    R"("in_flight": true, "devices": [)"
    R"({"address": "0000:02:00.0", "original_driver": "e1000e", "original_override": null}]})";

std::string file_with(const std::string& groups, const std::string& boot = "\"boot-now\"") {
  return R"({"format_version": 2, "boot_id": )" + boot + R"(, "groups": [)" + groups + "]}\n";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

// Loads `bytes` as the state directory's ownership.json; `file` is set to its path.
LoadedRecord load(const ScratchDir& dir, const std::string& bytes, std::string* file = nullptr) {
  const std::string path = dir.write("ownership.json", bytes);
  if (file) *file = path;
  return OwnershipJournal(vfio::test::disk(), dir.path(), kBoot).load();
}

void check_unusable(const LoadedRecord& loaded, const std::string& want) {
  BOOST_TEST(loaded.unusable_file);
  BOOST_TEST(loaded.record.groups.empty());
  BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
  BOOST_TEST(loaded.problems[0] == want);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_well_formed_file_loads_with_upper_case_addresses_and_extra_keys) {
  ScratchDir dir("journal");
  const LoadedRecord loaded =
      load(dir, file_with(replaced(kGroup12, "0000:01:00.0", "0000:0A:00.0") + ", " + kGroup7));
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST(!loaded.unusable_file);
  BOOST_TEST_REQUIRE(loaded.record.groups.size() == 2u);
  BOOST_TEST(loaded.record.find(12)->devices.at(0).address.str() == "0000:0a:00.0");
  BOOST_TEST(loaded.record.find(7)->in_flight);
}

// Version 1 was written before owners: every group it lists is the default owner's, and an
// "owner" key there means nothing.
BOOST_AUTO_TEST_CASE(a_version_1_file_is_read_as_the_default_owners) {
  ScratchDir dir("journal");
  const std::string v1 =
      replaced(replaced(replaced(file_with(kGroup12 + ", " + kGroup7), R"("owner": "boot", )", ""),
                        R"("owner": "sandbox-7", )", R"("owner": "Not a name", )"),
               "\"format_version\": 2", "\"format_version\": 1");
  const LoadedRecord loaded = load(dir, v1);
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST(!loaded.dropped_entries);
  BOOST_TEST_REQUIRE(loaded.record.groups.size() == 2u);
  BOOST_TEST(loaded.record.find(12)->owner == "default");
  BOOST_TEST(loaded.record.find(7)->owner == "default");
  // Version 2 keeps each group's owner.
  const LoadedRecord v2 = load(dir, file_with(kGroup12 + ", " + kGroup7));
  BOOST_TEST(v2.record.find(12)->owner == "boot");
  BOOST_TEST(v2.record.find(7)->owner == "sandbox-7");
}

BOOST_AUTO_TEST_CASE(broken_json_is_reported_with_line_and_column) {
  ScratchDir dir("journal");
  std::string file;
  const std::string suffix = "ignoring it; this run owns nothing it bound earlier";

  // The column is that of the byte the parser stopped at: 'o', where "null" was expected.
  auto loaded = load(dir, "{\n  \"format_version\": 2,\n  \"boot_id\": nope\n}\n", &file);
  check_unusable(loaded, file + ": corrupt (line 3, column 15: unexpected 'o'): " + suffix);

  loaded = load(dir, file_with(kGroup12).substr(0, 60), &file);
  BOOST_TEST(loaded.unusable_file);
  BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
  BOOST_TEST(contains(loaded.problems[0], file + ": corrupt (line 1, column 61: "),
             loaded.problems[0]);

  loaded = load(dir, "", &file);
  check_unusable(loaded,
                 file + ": corrupt (line 1, column 1: the text ends inside a value): " + suffix);

  loaded = load(dir, "[]\n", &file);
  check_unusable(loaded, file + ": corrupt (not a JSON object): " + suffix);

  loaded = load(dir, file_with(kGroup12) + "{}", &file);
  BOOST_TEST(loaded.unusable_file);
  BOOST_TEST(contains(loaded.problems.at(0), ": corrupt (line 2, column 1: unexpected '{')"),
             loaded.problems[0]);

  // A control byte is named, not printed.
  loaded = load(dir, "{\"format_version\": \x01}", &file);
  check_unusable(loaded, file + ": corrupt (line 1, column 20: unexpected byte 0x01): " + suffix);
}

// A number past a double's range made nlohmann throw out_of_range, which nothing caught: every
// command aborted until the file was deleted (found by a fuzzer). It is corrupt like any other.
BOOST_AUTO_TEST_CASE(a_number_out_of_a_doubles_range_is_corrupt_not_an_abort) {
  ScratchDir dir("journal");
  std::string file;
  const std::string suffix = "ignoring it; this run owns nothing it bound earlier";
  auto loaded = load(dir, "4e444444{\"", &file);
  check_unusable(loaded, file + ": corrupt (line 1, column 1: number \"4e444444\" is out of " +
                             "range): " + suffix);
  loaded = load(dir, "{\"format_version\": 1,\n \"boot_id\": 1e999}", &file);
  check_unusable(loaded, file + ": corrupt (line 2, column 13: number \"1e999\" is out of " +
                             "range): " + suffix);
}

BOOST_AUTO_TEST_CASE(a_key_given_twice_makes_the_file_unusable) {
  ScratchDir dir("journal");
  std::string file;
  auto loaded = load(dir,
                     file_with(replaced(kGroup12, R"("original_driver": "nouveau", )",
                                        R"("original_driver": "nouveau", )"
                                        R"("original_driver": "nvidia", )")),
                     &file);
  check_unusable(loaded, file +
                             ": corrupt (key \"original_driver\" appears twice): ignoring it; "
                             "this run owns nothing it bound earlier");
}

// Format 3: a group may keep SR-IOV PFs whose VF count this tool set; each bad field drops the
// entry with a line naming the PF.
BOOST_AUTO_TEST_CASE(format_3_keeps_a_pfs_original_vf_count_and_drops_a_damaged_one) {
  ScratchDir dir("journal");
  std::string file;
  const std::string pf_group =
      R"({"group": 22, "how": "bound", "owner": "default", "assignment": "e810-vfs", )"
      R"("in_flight": true, "devices": [], "vfs": [{"pf": "0000:5e:00.0", "original_count": 4, )"
      R"("original_autoprobe": true, "original_drivers": ["iavf", null, "iavf", "iavf"]}]})";
  auto three = [](const std::string& groups) {
    return replaced(file_with(groups), "\"format_version\": 2", "\"format_version\": 3");
  };
  auto loaded = load(dir, three(pf_group), &file);
  BOOST_TEST(loaded.problems.empty());
  const vfio::OwnedGroup* g = loaded.record.find(22);
  BOOST_REQUIRE(g);
  BOOST_REQUIRE(g->vfs.size() == 1u);
  BOOST_TEST(g->vfs[0].pf.str() == "0000:5e:00.0");
  BOOST_TEST(g->vfs[0].original_count == 4u);
  BOOST_TEST(g->vfs[0].original_autoprobe);
  BOOST_TEST(g->vfs[0].original_drivers.size() == 4u);
  BOOST_TEST(!g->vfs[0].original_drivers[1]);
  BOOST_TEST(g->in_flight);

  const std::pair<std::string, std::string> damaged[] = {
      {R"("original_count": 4)", R"("original_count": 70000)"},
      {R"("original_count": 4)", R"("original_count": 2)"},
      {R"("original_autoprobe": true)", R"("original_autoprobe": 1)"},
      {R"("iavf", null)", R"("../iavf", null)"},
      {R"("pf": "0000:5e:00.0")", R"("pf": "5e:00.0")"},
      {R"(, "vfs": [{)", R"(, "vfz": [{)"},
  };
  const std::string whys[] = {
      "original_count is not a whole number from 0 to 65535",
      "4 original VF drivers for an original count of 2",
      "original_autoprobe is not true or false",
      "original VF driver \"../iavf\" is not a driver name",
      "pf \"5e:00.0\" is not a PCI address",
      "no list of vfs",
  };
  for (std::size_t i = 0; i < std::size(damaged); ++i) {
    BOOST_TEST_CONTEXT(damaged[i].second) {
      const std::string group12 = replaced(kGroup12, "}]}", R"(}], "vfs": []})");
      loaded = load(
          dir, three(group12 + ", " + replaced(pf_group, damaged[i].first, damaged[i].second)));
      BOOST_TEST(loaded.dropped_entries);
      BOOST_TEST(!loaded.record.find(22));
      BOOST_TEST(loaded.record.find(12));  // the good entry stays
      BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
      BOOST_TEST(loaded.problems[0].find(whys[i]) != std::string::npos, loaded.problems[0]);
      BOOST_TEST(loaded.problems[0].find("group 22") != std::string::npos, loaded.problems[0]);
    }
  }
}

BOOST_AUTO_TEST_CASE(another_format_version_makes_the_file_unusable) {
  ScratchDir dir("journal");
  std::string file;
  const std::string good = file_with(kGroup12);
  const std::string suffix = ": ignoring it; this run owns nothing it bound earlier";

  auto loaded = load(dir, replaced(good, "\"format_version\": 2", "\"format_version\": 4"), &file);
  check_unusable(loaded, file + ": format version 4, this tool reads 1 to 3" + suffix);
  loaded = load(dir, replaced(good, "\"format_version\": 2", "\"format_version\": 0"));
  check_unusable(loaded, file + ": format version 0, this tool reads 1 to 3" + suffix);
  loaded = load(dir, replaced(good, "\"format_version\": 2", "\"format_version\": \"2\""));
  check_unusable(loaded, file + ": format version \"2\", this tool reads 1 to 3" + suffix);
  loaded = load(dir, replaced(good, "\"format_version\": 2", "\"format_version\": 2.0"));
  check_unusable(loaded, file + ": format version 2.0, this tool reads 1 to 3" + suffix);
  loaded = load(dir, replaced(good, "\"format_version\": 2, ", ""));
  check_unusable(loaded, file + ": corrupt (no format_version)" + suffix);
  loaded = load(dir, replaced(good, "\"groups\": [", "\"group\": ["));
  check_unusable(loaded, file + ": corrupt (no list of groups)" + suffix);
}

BOOST_AUTO_TEST_CASE(a_record_from_another_boot_is_stale) {
  ScratchDir dir("journal");
  std::string file;
  auto loaded = load(dir, file_with(kGroup12, "\"boot-before\""), &file);
  check_unusable(loaded, file +
                             ": written during another boot (boot id boot-before, now boot-now): "
                             "ignoring it");

  loaded = load(dir, replaced(file_with(kGroup12), R"("boot_id": "boot-now", )", ""));
  check_unusable(loaded,
                 file + ": written during another boot (boot id none, now boot-now): ignoring it");

  loaded = load(dir, file_with(kGroup12, "\"x\\ny\""));
  check_unusable(loaded, file +
                             ": written during another boot (boot id \"x\\ny\", now boot-now): "
                             "ignoring it");
}

BOOST_AUTO_TEST_CASE(an_invalid_entry_is_dropped_and_the_rest_is_kept) {
  struct Case {
    std::string from;  // in kGroup7
    std::string to;
    std::string problem;  // after "FILE: "
  };
  const std::string dropped = ": ignoring this entry";
  const std::vector<Case> cases = {
      {R"("group": 7, )", "", "groups[1]: no group number"},
      {R"("group": 7)", R"("group": -7)",
       "groups[1]: group number -7 is not a whole number from 0 to 4294967295"},
      {R"("group": 7)", R"("group": 4294967296)", "groups[1]: group number 4294967296 is not"},
      {R"("group": 7)", R"("group": "7")", "groups[1]: group number \"7\" is not"},
      {R"("group": 7)", R"("group": 7.5)", "groups[1]: group number 7.5 is not"},
      {R"("how": "adopted")", R"("how": "owned")",
       "group 7: how \"owned\" is not \"bound\" or \"adopted\""},
      {R"("how": "adopted", )", "", "group 7: no how (\"bound\" or \"adopted\")"},
      {R"("assignment": "nics", )", "", "group 7: no assignment"},
      {R"("owner": "sandbox-7", )", "", "group 7: no owner"},
      {R"("owner": "sandbox-7")", R"("owner": null)", "group 7: owner null is not a string"},
      {R"("owner": "sandbox-7")", R"("owner": "Sandbox 7")",
       "group 7: owner \"Sandbox 7\" is not an owner name: invalid owner name 'Sandbox 7'"},
      {R"("owner": "sandbox-7")", R"("owner": "")",
       "group 7: owner \"\" is not an owner name: an owner name may not be empty"},
      {R"("owner": "sandbox-7")", R"("owner": "../boot")", "group 7: owner \"../boot\" is not an"},
      {R"("assignment": "nics")", R"("assignment": 3)", "group 7: assignment 3 is not a string"},
      {R"("assignment": "nics")", R"("assignment": "Nics\n")",
       "group 7: assignment \"Nics\\n\" is not an assignment name"},
      {R"("in_flight": true)", R"("in_flight": "yes")",
       "group 7: in_flight \"yes\" is not true or false"},
      {R"("in_flight": true, )", "", "group 7: no in_flight"},
      {R"("devices": [)", R"("devices": "none", "unused": [)", "group 7: no list of devices"},
      {R"({"address")", R"(1, {"address")", "group 7: devices[0]: not an object"},
      {R"("address": "0000:02:00.0", )", "", "group 7: devices[0]: no address"},
      {R"("0000:02:00.0")", "2", "group 7: devices[0]: address 2 is not a string"},
      {R"("0000:02:00.0")", R"("02:00.0")",
       "group 7: devices[0]: address \"02:00.0\" is not a PCI address: "},
      {R"("0000:02:00.0")", R"("0000:02:00.0/../../x")",
       "group 7: devices[0]: address \"0000:02:00.0/../../x\" is not a PCI address: "},
      {R"("0000:02:00.0")", R"("0000:02:20.0")",
       "group 7: devices[0]: address \"0000:02:20.0\" is not a PCI address: "},
      {R"("0000:02:00.0")", R"("0000:02:00.0\n")",
       "group 7: devices[0]: address \"0000:02:00.0\\n\" is not a PCI address: "},
      {R"("original_driver": "e1000e", )", "", "group 7: device 0000:02:00.0: no original_driver"},
      {R"("original_override": null)", R"("original_override": false)",
       "group 7: device 0000:02:00.0: original_override false is neither a name nor null"},
      {R"("e1000e")", R"("../../../../etc")",
       "group 7: device 0000:02:00.0: original_driver \"../../../../etc\" is not a driver name "
       "(one sysfs path component)"},
      {R"("e1000e")", R"("")", "group 7: device 0000:02:00.0: original_driver \"\" is not a"},
      {R"("e1000e")", R"("..")", "group 7: device 0000:02:00.0: original_driver \"..\" is not a"},
      {R"("e1000e")", R"("e1000e/unbind")",
       "group 7: device 0000:02:00.0: original_driver \"e1000e/unbind\" is not a"},
      {R"("original_override": null)", R"("original_override": "vfio-pci/../x")",
       "group 7: device 0000:02:00.0: original_override \"vfio-pci/../x\" is not a driver name"},
      {R"("original_override": null)", R"("original_override": "a\u0000b")",
       "group 7: device 0000:02:00.0: original_override \"a\\u0000b\" is not a driver name"},
      {R"("original_override": null})",
       R"("original_override": null}, {"address": "0000:02:00.0", "original_driver": null, )"
       R"("original_override": null})",
       "group 7: device 0000:02:00.0 is listed more than once"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.to) {
      ScratchDir dir("journal");
      std::string file;
      const LoadedRecord loaded =
          load(dir, file_with(kGroup12 + ", " + replaced(kGroup7, c.from, c.to)), &file);
      BOOST_TEST(!loaded.unusable_file);
      BOOST_TEST(loaded.dropped_entries);
      BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
      const std::string& problem = loaded.problems[0];
      BOOST_TEST(problem.rfind(file + ": " + c.problem, 0) == 0u, problem);
      BOOST_TEST(contains(problem, dropped), problem);
      BOOST_TEST(loaded.record.groups.size() == 1u);
      BOOST_TEST(loaded.record.find(12) != nullptr);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_entry_that_is_not_an_object_is_named_by_its_index) {
  ScratchDir dir("journal");
  std::string file;
  const LoadedRecord loaded = load(dir, file_with(kGroup12 + ", \"group 7\", " + kGroup7), &file);
  BOOST_TEST(!loaded.unusable_file);
  BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
  BOOST_TEST(loaded.problems[0] == file + ": groups[1]: not an object: ignoring this entry");
  BOOST_TEST(loaded.record.groups.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_group_listed_twice_is_dropped_entirely) {
  ScratchDir dir("journal");
  std::string file;
  const std::string other_12 = replaced(kGroup12, "\"gpu0\"", "\"gpu1\"");
  LoadedRecord loaded = load(dir, file_with(kGroup12 + ", " + kGroup7 + ", " + other_12), &file);
  BOOST_TEST(!loaded.unusable_file);
  BOOST_TEST_REQUIRE(loaded.problems.size() == 1u);
  BOOST_TEST(loaded.problems[0] ==
             file + ": group 12: listed 2 times: ignoring every entry for it");
  BOOST_TEST_REQUIRE(loaded.record.groups.size() == 1u);
  BOOST_TEST(loaded.record.find(7) != nullptr);

  // The second claim is itself invalid: it still casts doubt on the first.
  const std::string broken_12 = replaced(kGroup12, "\"bound\"", "\"stolen\"");
  loaded = load(dir, file_with(kGroup12 + ", " + broken_12));
  BOOST_TEST(!loaded.unusable_file);
  BOOST_TEST(loaded.problems.size() == 2u);
  BOOST_TEST(loaded.record.groups.empty());
}
