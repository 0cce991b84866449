// Lowercase hexadecimal text of bytes, and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace caserepo::util {

std::string to_hex(std::string_view bytes);
// nullopt unless `text` is an even number of lowercase hex digits.
std::optional<std::string> from_hex(std::string_view text);

}  // namespace caserepo::util
