// Authenticator: HTTP Basic credentials against the users file.
//
// Basic auth resends the password with every request, and the stored hash
// is deliberately slow (Argon2id, ~0.1 s and 64 MiB). So a verified
// password is remembered — as a keyed BLAKE2b digest of name and password
// (the key is random per process), compared in constant time — for a few
// minutes, in a bounded cache; only a miss pays the slow hash, and at most
// `slow_slots` of those run at once. Clients and user names that fail
// repeatedly are throttled: refused without verifying for a while.
// Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/users.h"

namespace caserepo::server {

struct Principal {
  std::string name;
  Role role = Role::kReader;
  std::string app;
};

class Authenticator {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kCacheSize = 4096;
  static constexpr std::chrono::minutes kCacheFor{5};
  static constexpr int kUserFailuresBeforeThrottle = 10;    // per user name, within the window
  static constexpr int kClientFailuresBeforeThrottle = 50;  // per client address (NAT: many users)
  static constexpr std::chrono::seconds kThrottleWindow{60};

  // `dummy_hash`: what an unknown user's password is checked against, so
  // that timing does not tell unknown users from wrong passwords; default:
  // a hash with the same cost as `users add` makes.
  explicit Authenticator(std::vector<User> users, std::string dummy_hash = {});
  void replace_users(std::vector<User> users);  // and forget every remembered password

  enum class Outcome { kOk, kMissing, kWrong, kThrottled };
  struct Verdict {
    Outcome outcome;
    Principal principal;  // kOk
  };
  // `authorization`: the header's value (empty when absent); `client`: the
  // peer's address, for throttling. May take ~0.1 s: see needs_slow_path.
  Verdict check(std::string_view authorization, std::string_view client);
  // Whether check() would run the slow hash (so the caller can move it off
  // its I/O thread).
  bool needs_slow_path(std::string_view authorization) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Remembered {
    Digest digest;
    Clock::time_point until;
  };
  struct Failures {
    int count = 0;
    Clock::time_point since;
  };
  static bool decode(std::string_view authorization, std::string& name, std::string& password);
  Digest digest(std::string_view name, std::string_view password) const;
  bool throttled(const std::string& key, int limit, Clock::time_point now) const;
  void failed(const std::string& key, Clock::time_point now);

  std::array<unsigned char, 32> key_;
  std::string dummy_hash_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, User> users_;
  std::unordered_map<std::string, Remembered> remembered_;  // by user name
  std::unordered_map<std::string, Failures> failures_;      // by "c:<client>" and "u:<name>"
  std::counting_semaphore<> slow_slots_{2};
};

}  // namespace caserepo::server
