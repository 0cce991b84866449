// The users file: who may call the service, with which role, and their
// password as a slow, salted hash (Argon2id via libsodium's
// crypto_pwhash_str) — never the password itself. One JSON object per line:
//   {"name":"alice","role":"writer","app":"mortgage-app","hash":"$argon2id$v=19$..."}
// Written atomically (temporary file, fsync, rename) with mode 0600.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/error.h"

namespace caserepo::server {

enum class Role { kReader, kWriter };  // reader: get, history, search; writer: everything

std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

struct User {
  std::string name;
  Role role = Role::kReader;
  std::string app;   // the low-code application name: its creates get the defaults
  std::string hash;  // crypto_pwhash_str output
};

// Loads the file; a missing file is an empty list. InvalidArgument names the
// line of a malformed entry; IOError when it cannot be read.
Result<std::vector<User>> load_users(const std::string& path);

// Adds (or replaces) `name` with a fresh hash of `password`.
// InvalidArgument: a name that is empty, over 64 bytes, or has ':' or a
// control character; an empty password, or one over 1,024 bytes.
Status add_user(const std::string& path, const std::string& name, Role role, const std::string& app,
                const std::string& password);
// NotFound when there is no such user.
Status remove_user(const std::string& path, const std::string& name);

}  // namespace caserepo::server
