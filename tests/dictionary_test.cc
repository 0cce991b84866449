// Dictionary (src/engine/dictionary.h): an open-addressed table over values
// kept by code. Checked against a std::map through random interns and
// erases — long probe runs at the 3/4 load limit, backward-shift deletion,
// growth, freed codes reused — after every step; growth at once and a few
// slots per intern (finds, erases and hints in both tables meanwhile).
#include "engine/dictionary.h"

#include "engine/value_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace caserepo::engine {
namespace {

using Dict = Dictionary<std::uint32_t>;

// A value's text as a string, whichever way the dictionary keeps it.
template <class Text>
std::string text_of(const Text& t) {
  TextScratch scratch;
  return std::string(t.view(scratch));
}

// Every text of `model` found with its code, both ways; nothing else there.
template <class D>
void expect_same(const D& d, const std::map<std::string, std::uint32_t>& model,
                 const std::vector<std::string>& absent, const std::string& where) {
  ASSERT_EQ(d.size(), model.size()) << where;
  ASSERT_EQ(d.slots_in_use(), model.size()) << where << ": a slot left behind";
  for (const auto& [text, code] : model) {
    const typename D::Value* v = d.find(text);
    ASSERT_NE(v, nullptr) << where << ": " << text;
    ASSERT_EQ(v->code, code) << where;
    ASSERT_EQ(text_of(v->text), text) << where;
    ASSERT_EQ(d.find(code), v) << where;
    ASSERT_EQ(v->payload, code * 7) << where;  // payloads stay with their values
  }
  for (const std::string& text : absent) ASSERT_EQ(d.find(text), nullptr) << where << ": " << text;
  std::vector<std::uint32_t> visited;
  d.for_each([&](const typename D::Value& v) { visited.push_back(v.code); });
  std::vector<std::uint32_t> want;
  for (const auto& [text, code] : model) want.push_back(code);
  std::sort(want.begin(), want.end());
  ASSERT_EQ(visited, want) << where << ": for_each visits the live codes in order";
}

// Slots an intern moves while the table grows: at once, the fewest, the default.
constexpr std::size_t kRehashSteps[] = {0, 1, 3, Dict::kRehashStep};

// A UUID's text made from k: lowercase, uppercase, or mixed (KeyText keeps
// the first two as 16 bytes, the third as text, value_text.h).
std::string uuid_text(std::uint64_t k, int letter_case) {
  static const char* digits[] = {"0123456789abcdef", "0123456789ABCDEF"};
  std::string out;
  std::uint64_t x = k * 0x9E3779B97F4A7C15ull + 0xABCDEF;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    const int which = letter_case == 2 ? i % 2 : letter_case;
    out += digits[which][(x >> ((i % 16) * 4)) & 0xF];
    if (i == 15) x = x * 31 + 7;
  }
  return out;
}

// Keys of every kind: short, long (on the heap), UUIDs of each letter case.
std::string key_text(std::size_t k) {
  switch (k % 5) {
    case 0: return "a-value-longer-than-39-bytes-so-on-the-heap-" + std::to_string(k);
    case 1: return "value-" + std::to_string(k);
    default: return uuid_text(k / 5, static_cast<int>(k % 5) - 2);
  }
}

