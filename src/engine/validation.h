// The SPEC's input rules, one function per kind of input. Each returns the
// first rule broken, as an InvalidArgument error, or nullopt.
#pragma once

#include <optional>
#include <string_view>

#include "caserepo/error.h"
#include "caserepo/query.h"
#include "caserepo/requests.h"

namespace caserepo::engine {

// Most values one filter field may list.
inline constexpr std::size_t kMaxFilterValues = 1024;
// Highest page number accepted (keeps page * size far from overflow).
inline constexpr std::uint64_t kMaxPage = std::uint64_t{1} << 32;

// A string value: not empty, at most `max_bytes`, valid UTF-8, no NUL.
std::optional<Error> check_text(std::string_view field, std::string_view value, std::size_t max_bytes);

// REQUIRES: defaults already filled in (caseType, source).
std::optional<Error> check_create(const CreateRequest& request);
std::optional<Error> check_patch(const Patch& patch);
std::optional<Error> check_filter(const Filter& filter);
std::optional<Error> check_page(const PageRequest& page);

}  // namespace caserepo::engine
