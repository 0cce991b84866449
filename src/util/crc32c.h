// CRC-32C (Castagnoli), the checksum of every file record, frame and header,
// and of page tokens. Uses the CPU's CRC32 instruction where there is one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace caserepo::util {

std::uint32_t crc32c(const void* data, std::size_t size) noexcept;
inline std::uint32_t crc32c(std::string_view bytes) noexcept { return crc32c(bytes.data(), bytes.size()); }

namespace detail {
// The table-driven computation, always: for tests of the fast one.
std::uint32_t crc32c_reference(const void* data, std::size_t size) noexcept;
}  // namespace detail

}  // namespace caserepo::util
