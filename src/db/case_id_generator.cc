#include "db/case_id_generator.h"

#include <boost/uuid/uuid_io.hpp>

namespace caserepo::db {

std::string CaseIdGenerator::next() { return boost::uuids::to_string(generator_()); }

}  // namespace caserepo::db
