// gt/token_cache: the file format, where it lives, its modes, atomic replacement, and the lock —
// including two processes racing through read-modify-write transactions.
#include "gt/token_cache.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace {

using gt::CachedAccount;
using gt::TokenCache;
using std::chrono::milliseconds;

using gt::test::TempDir;

CachedAccount sample(std::string origin = "login") {
  return CachedAccount{
      .authority = "https://login.microsoftonline.com",
      .tenant = "organizations",
      .client_id = "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
      .origin = std::move(origin),
      .account = "adele@contoso.com",
      .tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47",
      .scopes = {"https://graph.microsoft.com/Group.ReadWrite.All", "offline_access"},
      .refresh_token = "RT-SECRET-\"quoted\"",
      .access_token = "AT-SECRET",
      .expires_at = 1795795200,
      .updated_at = 1795791600};
}

// Writes `entries` in one transaction.
void store(TokenCache& cache, const std::vector<CachedAccount>& entries) {
  auto st = cache.transact([&](std::vector<CachedAccount>& e) -> gt::Result<bool> {
    e = entries;
    return true;
  });
  REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

// An exclusive flock on the lock file through a descriptor of our own (flock locks belong to the
// open file, so this conflicts with the cache's own descriptor even in this process).
struct HeldLock {
  int fd = -1;
  explicit HeldLock(const std::string& dir) {
    fd = ::open((dir + "/tokens.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
  }
  ~HeldLock() { ::close(fd); }
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
};

gt::Result<bool> no_change(std::vector<CachedAccount>&) {
  return false;
}

}  // namespace

TEST_SUITE("token cache") {
  TEST_CASE("round trip: every field survives, in order, several entries") {
    TempDir d;
    TokenCache cache(d.str());
    CHECK(cache.file() == d.str() + "/tokens.json");
    auto empty = cache.load();
    REQUIRE(empty);
    CHECK(empty->empty());

    CachedAccount app = sample("app:6731de76");
    app.account.clear();
    app.refresh_token.clear();
    app.scopes = {"https://graph.microsoft.com/.default"};
    const std::vector<CachedAccount> entries = {sample(), app, CachedAccount{}};
    store(cache, entries);
    auto loaded = TokenCache(d.str()).load();
    REQUIRE(loaded);
    CHECK(*loaded == entries);

    // A transaction sees what the last one wrote.
    auto st = cache.transact([&](std::vector<CachedAccount>& e) -> gt::Result<bool> {
      CHECK(e == entries);
      e.erase(e.begin());
      return true;
    });
    REQUIRE(st);
    CHECK(*cache.load() == std::vector<CachedAccount>{app, CachedAccount{}});
  }

  TEST_CASE("the file format: version 1, fixed member order") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    CHECK(read_text(cache.file()) ==
          R"({"version":1,"accounts":[{"authority":"https://login.microsoftonline.com",)"
          R"("tenant":"organizations","client_id":"04b07795-8ddb-461a-bbee-02f9e1bf7b46",)"
          R"("origin":"login","account":"adele@contoso.com",)"
          R"("tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47",)"
          R"("scopes":["https://graph.microsoft.com/Group.ReadWrite.All","offline_access"],)"
          R"("refresh_token":"RT-SECRET-\"quoted\"","access_token":"AT-SECRET",)"
          R"("expires_at":1795795200,"updated_at":1795791600}]})"
          "\n");

    // Unknown members are ignored, missing ones take their defaults.
    write_text(cache.file(),
               R"({"version":1,"future":true,"accounts":[{"origin":"login","x":[1]}]})");
    auto loaded = cache.load();
    REQUIRE(loaded);
    CachedAccount expected;
    expected.origin = "login";
    CHECK(*loaded == std::vector<CachedAccount>{expected});
  }

  TEST_CASE("default_dir: GRAPH_THREADS_CONFIG_DIR, then XDG_CONFIG_HOME, then HOME") {
    using Env = std::map<std::string, std::string>;
    struct Case {
      Env env;
      std::optional<std::string> dir;
    };
    const Case cases[] = {
        {{{"GRAPH_THREADS_CONFIG_DIR", "/c"}, {"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}, "/c"},
        {{{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}, "/x/graph-threads"},
        {{{"HOME", "/h"}}, "/h/.config/graph-threads"},
        {{}, std::nullopt},
        // Empty counts as unset; a relative XDG_CONFIG_HOME is ignored (XDG spec).
        {{{"GRAPH_THREADS_CONFIG_DIR", ""}, {"XDG_CONFIG_HOME", ""}, {"HOME", "/h"}},
         "/h/.config/graph-threads"},
        {{{"XDG_CONFIG_HOME", "rel/dir"}, {"HOME", "/h"}}, "/h/.config/graph-threads"},
        {{{"HOME", ""}}, std::nullopt},
        // Trailing slashes do not double up.
        {{{"XDG_CONFIG_HOME", "/x/"}}, "/x/graph-threads"},
        {{{"HOME", "/"}}, "/.config/graph-threads"},
        {{{"GRAPH_THREADS_CONFIG_DIR", "/c//"}}, "/c"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.dir.value_or("(none)"));
      const auto dir = TokenCache::default_dir([&](std::string_view name) {
        const auto it = c.env.find(std::string(name));
        return it == c.env.end() ? std::nullopt : std::optional<std::string>(it->second);
      });
      CHECK(dir == c.dir);
    }
  }

  TEST_CASE("modes: directories 0700 (parents too), file and lock 0600, even under umask 0") {
    TempDir d;
    const std::string dir = d.str() + "/a/b/graph-threads";
    const mode_t old_umask = ::umask(0);
    TokenCache cache(dir);
    store(cache, {sample()});
    ::umask(old_umask);
    CHECK(mode_of(d.str() + "/a") == 0700);
    CHECK(mode_of(d.str() + "/a/b") == 0700);
    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(cache.file()) == 0600);
    CHECK(mode_of(dir + "/tokens.lock") == 0600);
    // No temporary is left behind.
    CHECK(names_in(dir) == std::set<std::string>{"tokens.json", "tokens.lock"});
  }

  TEST_CASE("a file left with looser permissions is 0600 after the next write") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    REQUIRE(::chmod(cache.file().c_str(), 0644) == 0);
    store(cache, {sample("other")});
    CHECK(mode_of(cache.file()) == 0600);
  }

  TEST_CASE("load creates nothing: no directory, no file, no lock") {
    TempDir d;
    const std::string dir = d.str() + "/missing";
    auto loaded = TokenCache(dir).load();
    REQUIRE(loaded);
    CHECK(loaded->empty());
    CHECK_FALSE(std::filesystem::exists(dir));
    // Nor does a transaction that changes nothing create the file.
    REQUIRE(TokenCache(dir).transact(no_change));
    CHECK_FALSE(std::filesystem::exists(dir + "/tokens.json"));
  }

  TEST_CASE("a corrupt or unknown file is refused, naming it and the way out, never a token") {
    TempDir d;
    TokenCache cache(d.str());
    const std::string bad[] = {
        "",
        "{not json",
        "[]",
        R"({"accounts":[]})",
        R"({"version":"1","accounts":[]})",
        R"({"version":2,"accounts":[]})",
        R"({"version":1})",
        R"({"version":1,"accounts":{}})",
        R"({"version":1,"accounts":[7]})",
        R"({"version":1,"accounts":[{"refresh_token":42}]})",
        R"({"version":1,"accounts":[{"access_token":"AT-SECRET","expires_at":"soon"}]})",
        R"({"version":1,"accounts":[{"scopes":["a",1],"refresh_token":"RT-SECRET"}]})",
    };
    for (const auto& text : bad) {
      CAPTURE(text);
      write_text(cache.file(), text);
      auto loaded = cache.load();
      REQUIRE_FALSE(loaded);
      const auto& m = loaded.error().message;
      CAPTURE(m);
      CHECK(loaded.error().kind == gt::ErrorKind::kUsage);
      CHECK(m.starts_with(cache.file() + ": "));
      CHECK(m.find("graph-threads auth logout --all") != std::string::npos);
      CHECK(m.find("SECRET") == std::string::npos);

      // A transaction fails the same way, without calling `change` or touching the file.
      bool called = false;
      auto st = cache.transact([&](std::vector<CachedAccount>&) -> gt::Result<bool> {
        called = true;
        return true;
      });
      REQUIRE_FALSE(st);
      CHECK(st.error().message == m);
      CHECK_FALSE(called);
      CHECK(read_text(cache.file()) == text);
    }
    write_text(cache.file(), R"({"version":2,"accounts":[]})");
    CHECK(cache.load().error().message.find("format version 2, written by a newer") !=
          std::string::npos);
  }

  TEST_CASE("remove_all deletes the file, even one load() refuses, missing is fine") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    REQUIRE(cache.remove_all());
    CHECK_FALSE(std::filesystem::exists(cache.file()));
    CHECK(cache.load()->empty());
    REQUIRE(cache.remove_all());
    write_text(cache.file(), "{garbage");
    REQUIRE(cache.remove_all());
    CHECK_FALSE(std::filesystem::exists(cache.file()));
    CHECK(TokenCache(d.str() + "/nowhere").remove_all());
    CHECK_FALSE(std::filesystem::exists(d.str() + "/nowhere"));
  }

  TEST_CASE("change returning false or an error writes nothing, the error comes back unchanged") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    const std::string before = read_text(cache.file());

    auto st = cache.transact([](std::vector<CachedAccount>& e) -> gt::Result<bool> {
      e.clear();
      return false;
    });
    REQUIRE(st);
    CHECK(read_text(cache.file()) == before);

    gt::Error refused(gt::ErrorKind::kAuth, "AADSTS70000: grant expired", "sign in again");
    refused.http_status = 400;
    st = cache.transact([&](std::vector<CachedAccount>& e) -> gt::Result<bool> {
      e.push_back(sample("new"));
      return refused;
    });
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == gt::ErrorKind::kAuth);
    CHECK(st.error().message == refused.message);
    CHECK(st.error().hint == refused.hint);
    CHECK(st.error().http_status == 400);
    CHECK(read_text(cache.file()) == before);
    CHECK(names_in(d.str()) == std::set<std::string>{"tokens.json", "tokens.lock"});
  }

  TEST_CASE("the lock: a held exclusive lock makes transact, load and remove_all time out") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    HeldLock held(d.str());
    const auto lock_file = d.str() + "/tokens.lock";

    const auto start = std::chrono::steady_clock::now();
    bool called = false;
    auto st = cache.transact(
        [&](std::vector<CachedAccount>&) -> gt::Result<bool> {
          called = true;
          return true;
        },
        milliseconds(200));
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(st);
    CHECK_FALSE(called);
    CHECK(st.error().kind == gt::ErrorKind::kUsage);
    CHECK(st.error().message.find(lock_file) != std::string::npos);
    CHECK(waited >= milliseconds(200));
    CHECK(waited < milliseconds(2000));

    auto loaded = cache.load(milliseconds(50));
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message.find(lock_file) != std::string::npos);
    CHECK_FALSE(cache.remove_all(milliseconds(0)));
    CHECK(std::filesystem::exists(cache.file()));
  }

  TEST_CASE("the lock: a shared lock (a reader) blocks writers but not other readers") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    const int fd = ::open((d.str() + "/tokens.lock").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_SH) == 0);
    CHECK(cache.load(milliseconds(0)));
    CHECK_FALSE(cache.transact(no_change, milliseconds(30)));
    ::close(fd);
    CHECK(cache.transact(no_change, milliseconds(0)));
  }

  TEST_CASE("the lock: a waiting transaction proceeds once another process lets go") {
    TempDir d;
    TokenCache cache(d.str());
    store(cache, {sample()});
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Holds the lock for 300 ms inside a transaction of its own.
      TokenCache mine(d.str());
      auto st = mine.transact([&](std::vector<CachedAccount>& e) -> gt::Result<bool> {
        if (::write(ready[1], "x", 1) != 1) ::_exit(2);
        ::usleep(300 * 1000);
        e.push_back(sample("child"));
        return true;
      });
      ::_exit(st ? 0 : 1);
    }
    ::close(ready[1]);
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    const auto start = std::chrono::steady_clock::now();
    std::size_t seen = 0;
    auto st = cache.transact(
        [&](std::vector<CachedAccount>& e) -> gt::Result<bool> {
          seen = e.size();
          return false;
        },
        milliseconds(5000));
    CHECK(std::chrono::steady_clock::now() - start >= milliseconds(100));
    REQUIRE(st);
    CHECK(seen == 2);  // the child's write, not what was there before it
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }

  TEST_CASE("two processes, 200 read-increment-write transactions each: no update is lost") {
    TempDir d;
    {
      TokenCache cache(d.str());
      store(cache, {sample("counter")});
    }
    constexpr int kPerProcess = 200;
    const auto run = [&] {
      TokenCache cache(d.str());
      for (int i = 0; i < kPerProcess; ++i) {
        auto st = cache.transact(
            [](std::vector<CachedAccount>& e) -> gt::Result<bool> {
              if (e.size() != 1) return gt::Error::usage("lost the entry");
              ++e[0].updated_at;
              return true;
            },
            milliseconds(30000));
        if (!st) return false;
      }
      return true;
    };
    const std::int64_t before = sample().updated_at;
    pid_t children[2];
    for (auto& child : children) {
      child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) ::_exit(run() ? 0 : 1);  // no doctest in the child
    }
    for (const pid_t child : children) {
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
    }
    auto loaded = TokenCache(d.str()).load();
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 1);
    CHECK(loaded->front().updated_at - before == 2 * kPerProcess);
    CHECK(names_in(d.str()) == std::set<std::string>{"tokens.json", "tokens.lock"});
  }
}
