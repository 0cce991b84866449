// Typed errors and the Result<T> every caserepo operation returns.
//
// Expected failures (bad input, unknown case, conflicts, persistence faults)
// are values, never exceptions: a caller checks `ok()` and reads either
// `value()` or `error()`. A failed operation has changed nothing.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace caserepo {

// The error kinds of the SPEC. Stored in logs and exit codes: never renumber.
enum class ErrorCode : std::uint8_t {
  kInvalidArgument = 1,  // bad input: missing/empty/oversized field, bad UTF-8, bad page
  kNotFound = 2,         // no case with that caseId
  kConflict = 3,         // entry would join a case of another client or type
  kIOError = 4,          // the file system refused an operation
  kCorruption = 5,       // a file failed its checksum or grammar
  kReadOnly = 6,         // a persistence failure happened; writes are refused
};

// The wire name of an error kind, e.g. "NotFound".
std::string_view to_string(ErrorCode code) noexcept;

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error IOError(std::string m) { return {ErrorCode::kIOError, std::move(m)}; }
  static Error Corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Error ReadOnly(std::string m) { return {ErrorCode::kReadOnly, std::move(m)}; }

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  bool is(ErrorCode c) const noexcept { return code_ == c; }

  // "NotFound: no case 'abc'"
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
};

// Thrown only by Result::value() on an error: reading a value that is not
// there is a programming error, not an expected failure.
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e) : std::logic_error("caserepo: value() on " + e.to_string()) {}
};

// Either a T or an Error (a small std::expected for C++20).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}     // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { check(); return std::get<0>(state_); }
  const T& value() const& { check(); return std::get<0>(state_); }
  // On a temporary Result the value is moved out, so that
  // `for (auto& e : *repo.history(id))` does not dangle.
  T value() && { check(); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(state_); }

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(state_));
  }
  std::variant<T, Error> state_;
};

// The result of an operation that returns nothing but may fail.
using Status = Result<std::monostate>;
inline Status ok_status() { return std::monostate{}; }

}  // namespace caserepo
