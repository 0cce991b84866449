// The JSON wire format's own rules that the engine does not check: dates.
#include <gtest/gtest.h>

#include "json/wire.h"

namespace caserepo::testing {
namespace {

std::int64_t ms(std::string_view text) {
  auto t = json::parse_timestamp(text);
  if (!t.ok()) throw std::runtime_error(t.error().to_string());
  return t->time_since_epoch().count();
}

TEST(WireTimestampTest, ReadsUtcWithOrWithoutOffsetAndMilliseconds) {
  EXPECT_EQ(ms("2025-01-10T14:00:00.000Z"), 1736517600000LL);
  EXPECT_EQ(ms("2025-01-10T14:00:00Z"), 1736517600000LL);
  EXPECT_EQ(ms("2025-01-10T14:00:00"), 1736517600000LL);  // no offset: UTC
  EXPECT_EQ(ms("2025-01-10T16:00:00.5+02:00"), 1736517600500LL);
  EXPECT_EQ(ms("2025-01-10T12:30:00.000-01:30"), 1736517600000LL);
  EXPECT_EQ(json::format_timestamp(json::parse_timestamp("2025-01-10T14:00:00.007Z").value()),
            "2025-01-10T14:00:00.007Z");
}

TEST(WireTimestampTest, RefusesSignedOrOutOfRangeFields) {
  for (const char* bad : {"2025-01-10T-1:00:00Z", "2025-01-10T14:-1:00Z", "2025-01-10T14:00:-1Z",
                          "2025-01-10T14:00:00+-1:00", "2025-01-10T14:00:00+01:-1", "2025--1-10T14:00:00Z",
                          "2025-01--1T14:00:00Z", "-025-01-10T14:00:00Z", "+025-01-10T14:00:00Z",
                          "2025-01-10T24:00:00Z", "2025-01-10T14:60:00Z", "2025-02-30T14:00:00Z",
                          "2025-01-10T14:00:00+24:00", "2025-01-10T14:00:00.Z", "2025-01-10", "yesterday"}) {
    auto t = json::parse_timestamp(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace caserepo::testing
