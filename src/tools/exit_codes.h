// The exit codes of caserepo and caserepo-server: 0 ok, 1 usage, then one
// per error kind, so that scripts can tell them apart.
#pragma once

#include "caserepo/error.h"

namespace caserepo::tools {

// 2 InvalidArgument, 3 NotFound, 4 Conflict, 5 IOError / Corruption / ReadOnly.
inline int exit_code(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalidArgument: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kConflict: return 4;
    default: return 5;
  }
}

}  // namespace caserepo::tools
