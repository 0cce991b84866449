// CRC-32C (Castagnoli), the checksum of page tokens and (later) file frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace caserepo::util {

std::uint32_t crc32c(const void* data, std::size_t size) noexcept;
inline std::uint32_t crc32c(std::string_view bytes) noexcept { return crc32c(bytes.data(), bytes.size()); }

}  // namespace caserepo::util
