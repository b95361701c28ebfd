#include "util/strict_json.h"

#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace vfio {
namespace {

using json = nlohmann::json;

// Builds the document from nlohmann's SAX events, so that a problem arrives as a call with the
// error's id and position rather than as an exception whose text would have to be parsed.
class StrictBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit StrictBuilder(std::string_view text) : text_(text) {}

  bool null() { return add(json(nullptr)); }
  bool boolean(bool value) { return add(json(value)); }
  bool number_integer(number_integer_t value) { return add(json(value)); }
  bool number_unsigned(number_unsigned_t value) { return add(json(value)); }
  bool number_float(number_float_t value, const string_t&) { return add(json(value)); }
  bool string(string_t& value) { return add(json(std::move(value))); }
  bool binary(binary_t& value) { return add(json::binary(std::move(value))); }

  bool start_object(std::size_t) {
    json* object = add_container(json::object());
    keys_.emplace_back();
    return object != nullptr;
  }
  bool key(string_t& name) {
    if (!keys_.back().insert(name).second) {
      // SAX does not tell where a key stands, so this problem has no place.
      problem_ = JsonProblem{JsonProblem::Kind::DuplicateKey, 0, 0, 0, name};
      return false;
    }
    pending_key_ = name;
    return true;
  }
  bool end_object() {
    keys_.pop_back();
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return add_container(json::array()) != nullptr; }
  bool end_array() {
    open_.pop_back();
    return true;
  }

  // `position` counts the bytes read, the offending one last (one past the end at the end).
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& error) {
    constexpr int kNumberOverflow = 406;  // json.exception.out_of_range.406
    const std::size_t offset = position == 0 ? 0 : position - 1;
    if (error.id == kNumberOverflow) {
      // The parser stops on the number's last byte; a person looks for where it starts.
      const std::size_t start =
          offset + 1 >= last_token.size() ? offset + 1 - last_token.size() : 0;
      problem_ = place(JsonProblem::Kind::NumberOutOfRange, start, last_token);
    } else if (offset >= text_.size()) {
      problem_ = place(JsonProblem::Kind::EndOfInput, text_.size(), "");
    } else {
      problem_ = place(JsonProblem::Kind::UnexpectedByte, offset, std::string(1, text_[offset]));
    }
    return false;
  }

  std::variant<json, JsonProblem> result() && {
    if (problem_) return std::move(*problem_);
    return std::move(root_);
  }

 private:
  bool add(json value) { return add_container(std::move(value)) != nullptr; }

  // Places a value in the open array or object (or as the root); containers stay open.
  json* add_container(json value) {
    const bool container = value.is_object() || value.is_array();
    json* placed = nullptr;
    if (open_.empty()) {
      root_ = std::move(value);
      placed = &root_;
    } else if (open_.back()->is_array()) {
      open_.back()->push_back(std::move(value));
      placed = &open_.back()->back();
    } else {
      placed = &((*open_.back())[pending_key_] = std::move(value));
    }
    if (container) open_.push_back(placed);
    return placed;
  }

  JsonProblem place(JsonProblem::Kind kind, std::size_t offset, std::string detail) const {
    JsonProblem p{kind, offset, 1, 1, std::move(detail)};
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++p.line;
        line_start = i + 1;
      }
    }
    p.column = offset - line_start + 1;
    return p;
  }

  std::string_view text_;
  json root_;
  std::vector<json*> open_;  // stable: a container's address does not move while it is open
  std::vector<std::set<std::string>> keys_;
  std::string pending_key_;
  std::optional<JsonProblem> problem_;
};

}  // namespace

std::string JsonProblem::to_string() const {
  // A byte is shown as JSON would escape it, so a control byte cannot garble the line.
  auto shown = [](const std::string& text) {
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  switch (kind) {
    case Kind::UnexpectedByte: {
      const auto byte = static_cast<unsigned char>(detail.empty() ? '\0' : detail[0]);
      const std::string what = byte >= 0x20 && byte < 0x7f ? fmt::format("'{}'", detail)
                                                           : fmt::format("byte {:#04x}", byte);
      return fmt::format("line {}, column {}: unexpected {}", line, column, what);
    }
    case Kind::EndOfInput:
      return fmt::format("line {}, column {}: the text ends inside a value", line, column);
    case Kind::NumberOutOfRange:
      return fmt::format("line {}, column {}: number {} is out of range", line, column,
                         shown(detail));
    case Kind::DuplicateKey:
      return fmt::format("key {} appears twice", shown(detail));
  }
  return fmt::format("line {}, column {}", line, column);
}

std::variant<json, JsonProblem> parse_strict_json(std::string_view text) {
  StrictBuilder builder(text);
  json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true,
                  /*ignore_comments=*/false);
  return std::move(builder).result();
}

}  // namespace vfio
