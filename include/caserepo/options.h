// How a Repository is configured.
#pragma once

#include <functional>
#include <string>

#include "caserepo/entry.h"

namespace caserepo {

struct Options {
  // The low-code facade's application name. When not empty, a create that
  // leaves them out gets caseType = applicationName and source = "eximee".
  std::string applicationName;

  // Source of creationDate/updateDate. Default: the system clock.
  // The engine never lets stamps go backwards: a write is stamped
  // max(clock(), previous stamp), so creation order and date order agree.
  std::function<Timestamp()> clock;
};

inline constexpr const char* kLowCodeDefaultSource = "eximee";

}  // namespace caserepo
