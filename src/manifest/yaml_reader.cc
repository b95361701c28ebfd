#include "manifest/yaml_reader.h"

#include <map>
#include <regex>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace vfio {
namespace {

SourceLocation locate(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

// Builds YamlNodes from parser events, checking what YAML::Load lets through.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, std::vector<Diagnostic>& diagnostics)
      : file_(file), diagnostics_(diagnostics) {}

  std::optional<YamlNode>& root() { return root_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    check_anchor(mark, anchor);
    YamlNode node;
    node.location = locate(file_, mark);
    add(std::move(node));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    error(mark, "YAML aliases (*name) are not supported in manifests; write the value out");
    YamlNode node;
    node.location = locate(file_, mark);
    add(std::move(node));
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    YamlNode node;
    node.kind = YamlNode::Kind::Scalar;
    node.location = locate(file_, mark);
    node.value = value;
    node.quoted = tag == "!";
    add(std::move(node));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(mark, tag, anchor, YamlNode::Kind::Sequence);
  }
  void OnSequenceEnd() override { finish(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    start(mark, tag, anchor, YamlNode::Kind::Mapping);
  }
  void OnMapEnd() override { finish(); }

 private:
  struct Frame {
    YamlNode node;
    std::optional<YamlNode> key;  // mappings: the key whose value comes next
    bool skip_value = false;      // mappings: the next value belongs to a refused key
    std::map<std::string, SourceLocation> keys;  // mappings: where each key was first given
  };

  void error(const YAML::Mark& mark, std::string message) {
    diagnostics_.push_back({locate(file_, mark), std::move(message), ManifestProblem::Invalid});
  }
  void check_anchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor)
      error(mark, "YAML anchors (&name) are not supported in manifests; write the value out");
  }
  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    // "?": plain, "!": quoted (or a bare "!"); anything else was written as a tag.
    if (tag != "?" && tag != "!" && !tag.empty())
      error(mark, fmt::format("YAML tags ('{}') are not supported in manifests", tag));
  }

  void start(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
             YamlNode::Kind kind) {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    Frame frame;
    frame.node.kind = kind;
    frame.node.location = locate(file_, mark);
    stack_.push_back(std::move(frame));
  }
  void finish() {
    YamlNode node = std::move(stack_.back().node);
    stack_.pop_back();
    add(std::move(node));
  }

  void add(YamlNode node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == YamlNode::Kind::Sequence) {
      top.node.items.push_back(std::move(node));
      return;
    }
    if (!top.key && !top.skip_value) {
      add_key(top, std::move(node));
      return;
    }
    if (top.skip_value) {
      top.skip_value = false;
      return;
    }
    // yaml-cpp marks a missing value where the next token starts: point at the key instead.
    if (node.kind == YamlNode::Kind::Null) node.location = top.key->location;
    top.node.entries.push_back({std::move(*top.key), std::move(node)});
    top.key.reset();
  }

  void add_key(Frame& top, YamlNode key) {
    const SourceLocation& at = key.location;
    if (key.kind != YamlNode::Kind::Scalar) {
      diagnostics_.push_back(
          {at, "mapping keys must be plain names, not a mapping, list or nothing"});
      top.skip_value = true;
      return;
    }
    auto [first, inserted] = top.keys.emplace(key.value, at);
    if (!inserted) {
      diagnostics_.push_back({at, fmt::format("duplicate key '{}' (first given at {})", key.value,
                                              first->second.str())});
      top.skip_value = true;
      return;
    }
    top.key = std::move(key);
  }

  const std::string& file_;
  std::vector<Diagnostic>& diagnostics_;
  std::vector<Frame> stack_;
  std::optional<YamlNode> root_;
};

// Only notes that a document starts, so a second document can be reported.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> start;
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (!start) start = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

const YamlEntry* YamlNode::find(std::string_view key) const {
  for (const auto& entry : entries)
    if (entry.key.value == key) return &entry;
  return nullptr;
}

ScalarType scalar_type(const YamlNode& node) {
  if (node.kind == YamlNode::Kind::Null) return ScalarType::Null;
  if (node.kind != YamlNode::Kind::Scalar || node.quoted) return ScalarType::String;
  static const std::regex kNull("~|null|Null|NULL|");
  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kInt("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  static const std::regex kFloat(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|"
      "\\.nan|\\.NaN|\\.NAN");
  const std::string& v = node.value;
  if (std::regex_match(v, kNull)) return ScalarType::Null;
  if (std::regex_match(v, kBool)) return ScalarType::Bool;
  if (std::regex_match(v, kInt)) return ScalarType::Int;
  if (std::regex_match(v, kFloat)) return ScalarType::Float;
  return ScalarType::String;
}

std::optional<YamlNode> read_yaml(const std::string& text, const std::string& file,
                                  std::vector<Diagnostic>& diagnostics) {
  std::vector<Diagnostic> found;
  TreeBuilder builder(file, found);
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    if (!parser.HandleNextDocument(builder)) {
      YamlNode empty;
      empty.location = {file, 1, 1};
      return empty;
    }
    DocumentCounter second;
    if (parser.HandleNextDocument(second) && second.start) {
      found.push_back({locate(file, *second.start),
                       "a manifest file holds one YAML document, but a second one starts here"});
    }
  } catch (const YAML::ParserException& e) {
    diagnostics.push_back({locate(file, e.mark), "YAML syntax error: " + e.msg});
    return std::nullopt;
  }
  diagnostics.insert(diagnostics.end(), found.begin(), found.end());
  return std::move(builder.root());
}

}  // namespace vfio
