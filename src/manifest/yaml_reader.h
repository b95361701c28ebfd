// A YAML document as a tree of located nodes, read strictly.
//
// yaml-cpp's YAML::Load keeps both entries of a duplicate key (iteration sees both, node["key"]
// answers the first) and resolves anchors, aliases and tags silently. This reader builds its
// own tree from yaml-cpp's parser events instead, so that it can refuse what a manifest should
// not hold, each at its place:
//   - a key given twice in one mapping (at the second, naming the first);
//   - anchors, aliases and tags (a manifest is plain data; editors and the schema see it so too);
//   - keys that are not plain scalars, and a second document in one file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/desired_state.h"
#include "manifest/manifest_error.h"

namespace vfio {

struct YamlEntry;

struct YamlNode {
  enum class Kind { Null, Scalar, Sequence, Mapping };

  Kind kind = Kind::Null;
  // Where the node starts; for a null mapping value (`key:` and nothing), the key's place.
  SourceLocation location;
  std::string value;               // scalars
  bool quoted = false;             // scalars: written in quotes, so always a string
  std::vector<YamlNode> items;     // sequences
  std::vector<YamlEntry> entries;  // mappings, in document order, without duplicate keys

  const YamlEntry* find(std::string_view key) const;
};

struct YamlEntry {
  YamlNode key;  // always a scalar
  YamlNode value;
};

// What a scalar means under the YAML 1.2 core schema (what yaml-cpp, editors' YAML servers and
// the schema check agree on): `8086` is a number, `true` a boolean, `~` null, `"8086"` and
// `0000:01:00.0` strings.
enum class ScalarType { Null, Bool, Int, Float, String };
ScalarType scalar_type(const YamlNode& node);

// The one document in `text`. A text with no document at all (empty, only comments) reads as a
// null node at 1:1. Problems go to `diagnostics`; none is returned on a syntax error.
std::optional<YamlNode> read_yaml(const std::string& text, const std::string& file,
                                  std::vector<Diagnostic>& diagnostics);

}  // namespace vfio
