#include "server/users.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace caserepo::server {
namespace {

using Json = nlohmann::json;

Status check_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return Error::InvalidArgument("a user name has 1 to 64 bytes");
  for (unsigned char c : name) {
    if (c == ':' || c < 0x20 || c == 0x7f) return Error::InvalidArgument("a user name has no ':' and no control characters");
  }
  return ok_status();
}

Status save_users(const std::string& path, const std::vector<User>& users) {
  std::string text;
  for (const User& u : users) {
    text += Json{{"name", u.name}, {"role", std::string(to_string(u.role))}, {"app", u.app}, {"hash", u.hash}}.dump();
    text += '\n';
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::IOError("cannot write " + tmp);
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Error::IOError("cannot write " + path);
  return ok_status();
}

}  // namespace

std::string_view to_string(Role r) { return r == Role::kWriter ? "writer" : "reader"; }

std::optional<Role> parse_role(std::string_view s) {
  if (s == "reader") return Role::kReader;
  if (s == "writer") return Role::kWriter;
  return std::nullopt;
}

Result<std::vector<User>> load_users(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return std::vector<User>{};
    return Error::IOError("cannot read " + path);
  }
  std::vector<User> users;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto bad = [&](const std::string& why) { return Error::InvalidArgument(path + " line " + std::to_string(n) + ": " + why); };
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("role") ||
        !j["role"].is_string() || !j.contains("hash") || !j["hash"].is_string() ||
        (j.contains("app") && !j["app"].is_string())) {
      return bad("not a user entry");
    }
    User u;
    u.name = j["name"];
    if (!check_name(u.name).ok()) return bad("bad user name");
    auto role = parse_role(j["role"].get<std::string>());
    if (!role) return bad("role must be reader or writer");
    u.role = *role;
    u.app = j.value("app", "");
    u.hash = j["hash"];
    if (u.hash.size() >= crypto_pwhash_STRBYTES || u.hash.rfind("$argon2id$", 0) != 0) return bad("hash is not an Argon2id hash");
    users.push_back(std::move(u));
  }
  return users;
}

Status add_user(const std::string& path, const std::string& name, Role role, const std::string& app,
                const std::string& password) {
  if (auto s = check_name(name); !s.ok()) return s;
  if (password.empty() || password.size() > 1024) return Error::InvalidArgument("a password has 1 to 1024 bytes");
  if (app.size() > 256) return Error::InvalidArgument("an application name has at most 256 bytes");
  if (sodium_init() < 0) return Error::IOError("libsodium cannot initialise");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Error::IOError("out of memory while hashing the password");
  }
  auto users = load_users(path);
  if (!users.ok()) return users.error();
  std::erase_if(*users, [&](const User& u) { return u.name == name; });
  users->push_back(User{name, role, app, hash});
  return save_users(path, *users);
}

Status remove_user(const std::string& path, const std::string& name) {
  auto users = load_users(path);
  if (!users.ok()) return users.error();
  const auto before = users->size();
  std::erase_if(*users, [&](const User& u) { return u.name == name; });
  if (users->size() == before) return Error::NotFound("no user '" + name + "' in " + path);
  return save_users(path, *users);
}

}  // namespace caserepo::server
