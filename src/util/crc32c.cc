#include "util/crc32c.h"

#include <boost/crc.hpp>

namespace caserepo::util {

std::uint32_t crc32c(const void* data, std::size_t size) noexcept {
  // Boost.CRC's table-driven CRC with the Castagnoli polynomial, reflected.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

}  // namespace caserepo::util
