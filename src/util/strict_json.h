// JSON read for decoding files that this tool wrote and a person may have edited: a problem is a
// typed value with its place, never an exception (nlohmann's parse throws parse_error, but
// out_of_range for a number past a double's range, which callers used to miss), and never text to
// be picked apart. A key given twice in one object is a problem too: nlohmann keeps the last
// without a word.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace vfio {

struct JsonProblem {
  enum class Kind {
    UnexpectedByte,    // the byte at `offset` cannot stand there
    EndOfInput,        // the text ends inside a value (or holds none)
    NumberOutOfRange,  // `detail` is the number as written
    DuplicateKey,      // `detail` is the key
  };
  Kind kind = Kind::UnexpectedByte;
  // Where it is; 0 for a duplicate key, whose place the parser does not tell.
  std::size_t offset = 0;  // of the offending byte, 0-based
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes as compilers count them
  std::string detail;

  // "line 3, column 15: unexpected 'o'"; "key \"x\" appears twice"
  std::string to_string() const;
};

std::variant<nlohmann::json, JsonProblem> parse_strict_json(std::string_view text);

}  // namespace vfio
