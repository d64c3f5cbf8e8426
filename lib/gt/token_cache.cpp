#include "gt/token_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace gt {
namespace {

namespace json = boost::json;

constexpr std::int64_t kFormatVersion = 1;
constexpr const char* kLogoutHint = "`graph-threads auth logout --all` removes it";

std::string errno_text(int e) {
  return std::strerror(e);
}

// An owned file descriptor. Every descriptor here is opened O_CLOEXEC: a program started while a
// transaction runs (`az`, a browser) must not inherit the lock, or the lock would outlive us.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  // Closes and reports close(2)'s error (a delayed write error on some file systems).
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_ = -1;
};

std::string lock_file_of(const std::string& dir) {
  return dir + "/tokens.lock";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// ---------------------------------------------------------------------------------------------
// The directory.

// mkdir -p with mode 0700 for what it creates (chmod after mkdir, so the umask cannot widen or
// narrow it). Directories that exist are left as they are.
Status make_dirs(const std::string& dir) {
  if (dir.empty()) return Error::usage("the token cache directory is empty");
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    const std::string part = dir.substr(0, pos);
    if (part.empty() || part.back() == '/') continue;
    if (::mkdir(part.c_str(), 0700) == 0) {
      if (::chmod(part.c_str(), 0700) != 0) {
        return Error::usage("cannot set the mode of " + part + ": " + errno_text(errno));
      }
    } else if (errno != EEXIST && !is_dir(part)) {
      return Error::usage("cannot create the directory " + part + ": " + errno_text(errno));
    }
  }
  if (!is_dir(dir)) return Error::usage(dir + ": not a directory");
  return ok_status();
}

Status fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) {
    return Error::usage("cannot sync the directory " + dir + ": " + errno_text(errno));
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// The lock: flock(2) on tokens.lock, which is never deleted (deleting a lock file lets two
// processes hold "the" lock on two different files). flock has no timeout, so a non-blocking
// attempt is repeated with short sleeps until the deadline.

Result<Fd> open_lock(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));  // read-only dir
  if (!fd) return Error::usage("cannot open the lock file " + path + ": " + errno_text(errno));
  return fd;
}

