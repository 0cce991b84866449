// The JSON wire format's own rules that the engine does not check: dates,
// the fast writers, the stream commands' envelope.
#include <gtest/gtest.h>

#include "json/wire.h"

#include <random>

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

// The hand-written writers of the service's responses give the very bytes
// nlohmann's dump() gives, for strings with every kind of character.
TEST(WireDumpTest, TheFastWritersEqualNlohmannsDump) {
  std::mt19937_64 rng(3);
  const std::string alphabet = std::string("aZ09 \"\\/\b\f\n\r\t\x01\x1f\x7f") + "żółw€𝄞";
  auto text = [&] {
    std::string s;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) {
      const std::size_t i = rng() % alphabet.size();
      // whole UTF-8 sequences only
      std::size_t j = i;
      while (j > 0 && (static_cast<unsigned char>(alphabet[j]) & 0xC0) == 0x80) --j;
      std::size_t k = j + 1;
      while (k < alphabet.size() && (static_cast<unsigned char>(alphabet[k]) & 0xC0) == 0x80) ++k;
      s += alphabet.substr(j, k - j);
    }
    return s;
  };
  std::vector<Entry> entries;
  for (int i = 0; i < 300; ++i) {
    Entry e{text(), std::nullopt, text(), text(), text(), text(), std::nullopt, std::nullopt,
            Timestamp(std::chrono::milliseconds(static_cast<std::int64_t>(rng() % 4102444800000ULL))),
            Timestamp(std::chrono::milliseconds(static_cast<std::int64_t>(rng() % 4102444800000ULL)))};
    if (rng() % 2) e.businessKey = text();
    if (rng() % 2) e.statusDescription = text();
    if (rng() % 2) e.source = text();
    ASSERT_EQ(json::dump(e), json::to_json(e).dump()) << i;
    EntryView v{e.caseId, e.businessKey, e.caseType, e.clientId, e.clientType, e.status,
                e.statusDescription, e.source, e.creationDate, e.updateDate};
    ASSERT_EQ(json::dump(v), json::dump(e)) << i;
    entries.push_back(e);
  }
  ASSERT_EQ(json::dump(entries), json::to_json(entries).dump());
  SearchResult r{entries, 3, 20, 12345, 618, std::string("ab12"), {}};
  EXPECT_EQ(json::dump(r), json::to_json(r).dump());
  EXPECT_FALSE(json::to_json(r).contains("entryTokens"));  // the REST answer has none
  for (std::size_t i = 0; i < entries.size(); ++i) r.entryTokens.push_back("t\"" + std::to_string(i));
  EXPECT_EQ(json::dump(r), json::to_json(r).dump());
  EXPECT_EQ(json::to_json(r)["entryTokens"].size(), entries.size());
  r.entryTokens.clear();
  r.nextPageToken.reset();
  r.content.clear();
  EXPECT_EQ(json::dump(r), json::to_json(r).dump());
}

TEST(WireCommandTest, ParsesTheThreeWritesAndRefusesAnythingElse) {
  auto command = [](std::string_view text) { return json::parse_command(*json::parse(text)); };
  auto create = command(R"({"op":"create","request":{"caseType":"LOAN","client":"c1","clientType":"PESEL","status":"OPEN"}})");
  ASSERT_TRUE(create.ok()) << create.error().to_string();
  EXPECT_EQ(create->kind, StreamCommand::Kind::kCreate);
  EXPECT_EQ(create->create.clientId, "c1");
  EXPECT_EQ(create->position, 0u);
  auto update = command(R"({"patch":{"status":"CLOSED","source":null},"caseId":"k","op":"update"})");
  ASSERT_TRUE(update.ok()) << update.error().to_string();
  EXPECT_EQ(update->kind, StreamCommand::Kind::kUpdate);
  EXPECT_EQ(update->caseId, "k");
  EXPECT_EQ(update->patch.status, "CLOSED");
  ASSERT_TRUE(update->patch.source.has_value());
  EXPECT_FALSE(update->patch.source->has_value());  // set to null
  auto remove = command(R"({"op":"remove","caseId":"k"})");
  ASSERT_TRUE(remove.ok());
  EXPECT_EQ(remove->kind, StreamCommand::Kind::kRemove);

  for (const char* bad : {R"([1])", R"({"caseId":"k"})", R"({"op":7})", R"({"op":"get","caseId":"k"})",
                          R"({"op":"remove"})", R"({"op":"remove","caseId":3})", R"({"op":"remove","caseId":"k","patch":{}})",
                          R"({"op":"update","caseId":"k"})", R"({"op":"update","caseId":"k","patch":{"colour":"red"}})",
                          R"({"op":"create"})", R"({"op":"create","request":{},"caseId":"k"})"}) {
    auto r = command(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace caserepo::testing