template <class D>
void random_interns_and_erases_match_a_map() {
  for (const std::size_t rehash_step : kRehashSteps) {
    std::size_t checked_while_growing = 0;
    for (const std::uint32_t seed : {1u, 2u, 3u}) {
      std::mt19937 rng(seed);
      D d;
      std::map<std::string, std::uint32_t> model;
      std::set<std::uint32_t> freed;
      const std::size_t keys = seed == 1 ? 40 : 3000;  // a few keys: the table shrinks and refills in one run
      std::vector<std::string> all;
      for (std::size_t k = 0; k < keys; ++k) all.push_back(key_text(k));
      for (int step = 0; step < 20000; ++step) {
        const std::string& text = all[rng() % all.size()];
        if (rng() % 3 != 0) {
          const bool is_new = !model.contains(text);
          const typename D::Value& v = d.intern(text, rehash_step);
          if (is_new) {
            if (!freed.empty()) {  // a freed code is given first
              ASSERT_TRUE(freed.contains(v.code)) << step;
              freed.erase(v.code);
            } else {
              ASSERT_EQ(v.code + 1, d.code_bound()) << step;
            }
            v.payload = v.code * 7;
            model[text] = v.code;
          } else {
            ASSERT_EQ(v.code, model[text]);
          }
          ASSERT_EQ(d.add(text, rehash_step), nullptr);  // already there
        } else if (auto it = model.find(text); it != model.end()) {
          d.erase(it->second);
          freed.insert(it->second);
          model.erase(it);
        }
        if (step % 97 == 0 || keys < 100) {
          std::vector<std::string> absent;
          for (const std::string& t : all) {
            if (!model.contains(t)) absent.push_back(t);
          }
          checked_while_growing += d.growing();
          expect_same(d, model, absent,
                      "rehash step " + std::to_string(rehash_step) + " seed " + std::to_string(seed) + " step " +
                          std::to_string(step));
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
    if (rehash_step == 0) {
      EXPECT_EQ(checked_while_growing, 0u);
    } else {
      EXPECT_GT(checked_while_growing, 0u) << "rehash step " << rehash_step << ": no check met a growth under way";
    }
  }
}

TEST(DictionaryTest, RandomInternsAndErasesMatchAMap) { random_interns_and_erases_match_a_map<Dict>(); }
TEST(DictionaryTest, RandomInternsAndErasesMatchAMapWithKeyTexts) {
  random_interns_and_erases_match_a_map<Dictionary<std::uint32_t, KeyText>>();
}

// Hints (the caseId dictionary's newest slot per case) stay with their
// values through growth and backward-shift deletion, and set_hints()
// assigns every one by code.
TEST(DictionaryTest, HintsStayWithTheirValues) {
  for (const std::size_t rehash_step : kRehashSteps) {
    SCOPED_TRACE("rehash step " + std::to_string(rehash_step));
    std::size_t checked_while_growing = 0;
    bool was_growing = false;
    std::mt19937 rng(7);
    Dict d;
    d.enable_hints();
    std::map<std::string, std::uint32_t> hint_of;  // the model
    std::vector<std::string> all;
    for (int k = 0; k < 2000; ++k) all.push_back("case-" + std::to_string(k));
    auto expect_hints = [&](int step) {
      for (const std::string& text : all) {
        std::vector<std::uint32_t> candidates;
        const Dict::Found found = d.find_hinted(text, [&](std::uint32_t h) { candidates.push_back(h); });
        const auto it = hint_of.find(text);
        if (it == hint_of.end()) {
          ASSERT_EQ(found.value, nullptr) << step << " " << text;
          continue;
        }
        ASSERT_NE(found.value, nullptr) << step << " " << text;
        ASSERT_EQ(found.value->text.view(), text) << step;
        ASSERT_EQ(found.hint, it->second) << step << " " << text;
        ASSERT_FALSE(candidates.empty());
        ASSERT_EQ(candidates.back(), it->second) << step << ": the matching value's hint is offered before the compare";
      }
    };
    for (int step = 0; step < 30000; ++step) {
      const std::string& text = all[rng() % all.size()];
      if (rng() % 4 == 0) {
        // Interning and moving the hint in one probe gives back the hint it had.
        const auto it = hint_of.find(text);
        const std::uint32_t had = it == hint_of.end() ? Dict::kNoHint : it->second;
        const std::uint32_t hint = static_cast<std::uint32_t>(rng() % 1000000);
        const auto [value, previous] = d.intern_exchanging_hint(text, hint, rehash_step);
        ASSERT_EQ(text_of(value.text), text) << step;
        ASSERT_EQ(previous, had) << step << " " << text;
        hint_of[text] = hint;
      } else if (rng() % 3 != 0) {
        const bool is_new = !hint_of.contains(text);
        d.intern(text, rehash_step);
        if (is_new) hint_of[text] = Dict::kNoHint;  // a new value's hint until one is set
        if (rng() % 2 == 0) {
          const std::uint32_t hint = static_cast<std::uint32_t>(rng() % 1000000);
          d.set_hint(text, hint);
          hint_of[text] = hint;
        }
      } else if (hint_of.contains(text)) {
        d.erase(d.find(text)->code);
        hint_of.erase(text);
      }
      const bool growth_started = d.growing() && !was_growing;  // its moves under way from the next intern
      was_growing = d.growing();
      if (step % 211 == 0 || growth_started) {
        checked_while_growing += d.growing();
        expect_hints(step);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
    std::vector<std::uint32_t> by_code(d.code_bound());
    for (std::uint32_t c = 0; c < by_code.size(); ++c) by_code[c] = c * 3 + 1;
    d.set_hints(by_code);
    for (auto& [text, hint] : hint_of) hint = d.find(text)->code * 3 + 1;
    expect_hints(-1);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_EQ(checked_while_growing > 0, rehash_step > 0);
  }
}

TEST(DictionaryTest, ValuesKeepTheirAddressesWhileItGrows) {
  Dict d;
  const Dict::Value* first = &d.intern("first");
  d.reserve(10);
  std::vector<const Dict::Value*> seen;
  for (int i = 0; i < 100000; ++i) seen.push_back(&d.intern("v" + std::to_string(i)));
  EXPECT_EQ(d.find("first"), first);
  EXPECT_EQ(first->text, "first");
  for (int i = 0; i < 100000; i += 997) EXPECT_EQ(d.find("v" + std::to_string(i)), seen[i]);
  EXPECT_EQ(d.find(std::uint32_t{100001}), nullptr);  // never given
  d.erase(first->code);
  EXPECT_EQ(d.find(std::uint32_t{0}), nullptr);  // freed
  EXPECT_EQ(d.find("first"), nullptr);
  EXPECT_EQ(d.intern("again").code, 0u);
}

// room_for(n) is where the next n new codes' values will be, across chunk
// boundaries, freed codes aside (a replay pre-faults it: decode_ahead.h).
TEST(DictionaryTest, RoomForTheNextValuesIsWhereTheyGo) {
  Dict d;
  int next = 0;
  for (const std::uint32_t n : {1u, 63u, 64u, 100u, 1000u, 5000u}) {
    const auto room = d.room_for(n);
    std::size_t bytes = 0;
    for (const auto& r : room) bytes += r.size();
    EXPECT_EQ(bytes, n * sizeof(Dict::Value));
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto* v = reinterpret_cast<const std::byte*>(&d.intern("v" + std::to_string(next++)));
      EXPECT_TRUE(std::any_of(room.begin(), room.end(), [&](const auto& r) {
        return v >= r.data() && v + sizeof(Dict::Value) <= r.data() + r.size();
      })) << "value " << next - 1 << " of room for " << n;
    }
  }
  EXPECT_TRUE(d.room_for(0).empty());
}

// Texts of every length around the inline limit, bytes of every value
// (NUL, 0xFF: the inline length's byte is never mistaken for text), and
// reassignment between inline and heap (ASan checks nothing leaks).
TEST(ValueTextTest, KeepsEveryTextWhetherInlineOrOnTheHeap) {
  std::vector<std::string> texts;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{36}, ValueText::kInline - 1, ValueText::kInline,
                        ValueText::kInline + 1, std::size_t{1000}}) {
    std::string t(n, 'x');
    for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<char>((i * 37 + n) % 256);
    texts.push_back(t);
  }
  texts.push_back(std::string(ValueText::kInline, static_cast<char>(0xFF)));
  for (const std::string& a : texts) {
    ValueText t(a);
    EXPECT_EQ(t.view(), a);
    EXPECT_EQ(t.heap_bytes(), a.size() > ValueText::kInline ? a.size() : 0u);
    for (const std::string& b : texts) {
      t.assign(b);
      ASSERT_EQ(t.view(), b) << a.size() << " then " << b.size();
      EXPECT_EQ(t == b, true);
      EXPECT_EQ(t == a, a == b);
    }
    t.reset();
    EXPECT_EQ(t.view(), "");
    EXPECT_EQ(t.heap_bytes(), 0u);
  }
}

// Every kind of text KeyText keeps reads back as written, compares equal to
// itself only, and is kept the expected way: canonical UUIDs (all
// lowercase, all uppercase, digits only) as 16 bytes, near misses as text.
TEST(KeyTextTest, KeepsEveryTextAndUuidsAsSixteenBytes) {
  struct Case {
    std::string text;
    bool uuid;
  };
  std::vector<Case> cases = {
      {"123e4567-e89b-42d3-a456-426614174000", true},
      {"123E4567-E89B-42D3-A456-426614174000", true},   // the same digits, uppercase: a different caseId
      {"12345678-1234-1234-1234-123456789012", true},   // no letters
      {"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
      {"00000000-0000-0000-0000-000000000000", true},
      {"123e4567-E89B-42d3-a456-426614174000", false},  // mixed case
      {"123e4567e89b-42d3-a456-426614174000-", false},  // a hyphen moved
      {"123e4567-e89b-42d3-a456-42661417400", false},   // 35 characters
      {"123e4567-e89b-42d3-a456-4266141740000", false}, // 37
      {"123e4567-e89b-42d3-a456-42661417400g", false},  // not hex
      {"{23e4567-e89b-42d3-a456-426614174000", false},
      {"", false},
      {"x", false},
      {std::string(KeyText::kInline, 'k'), false},
      {std::string(KeyText::kInline + 1, 'k'), false},
      {std::string(1000, 'z'), false},
      {std::string(KeyText::kInline, static_cast<char>(0xFD)), false},  // the tag byte's values as text
      {std::string(KeyText::kInline, static_cast<char>(0xFF)), false},
      {std::string("a\0b", 3), false},
  };
  for (const Case& a : cases) {
    KeyText t(a.text);
    TextScratch scratch;
    EXPECT_EQ(t.view(scratch), a.text);
    EXPECT_EQ(t.is_uuid(), a.uuid) << a.text;
    EXPECT_EQ(t.heap_bytes(), !a.uuid && a.text.size() > KeyText::kInline ? a.text.size() : 0u) << a.text;
    for (const Case& b : cases) {
      EXPECT_EQ(t == b.text, a.text == b.text) << a.text << " vs " << b.text;
      t.assign(b.text);
      ASSERT_EQ(t.view(scratch), b.text) << a.text << " then " << b.text;
      EXPECT_EQ(t.is_uuid(), b.uuid);
      t.assign(a.text);
    }
    t.reset();
    EXPECT_EQ(t.view(scratch), "");
    EXPECT_EQ(t.heap_bytes(), 0u);
  }
}

}  // namespace
}  // namespace caserepo::engine
