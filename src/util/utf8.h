// UTF-8 validation of text read from files, before any parser sees it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace vfio {

struct Utf8Error {
  std::size_t offset = 0;  // of the first byte that is not valid UTF-8
  int line = 1;            // 1-based
  int column = 1;          // 1-based, counted in bytes (as compilers and yaml-cpp count them)
  unsigned char byte = 0;  // the offending byte
};

// The first byte that breaks UTF-8 (stray continuation bytes, truncated or overlong sequences,
// UTF-16 surrogates, code points past U+10FFFF); none when all of `text` is valid.
std::optional<Utf8Error> find_invalid_utf8(std::string_view text);

}  // namespace vfio
