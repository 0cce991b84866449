#include "server/auth.h"

#include <sodium.h>

#include <stdexcept>

namespace caserepo::server {

Authenticator::Authenticator(std::vector<User> users, std::string dummy_hash) : dummy_hash_(std::move(dummy_hash)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  randombytes_buf(key_.data(), key_.size());
  if (dummy_hash_.empty()) {
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(h, "x", 1, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      throw std::runtime_error("out of memory for a password hash");
    }
    dummy_hash_ = h;
  }
  replace_users(std::move(users));
}

void Authenticator::replace_users(std::vector<User> users) {
  std::lock_guard lock(mu_);
  users_.clear();
  for (User& u : users) users_[u.name] = std::move(u);
  remembered_.clear();
}

bool Authenticator::decode(std::string_view authorization, std::string& name, std::string& password) {
  constexpr std::string_view kScheme = "Basic ";
  if (authorization.size() <= kScheme.size() || authorization.size() > 4096) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  const std::string_view b64 = authorization.substr(kScheme.size());
  std::string raw(b64.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), b64.data(), b64.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  raw.resize(len);
  const auto colon = raw.find(':');
  if (colon == std::string::npos) return false;
  name = raw.substr(0, colon);
  password = raw.substr(colon + 1);
  return true;
}

Authenticator::Digest Authenticator::digest(std::string_view name, std::string_view password) const {
  Digest d{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.data(), key_.size(), d.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(name.data()), name.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&state, &zero, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  crypto_generichash_final(&state, d.data(), d.size());
  return d;
}

bool Authenticator::throttled(const std::string& key, int limit, Clock::time_point now) const {
  auto it = failures_.find(key);
  return it != failures_.end() && it->second.count >= limit && now - it->second.since < kThrottleWindow;
}

void Authenticator::failed(const std::string& key, Clock::time_point now) {
  if (failures_.size() > 100000) failures_.clear();  // bounded; an attacker resets nothing useful by filling it
  Failures& f = failures_[key];
  if (now - f.since >= kThrottleWindow) f = Failures{0, now};
  ++f.count;
}

bool Authenticator::needs_slow_path(std::string_view authorization) const {
  std::string name, password;
  if (!decode(authorization, name, password)) return false;
  const Digest d = digest(name, password);
  std::lock_guard lock(mu_);
  auto it = remembered_.find(name);
  return it == remembered_.end() || it->second.until < Clock::now() ||
         sodium_memcmp(it->second.digest.data(), d.data(), d.size()) != 0;
}

Authenticator::Verdict Authenticator::check(std::string_view authorization, std::string_view client) {
  const auto now = Clock::now();
  const std::string client_key = "c:" + std::string(client);
  if (authorization.empty()) return {Outcome::kMissing, {}};
  std::string name, password;
  const bool decoded = decode(authorization, name, password);
  const std::string user_key = "u:" + name;
  User user;
  bool known = false;
  {
    std::lock_guard lock(mu_);
    if (throttled(client_key, kClientFailuresBeforeThrottle, now) ||
        (decoded && throttled(user_key, kUserFailuresBeforeThrottle, now))) {
      return {Outcome::kThrottled, {}};
    }
    if (!decoded) {
      failed(client_key, now);
      return {Outcome::kWrong, {}};
    }
    auto u = users_.find(name);
    known = u != users_.end();
    if (known) user = u->second;
    const Digest d = digest(name, password);
    auto r = remembered_.find(name);
    if (known && r != remembered_.end() && r->second.until >= now &&
        sodium_memcmp(r->second.digest.data(), d.data(), d.size()) == 0) {
      return {Outcome::kOk, {user.name, user.role, user.app}};
    }
  }
  // The slow hash, outside the lock, a bounded number at a time. An unknown
  // user is verified against a dummy hash so that timing does not tell.
  slow_slots_.acquire();
  const bool ok = crypto_pwhash_str_verify(known ? user.hash.c_str() : dummy_hash_.c_str(), password.data(), password.size()) == 0 && known;
  slow_slots_.release();
  std::lock_guard lock(mu_);
  if (!ok) {
    failed(client_key, now);
    failed(user_key, now);
    return {Outcome::kWrong, {}};
  }
  if (remembered_.size() >= kCacheSize) remembered_.erase(remembered_.begin());
  remembered_[name] = Remembered{digest(name, password), now + kCacheFor};
  failures_.erase(user_key);
  return {Outcome::kOk, {user.name, user.role, user.app}};
}

}  // namespace caserepo::server
