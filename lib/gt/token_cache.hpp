// gt/token_cache: the per-user file where sign-in results are kept between invocations.
//
// $GRAPH_THREADS_CONFIG_DIR/tokens.json, else $XDG_CONFIG_HOME/graph-threads/tokens.json, else
// $HOME/.config/graph-threads/tokens.json. The directory is created 0700 (with any missing
// parents, also 0700; existing directories keep their mode), the file is 0600 and is replaced
// atomically (temporary file in the same directory, fsync, rename, fsync of the directory), and
// every read-modify-write happens under an exclusive flock(2) on tokens.lock (0600, never
// deleted), held for the whole transaction — including a token refresh done inside it — so
// parallel invocations in one CI job neither corrupt the file nor redeem the same (rotating)
// refresh token twice. Descriptors are close-on-exec: programs started inside a transaction do
// not inherit the lock.
//
// The file: {"version":1,"accounts":[{"authority":..,"tenant":..,"client_id":..,"origin":..,
// "account":..,"tenant_id":..,"scopes":[..],"refresh_token":..,"access_token":..,
// "expires_at":N,"updated_at":N}]}, members in that order. Reading ignores unknown members and
// gives missing ones their defaults. No message ever contains a token.
//
// flock(2) locks belong to an open file, not to a process: load(), transact() or remove_all()
// called from inside a `change` callback (on any TokenCache of the same directory) waits for the
// transaction around it, i.e. until its lock_timeout. Work on the entries `change` is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gt/error.hpp"

namespace gt {

// One signed-in identity and its tokens.
struct CachedAccount {
  std::string authority;  // login host origin, e.g. "https://login.microsoftonline.com"
  std::string tenant;     // the tenant segment used for requests ("organizations", a GUID, ...)
  std::string client_id;
  // How the entry came to be, which also keys it: "login" (auth login), "refresh:<sha256 prefix of
  // the GRAPH_REFRESH_TOKEN it started from>", "password:<username>", "app:<client_id>".
  std::string origin;
  std::string account;    // upn / preferred_username ("" for app-only)
  std::string tenant_id;  // tid claim
  std::vector<std::string> scopes;
  std::string refresh_token;  // "" when the flow gives none
  std::string access_token;
  std::int64_t expires_at = 0;  // access token expiry, epoch seconds
  std::int64_t updated_at = 0;  // epoch seconds, for "most recent" choices

  bool operator==(const CachedAccount&) const = default;
};

class TokenCache {
 public:
  // `dir` is the configuration directory (see default_dir()).
  explicit TokenCache(std::string dir);

  // The directory from the environment, by the precedence above; trailing '/' removed. A variable
  // set to "" counts as unset, and so does a relative XDG_CONFIG_HOME (as the XDG Base Directory
  // spec says). nullopt when none applies (no HOME either).
  static std::optional<std::string> default_dir(
      const std::function<std::optional<std::string>(std::string_view)>& getenv);

  const std::string& dir() const { return dir_; }
  std::string file() const;  // dir + "/tokens.json"

  // Reads every entry under a shared lock (waiting at most `lock_timeout` for a transaction to
  // finish; kUsage naming the lock file when it cannot). A missing file or directory is an empty
  // cache, and nothing is created then. Fails (kUsage) naming the file when it cannot be read or
  // is not a cache this version understands (malformed JSON, wrong member types, a "version"
  // other than 1); that message says that `graph-threads auth logout --all` removes it.
  Result<std::vector<CachedAccount>> load(
      std::chrono::milliseconds lock_timeout = std::chrono::seconds(60)) const;

  // A transaction: creates the directory if needed, takes the exclusive lock (waiting at most
  // `lock_timeout`; kUsage naming the lock file when it cannot), loads the entries (failing as
  // load() does, without calling `change`), calls `change`, and writes the entries back
  // atomically if `change` returned true (a file left 0644 by someone becomes 0600). The lock is
  // held while `change` runs. `change` returning false writes nothing (no file is created).
  // Whatever `change` returns as an error is returned unchanged (nothing is written then).
  // Other failures (directory, lock, write) are kUsage naming the path and the OS error.
  Status transact(const std::function<Result<bool>(std::vector<CachedAccount>&)>& change,
                  std::chrono::milliseconds lock_timeout = std::chrono::seconds(60));

  // Deletes the file under the exclusive lock, without reading it (so it also removes a file
  // load() refuses). A missing file or directory is fine; the lock file stays.
  Status remove_all(std::chrono::milliseconds lock_timeout = std::chrono::seconds(60));

 private:
  std::string dir_;
};

}  // namespace gt