Result<Fd> acquire(const std::string& path, int operation, std::chrono::milliseconds timeout) {
  auto fd = open_lock(path);
  if (!fd) return fd;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::flock(fd->get(), operation | LOCK_NB) == 0) return fd;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return Error::usage("cannot lock " + path + ": " + errno_text(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Error::usage("the token cache is busy: " + path + " stayed locked for " +
                          std::to_string(timeout.count()) +
                          " ms (another graph-threads is signing in or refreshing)");
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and writing the file.

// The whole file; nullopt when it does not exist.
Result<std::optional<std::string>> read_all(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error::usage("cannot read the token cache " + path + ": " + errno_text(errno));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::usage("cannot read the token cache " + path + ": " + errno_text(errno));
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return std::optional<std::string>(std::move(text));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Replaces `path` by `content`: a 0600 temporary in the same directory (so rename(2) is atomic),
// written, synced, renamed over the file, then the directory synced so the rename survives a
// crash. Readers see the old file or the new one, never a part. The temporary is removed on any
// failure. The new file is 0600 whatever the old one's mode was.
Status replace_file(const std::string& dir, const std::string& path, std::string_view content) {
  std::string temp = path + ".tmp-XXXXXX";
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return Error::usage("cannot create a file in " + dir + ": " + errno_text(errno));
  const auto fail = [&](const std::string& what) -> Status {
    const int e = errno;
    fd.reset();
    ::unlink(temp.c_str());
    return Error::usage("cannot write the token cache " + path + " (" + what +
                        "): " + errno_text(e));
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail("chmod");
  if (!write_all(fd.get(), content)) return fail("write");
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (fd.close() != 0) return fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("rename");
  return fsync_dir(dir);
}

// ---------------------------------------------------------------------------------------------
// The JSON format: {"version":1,"accounts":[{...CachedAccount...}]}. Members are written in a
// fixed order; unknown members are ignored when reading, missing ones take their defaults. Error
// texts name paths, never values: the file holds tokens.

json::object to_json(const CachedAccount& a) {
  json::array scopes;
  for (const auto& s : a.scopes) scopes.emplace_back(s);
  json::object o;
  o["authority"] = a.authority;
  o["tenant"] = a.tenant;
  o["client_id"] = a.client_id;
  o["origin"] = a.origin;
  o["account"] = a.account;
  o["tenant_id"] = a.tenant_id;
  o["scopes"] = std::move(scopes);
  o["refresh_token"] = a.refresh_token;
  o["access_token"] = a.access_token;
  o["expires_at"] = a.expires_at;
  o["updated_at"] = a.updated_at;
  return o;
}

std::string serialize(const std::vector<CachedAccount>& accounts) {
  json::array list;
  for (const auto& a : accounts) list.emplace_back(to_json(a));
  json::object root;
  root["version"] = kFormatVersion;
  root["accounts"] = std::move(list);
  return json::serialize(root) + "\n";
}

// Reads member `key` of `o` into `out` when present; false when it has another type.
bool read_member(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool read_member(const json::object& o, std::string_view key, std::int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  auto n = json::try_value_to<std::int64_t>(*v);
  if (!n) return false;
  out = *n;
  return true;
}

bool read_member(const json::object& o, std::string_view key, std::vector<std::string>& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  auto list = json::try_value_to<std::vector<std::string>>(*v);
  if (!list) return false;
  out = std::move(*list);
  return true;
}

// The member of accounts[i] that is malformed, or "" when the entry is fine.
std::string from_json(const json::object& o, CachedAccount& a) {
  if (!read_member(o, "authority", a.authority)) return "authority";
  if (!read_member(o, "tenant", a.tenant)) return "tenant";
  if (!read_member(o, "client_id", a.client_id)) return "client_id";
  if (!read_member(o, "origin", a.origin)) return "origin";
  if (!read_member(o, "account", a.account)) return "account";
  if (!read_member(o, "tenant_id", a.tenant_id)) return "tenant_id";
  if (!read_member(o, "scopes", a.scopes)) return "scopes";
  if (!read_member(o, "refresh_token", a.refresh_token)) return "refresh_token";
  if (!read_member(o, "access_token", a.access_token)) return "access_token";
  if (!read_member(o, "expires_at", a.expires_at)) return "expires_at";
  if (!read_member(o, "updated_at", a.updated_at)) return "updated_at";
  return {};
}

Error unreadable(const std::string& path, const std::string& why) {
  return Error::usage(path + ": not a token cache this graph-threads understands (" + why + "); " +
                      kLogoutHint);
}

Result<std::vector<CachedAccount>> parse(const std::string& path, std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return unreadable(path, "invalid JSON: " + ec.message());
  const json::object* o = root.if_object();
  if (!o) return unreadable(path, "not a JSON object");
  const json::value* version = o->if_contains("version");
  if (!version) return unreadable(path, "no \"version\"");
  const auto number = json::try_value_to<std::int64_t>(*version);
  if (!number) return unreadable(path, "\"version\" is not an integer");
  if (*number != kFormatVersion) {
    return unreadable(path,
                      "format version " + std::to_string(*number) +
                          (*number > kFormatVersion ? ", written by a newer graph-threads" : "") +
                          "; this one reads version " + std::to_string(kFormatVersion));
  }
  const json::value* accounts = o->if_contains("accounts");
  if (!accounts || !accounts->is_array()) return unreadable(path, "no \"accounts\" array");
  std::vector<CachedAccount> out;
  for (const auto& item : accounts->get_array()) {
    const std::string at = "accounts[" + std::to_string(out.size()) + "]";
    if (!item.is_object()) return unreadable(path, at + " is not an object");
    CachedAccount a;
    if (auto bad = from_json(item.get_object(), a); !bad.empty()) {
      return unreadable(path, at + "." + bad + " has the wrong type");
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<CachedAccount>> read_cache(const std::string& path) {
  auto text = read_all(path);
  if (!text) return std::move(text).error();
  if (!*text) return std::vector<CachedAccount>();
  return parse(path, **text);
}

std::string without_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

TokenCache::TokenCache(std::string dir) : dir_(without_trailing_slashes(std::move(dir))) {}

std::optional<std::string> TokenCache::default_dir(
    const std::function<std::optional<std::string>(std::string_view)>& getenv) {
  const auto set = [&](std::string_view name) -> std::optional<std::string> {
    auto v = getenv(name);
    if (!v || v->empty()) return std::nullopt;
    return without_trailing_slashes(std::move(*v));
  };
  if (auto dir = set("GRAPH_THREADS_CONFIG_DIR")) return dir;
  // The XDG Base Directory spec: a relative path in XDG_CONFIG_HOME is invalid and ignored.
  if (auto xdg = set("XDG_CONFIG_HOME"); xdg && xdg->front() == '/') {
    return (*xdg == "/" ? "" : *xdg) + "/graph-threads";
  }
  if (auto home = set("HOME")) return (*home == "/" ? "" : *home) + "/.config/graph-threads";
  return std::nullopt;
}

std::string TokenCache::file() const {
  return dir_ + "/tokens.json";
}

Result<std::vector<CachedAccount>> TokenCache::load(std::chrono::milliseconds lock_timeout) const {
  // Reading never creates anything: no file (or no directory) is an empty cache.
  if (!exists(file())) return std::vector<CachedAccount>();
  auto lock = acquire(lock_file_of(dir_), LOCK_SH, lock_timeout);
  if (!lock) return std::move(lock).error();
  return read_cache(file());
}

Status TokenCache::transact(const std::function<Result<bool>(std::vector<CachedAccount>&)>& change,
                            std::chrono::milliseconds lock_timeout) {
  if (auto st = make_dirs(dir_); !st) return st;
  auto lock = acquire(lock_file_of(dir_), LOCK_EX, lock_timeout);
  if (!lock) return std::move(lock).error();
  auto entries = read_cache(file());
  if (!entries) return std::move(entries).error();
  auto changed = change(*entries);
  if (!changed) return std::move(changed).error();
  if (!*changed) return ok_status();
  return replace_file(dir_, file(), serialize(*entries));
}

Status TokenCache::remove_all(std::chrono::milliseconds lock_timeout) {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0 && errno == ENOENT) return ok_status();
  auto lock = acquire(lock_file_of(dir_), LOCK_EX, lock_timeout);
  if (!lock) return std::move(lock).error();
  if (::unlink(file().c_str()) != 0) {
    if (errno == ENOENT) return ok_status();
    return Error::usage("cannot remove the token cache " + file() + ": " + errno_text(errno));
  }
  return fsync_dir(dir_);
}

}  // namespace gt
