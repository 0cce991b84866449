// Dictionary: a field's distinct values, each with a 32-bit code and a
// payload (its Posting, or a reference count), on Boost.MultiIndex.
//
// A Boost.MultiIndex hashed index by text resolves a filter value or a
// write's value to its node (heterogeneous lookup: no std::string is built
// for a string_view). Codes of erased values are reused, so codes stay dense
// and a plain vector maps code -> node: turning a stored entry back into
// strings is one indexed load per field, the hot path of get and search.
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
  const Value* find(std::uint32_t code) const { return code < by_code_.size() ? by_code_[code] : nullptr; }
  // REQUIRES: the code exists.
  const Value& at(std::uint32_t code) const { return *find(code); }

  // The value for `text`, added with an empty payload when new.
  const Value& intern(std::string_view text) {
    if (const Value* v = find(text)) return *v;
    return *add(text);
  }

  // Adds `text` with the next code (a freed one first); nullptr when it is
  // already there. One hash probe: bulk loading of distinct values calls it
  // directly.
  const Value* add(std::string_view text) {
    const std::uint32_t code = free_codes_.empty() ? next_code_ : free_codes_.back();
    auto [it, added] = values_.insert(Value{std::string(text), code, Payload{}});
    if (!added) return nullptr;
    if (free_codes_.empty()) {
      ++next_code_;
    } else {
      free_codes_.pop_back();
    }
    if (code >= by_code_.size()) by_code_.resize(code + 1, nullptr);
    by_code_[code] = &*it;
    return &*it;
  }

  void erase(std::uint32_t code) {
    const Value* v = find(code);
    if (v == nullptr) return;
    values_.erase(values_.iterator_to(*v));
    by_code_[code] = nullptr;
    free_codes_.push_back(code);
  }

  std::size_t size() const noexcept { return values_.size(); }
  // One past the highest code ever given (codes of erased values included).
  std::uint32_t code_bound() const noexcept { return next_code_; }
  void reserve(std::size_t n) {
    values_.reserve(n);
    by_code_.reserve(n);
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Value& v : values_) f(v);
  }

 private:
  struct ByText {};
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
                                            TextEqual>>>;

  Container values_;                 // nodes never move: by_code_ points into it
  std::vector<const Value*> by_code_;  // code -> node; nullptr for a free code
  std::vector<std::uint32_t> free_codes_;
  std::uint32_t next_code_ = 0;
};

}  // namespace caserepo::engine
