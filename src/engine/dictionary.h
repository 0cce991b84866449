// Dictionary: a field's distinct values, each with a 32-bit code and a
// payload (its Posting, or a reference count), on Boost.MultiIndex.
//
// Two hashed indices over one node: by text (resolve a filter value or a
// write's value to its code) and by code (turn a stored entry back into
// strings). Codes of erased values are reused, so codes stay dense.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/tag.hpp>
#include <boost/multi_index_container.hpp>

namespace caserepo::engine {

template <class Payload>
class Dictionary {
 public:
  struct Value {
    std::string text;
    std::uint32_t code;
    mutable Payload payload;  // not a key: safe to change in place
  };

  // REQUIRES for both: the value exists or nullptr is returned.
  const Value* find(std::string_view text) const {
    const auto& by_text = values_.template get<ByText>();
    auto it = by_text.find(text, TextHash{}, TextEqual{});
    return it == by_text.end() ? nullptr : &*it;
  }
  const Value* find(std::uint32_t code) const {
    const auto& by_code = values_.template get<ByCode>();
    auto it = by_code.find(code);
    return it == by_code.end() ? nullptr : &*it;
  }
  // REQUIRES: the code exists.
  const Value& at(std::uint32_t code) const { return *find(code); }

  // The value for `text`, added with an empty payload when new.
  const Value& intern(std::string_view text) {
    if (const Value* v = find(text)) return *v;
    std::uint32_t code;
    if (!free_codes_.empty()) {
      code = free_codes_.back();
      free_codes_.pop_back();
    } else {
      code = next_code_++;
    }
    return *values_.insert(Value{std::string(text), code, Payload{}}).first;
  }

  void erase(std::uint32_t code) {
    auto& by_code = values_.template get<ByCode>();
    if (by_code.erase(code) > 0) free_codes_.push_back(code);
  }

  std::size_t size() const noexcept { return values_.size(); }

  template <class F>
  void for_each(F&& f) const {
    for (const Value& v : values_) f(v);
  }

 private:
  struct ByText {};
  struct ByCode {};
  struct TextHash {
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct TextEqual {
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };

  using Container = boost::multi_index_container<
      Value,
      boost::multi_index::indexed_by<
          boost::multi_index::hashed_unique<boost::multi_index::tag<ByText>,
                                            boost::multi_index::member<Value, std::string, &Value::text>, TextHash,
                                            TextEqual>,
          boost::multi_index::hashed_unique<boost::multi_index::tag<ByCode>,
                                            boost::multi_index::member<Value, std::uint32_t, &Value::code>>>>;

  Container values_;
  std::vector<std::uint32_t> free_codes_;
  std::uint32_t next_code_ = 0;
};

}  // namespace caserepo::engine
