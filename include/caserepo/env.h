// Env: the file system as caserepo uses it. Every byte caserepo persists
// goes through this interface, so tests can inject crashes, torn writes and
// I/O errors (as LevelDB's and SQLite's Env/VFS do).
//
// Thread safety: an Env may be used from several threads; one WritableFile
// is appended to by one thread at a time but may be synced concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/error.h"

namespace caserepo {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` or fails (a short write is an error). The bytes
  // are in the OS's hands on return: a process kill does not lose them.
  virtual Status append(std::string_view data) = 0;
  // Makes everything appended so far durable (fsync / fdatasync).
  virtual Status sync() = 0;
  virtual Status close() = 0;
};

// A whole file's bytes, read only, valid while this object lives.
class FileContents {
 public:
  virtual ~FileContents() = default;
  virtual std::string_view bytes() const noexcept = 0;
};

// Held while a data directory is open; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens `path` for appending, creating it; `truncate` empties it first.
  virtual Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, bool truncate) = 0;
  // The whole file. Corruption if it is larger than `max_bytes` (nothing is
  // allocated for it); IOError if it cannot be read.
  virtual Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes) = 0;
  // The same bytes without a copy where the Env can (POSIX maps the file);
  // by default, read_file's. Used for the large files a restart reads whole.
  // REQUIRES: nothing truncates the file while the result lives (the data
  // directory's lock holder is the only one that does).
  virtual Result<std::unique_ptr<FileContents>> map_file(const std::string& path, std::uint64_t max_bytes);
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Status truncate(const std::string& path, std::uint64_t size) = 0;
  // Makes renames, creations and removals in `dir` durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  virtual Status create_dir(const std::string& dir) = 0;
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;  // names, no "." ".."
  virtual bool exists(const std::string& path) = 0;
  // An exclusive lock that another process cannot take at the same time.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;

  // The real file system (POSIX). Never destroyed.
  static Env* posix();
};

}  // namespace caserepo
