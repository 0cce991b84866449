// One metric in the Prometheus text format, for the events' /metrics lines.
#pragma once

#include <cstdint>
#include <string>

namespace caserepo::events {

inline std::string metric_text(const char* name, const char* type, const char* help, std::uint64_t value) {
  return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
}

}  // namespace caserepo::events
