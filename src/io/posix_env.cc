// Env on POSIX: open/write/fsync/rename, flock for the directory lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "caserepo/env.h"

namespace caserepo {
namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  return Error::IOError(what + " " + path + ": " + std::strerror(err));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("write", path_, errno);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
  }
  Status sync() override {
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_, errno);
    return ok_status();
  }
  Status close() override {
    const int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return io_error("close", path_, errno);
    return ok_status();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

// A file opened for reading whole, its size checked against the caller's
// cap before anything is allocated for it. Closed when destroyed.
struct ReadOnlyFile {
  int fd = -1;
  std::size_t size = 0;

  static Result<ReadOnlyFile> open(const std::string& path, std::uint64_t max_bytes) {
    ReadOnlyFile f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) return io_error("open", path, errno);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return io_error("stat", path, errno);
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
      return Error::Corruption(path + " is " + std::to_string(st.st_size) + " bytes; at most " +
                               std::to_string(max_bytes) + " expected");
    }
    f.size = static_cast<std::size_t>(st.st_size);
    return f;
  }
  ReadOnlyFile() = default;
  ReadOnlyFile(ReadOnlyFile&& o) noexcept : fd(std::exchange(o.fd, -1)), size(o.size) {}
  ReadOnlyFile& operator=(ReadOnlyFile&&) = delete;
  ~ReadOnlyFile() {
    if (fd >= 0) ::close(fd);
  }
};

// A file mapped read only. MAP_POPULATE maps every page at once (the file is
// read whole, front to back): no fault per page, no copy, no zeroed buffer.
class MappedFile final : public FileContents {
 public:
  MappedFile(void* addr, std::size_t size) : addr_(addr), size_(size) {}
  ~MappedFile() override {
    if (size_ > 0) ::munmap(addr_, size_);
  }
  std::string_view bytes() const noexcept override { return {static_cast<const char*>(addr_), size_}; }

 private:
  void* addr_;
  std::size_t size_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, bool truncate) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    if (fd < 0) return io_error("open", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes) override {
    auto file = ReadOnlyFile::open(path, max_bytes);
    if (!file.ok()) return file.error();
    std::string data(file->size, '\0');
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::read(file->fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("read", path, n < 0 ? errno : EIO);
      done += static_cast<std::size_t>(n);
    }
    return data;
  }

  Result<std::unique_ptr<FileContents>> map_file(const std::string& path, std::uint64_t max_bytes) override {
    auto file = ReadOnlyFile::open(path, max_bytes);
    if (!file.ok()) return file.error();
    void* addr = nullptr;
    if (file->size > 0) {
      addr = ::mmap(nullptr, file->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, file->fd, 0);
      if (addr == MAP_FAILED) return io_error("mmap", path, errno);
    }
    return std::unique_ptr<FileContents>(std::make_unique<MappedFile>(addr, file->size));  // the mapping outlives the fd
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename to " + to + " of", from, errno);
    return ok_status();
  }
  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("unlink", path, errno);
    return ok_status();
  }
  Status truncate(const std::string& path, std::uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return io_error("truncate", path, errno);
    return ok_status();
  }
  Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("fsync", dir, err);
    return ok_status();
  }
  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return io_error("mkdir", dir, errno);
    return ok_status();
  }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return io_error("opendir", dir, errno);
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
  }
  bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("open", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Error::IOError(path + " is locked: the data directory is open in another process");
      return io_error("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

Env* Env::posix() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: usable during static destruction
  return env;
}

}  // namespace caserepo
