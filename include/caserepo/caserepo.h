// Umbrella header: everything an embedder needs.
#pragma once

#include "caserepo/change.h"
#include "caserepo/entry.h"
#include "caserepo/error.h"
#include "caserepo/maintenance.h"
#include "caserepo/options.h"
#include "caserepo/query.h"
#include "caserepo/repository.h"
#include "caserepo/requests.h"
#include "caserepo/stream.h"
