// emulator/store: ThreadStore's identity rules, list order, paging cursors and updates; its
// persistence (load, atomic save, dirty tracking, corrupt files); and GraphService's load() /
// save_if_dirty() round trip. Files live in a fresh temporary directory per test.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emulator/graph_service.hpp"
#include "emulator/store.hpp"
#include "gt/http.hpp"
#include "gt/json_codec.hpp"

namespace {

namespace fs = std::filesystem;
using gt::HttpRequest;
using gt::HttpResponse;
using gt::emulator::decode_cursor;
using gt::emulator::encode_cursor;
using gt::emulator::GraphService;
using gt::emulator::PageCursor;
using gt::emulator::ServiceOptions;
using gt::emulator::StoredPost;
using gt::emulator::ThreadPtr;
using gt::emulator::ThreadRecord;
using gt::emulator::ThreadStore;
using gt::emulator::Touch;

constexpr const char* kGroup = "8b8a9c1e-1111-4222-8333-944455556666";
constexpr const char* kOtherGroup = "22222222-2222-4222-8222-222222222222";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gt-store-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // The names in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// A thread with one post, with distinct values everywhere.
ThreadRecord record(const std::string& id, const std::string& delivered = "2026-11-27T15:12:44Z",
                    const std::string& group = kGroup) {
  ThreadRecord t;
  t.group_id = group;
  t.id = id;
  t.topic = "Topic";
  t.last_delivered_date_time = delivered;
  t.preview = "Hi";
  t.unique_senders = {"Ann"};
  t.to_recipients = {gt::Recipient{{"ops@example.com", "Ops"}}};
  t.posts = {StoredPost{.id = "P-" + id,
                        .body = {gt::BodyType::kText, "Hi"},
                        .from = std::nullopt,
                        .sender = gt::Recipient{{"ann@example.com", "Ann"}},
                        .new_participants = {},
                        .categories = {"Red"},
                        .received_date_time = delivered,
                        .has_attachments = false}};
  t.created_request.topic = "Topic";
  t.created_request.posts = std::vector<gt::Post>{gt::Post{}};
  t.created_request.posts->front().body = gt::ItemBody{gt::BodyType::kText, "Hi"};
  t.created_response = R"({"id":")" + id + R"("})";
  return t;
}

std::vector<std::string> ids_of(const std::vector<ThreadPtr>& threads) {
  std::vector<std::string> ids;
  for (const auto& t : threads) ids.push_back(t->id);
  return ids;
}

// Every page of a group's threads, `top` at a time.
std::vector<std::vector<std::string>> pages_of(const ThreadStore& store, const std::string& group,
                                               std::size_t top) {
  std::vector<std::vector<std::string>> pages;
  std::optional<PageCursor> after;
  do {
    const auto page = store.list(group, top, after);
    pages.push_back(ids_of(page.threads));
    after = page.next;
  } while (after && pages.size() < 100);
  return pages;
}

// What the store keeps, minus created_sequence (reassigned by load in file order).
ThreadRecord comparable(const ThreadRecord& t) {
  ThreadRecord copy = t;
  copy.created_sequence = 0;
  return copy;
}

constexpr const char* kOneThreadFile =
    R"({"format":"graph-threads-emulator/threads","version":1,"threads":[{"groupId":"8b8a9c1e-1111-4222-8333-944455556666",)"
    R"("id":"T1","topic":"Topic","isLocked":false,"hasAttachments":false,)"
    R"("lastDeliveredDateTime":"2026-11-27T15:12:44Z","preview":"Hi","uniqueSenders":["Ann"],)"
    R"("toRecipients":[{"emailAddress":{"name":"Ops","address":"ops@example.com"}}],"ccRecipients":[],)"
    R"("deliverySequence":1,"posts":[{"id":"P-T1","body":{"contentType":"text","content":"Hi"},)"
    R"("sender":{"emailAddress":{"name":"Ann","address":"ann@example.com"}},"newParticipants":[],)"
    R"("categories":["Red"],"receivedDateTime":"2026-11-27T15:12:44Z","hasAttachments":false}],)"
    R"("createRequest":{"topic":"Topic","posts":[{"body":{"contentType":"text","content":"Hi"}}]},)"
    R"("createResponse":"{\"id\":\"T1\"}"}]})";

}  // namespace

TEST_SUITE("emulator: ThreadStore") {
  TEST_CASE("insert, find and erase: group ids ignore case, thread ids do not") {
    ThreadStore store;
    const ThreadPtr stored = store.insert(record("AAQk+a/b=="));
    REQUIRE(stored);
    CHECK(stored->id == "AAQk+a/b==");
    CHECK(stored->created_sequence == 1);
    CHECK(stored->delivery_sequence == 1);
    CHECK(store.find(kGroup, "AAQk+a/b==") == stored);
    CHECK(store.find("8B8A9C1E-1111-4222-8333-944455556666", "AAQk+a/b==") == stored);
    CHECK_FALSE(store.find(kGroup, "aaqk+a/b=="));
    CHECK_FALSE(store.find(kOtherGroup, "AAQk+a/b=="));
    CHECK_FALSE(store.erase(kOtherGroup, "AAQk+a/b=="));
    CHECK(store.size() == 1);
    CHECK(store.erase("8B8A9C1E-1111-4222-8333-944455556666", "AAQk+a/b=="));
    CHECK_FALSE(store.find(kGroup, "AAQk+a/b=="));
    CHECK_FALSE(store.erase(kGroup, "AAQk+a/b=="));
    CHECK(store.size() == 0);
    CHECK(store.list(kGroup, 10, std::nullopt).threads.empty());
  }

  TEST_CASE("a thread id is unique across groups") {
    ThreadStore store;
    REQUIRE(store.insert(record("T1")));
    CHECK_FALSE(store.insert(record("T1", "2026-11-27T15:12:45Z", kOtherGroup)));
    CHECK(store.size() == 1);
    CHECK(store.find(kGroup, "T1")->last_delivered_date_time == "2026-11-27T15:12:44Z");
  }

  TEST_CASE("list: newest lastDeliveredDateTime first, ties by the latest delivery") {
    struct Insert {
      std::string id;
      std::string delivered;
      std::string group;
    };
    const std::vector<Insert> inserts = {
        {"a", "2026-11-27T15:12:44Z", kGroup},      {"b", "2026-11-27T15:12:46Z", kGroup},
        {"c", "2026-11-27T15:12:45Z", kGroup},      {"d", "2026-11-27T15:12:46Z", kGroup},
        {"x", "2027-01-01T00:00:00Z", kOtherGroup}, {"e", "2025-01-01T00:00:00Z", kGroup},
        {"f", "2026-11-27T15:12:44Z", kGroup},
    };
    ThreadStore store;
    for (const auto& i : inserts) REQUIRE(store.insert(record(i.id, i.delivered, i.group)));
    CHECK(ids_of(store.list(kGroup, 100, std::nullopt).threads) ==
          std::vector<std::string>{"d", "b", "c", "f", "a", "e"});
    CHECK(ids_of(store.list(kOtherGroup, 100, std::nullopt).threads) ==
          std::vector<std::string>{"x"});
    CHECK(ids_of(store.all()) == std::vector<std::string>{"a", "b", "c", "d", "x", "e", "f"});
  }

  TEST_CASE("list pages through a group, only a page with more after it has a cursor") {
    struct Case {
      std::size_t top;
      std::vector<std::vector<std::string>> pages;
    };
    const std::vector<Case> cases = {
        {1, {{"e"}, {"d"}, {"c"}, {"b"}, {"a"}}}, {2, {{"e", "d"}, {"c", "b"}, {"a"}}},
        {4, {{"e", "d", "c", "b"}, {"a"}}},       {5, {{"e", "d", "c", "b", "a"}}},
        {6, {{"e", "d", "c", "b", "a"}}},
    };
    ThreadStore store;
    for (const std::string id : {"a", "b", "c", "d", "e"}) {
      REQUIRE(store.insert(record(id, "2026-11-27T15:12:44Z")));
    }
    REQUIRE(store.insert(record("other", "2026-11-27T15:12:40Z", kOtherGroup)));
    for (const auto& c : cases) {
      INFO("top " << c.top);
      CHECK(pages_of(store, kGroup, c.top) == c.pages);
    }
    const auto first = store.list(kGroup, 2, std::nullopt);
    REQUIRE(first.next.has_value());
    CHECK(*first.next ==
          PageCursor{.last_delivered_date_time = "2026-11-27T15:12:44Z", .delivery_sequence = 4});
  }

  TEST_CASE("update changes a copy, identity and sequences stay, old versions stay as they were") {
    ThreadStore store;
    const ThreadPtr before = store.insert(record("T1"));
    REQUIRE(before);
    auto after = store.update(kGroup, "T1", Touch::kKeepOrder, [](ThreadRecord& t) {
      t.is_locked = true;
      t.id = "hijacked";
      t.group_id = kOtherGroup;
      t.created_sequence = 99;
      t.delivery_sequence = 99;
      return gt::ok_status();
    });
    REQUIRE(after.ok());
    CHECK((*after)->is_locked);
    CHECK((*after)->id == "T1");
    CHECK((*after)->group_id == kGroup);
    CHECK((*after)->created_sequence == 1);
    CHECK((*after)->delivery_sequence == 1);
    CHECK_FALSE(before->is_locked);  // a reader's version never changes
    CHECK(store.find(kGroup, "T1") == *after);
    CHECK_FALSE(store.find(kOtherGroup, "hijacked"));
  }

  TEST_CASE(
      "update: an unknown thread is 404 ErrorItemNotFound, a refused change changes nothing") {
    ThreadStore store;
    REQUIRE(store.insert(record("T1")));
    bool called = false;
    auto missing = store.update(kOtherGroup, "T1", Touch::kNewDelivery, [&](ThreadRecord&) {
      called = true;
      return gt::ok_status();
    });
    REQUIRE_FALSE(missing.ok());
    CHECK_FALSE(called);
    CHECK(missing.error().kind == gt::ErrorKind::kGraph);
    CHECK(missing.error().http_status == 404);
    CHECK(missing.error().code == "ErrorItemNotFound");
    CHECK(missing.error().message == "The specified object was not found in the store.");

    auto refused = store.update(kGroup, "T1", Touch::kNewDelivery, [](ThreadRecord& t) {
      t.topic = "changed";
      gt::Error e(gt::ErrorKind::kGraph, "no");
      e.http_status = 423;
      return gt::Status(e);
    });
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().http_status == 423);
    CHECK(refused.error().message == "no");
    CHECK(store.find(kGroup, "T1")->topic == "Topic");
    CHECK(store.find(kGroup, "T1")->delivery_sequence == 1);
  }

  TEST_CASE("a new delivery moves a thread to the front, keeping the order does not") {
    ThreadStore store;
    for (const std::string id : {"a", "b", "c"}) REQUIRE(store.insert(record(id)));
    auto touch = [&](const std::string& id, Touch how) {
      REQUIRE(store.update(kGroup, id, how, [](ThreadRecord&) { return gt::ok_status(); }).ok());
    };
    touch("a", Touch::kKeepOrder);
    CHECK(ids_of(store.list(kGroup, 10, std::nullopt).threads) ==
          std::vector<std::string>{"c", "b", "a"});
    touch("a", Touch::kNewDelivery);
    CHECK(ids_of(store.list(kGroup, 10, std::nullopt).threads) ==
          std::vector<std::string>{"a", "c", "b"});
    CHECK(store.find(kGroup, "a")->delivery_sequence == 4);
    // A later timestamp wins over a later delivery.
    REQUIRE(store
                .update(kGroup, "b", Touch::kKeepOrder,
                        [](ThreadRecord& t) {
                          t.last_delivered_date_time = "2026-11-27T15:12:45Z";
                          return gt::ok_status();
                        })
                .ok());
    CHECK(ids_of(store.list(kGroup, 10, std::nullopt).threads) ==
          std::vector<std::string>{"b", "a", "c"});
    CHECK(ids_of(store.all()) == std::vector<std::string>{"a", "b", "c"});  // creation order
  }

  TEST_CASE("cursor tokens round-trip and are URL-safe") {
    const std::vector<PageCursor> cursors = {
        {"2026-11-27T15:12:44Z", 0},
        {"2026-11-27T15:12:44Z", 1},
        {"1999-01-02T03:04:05Z", 18446744073709551615ull},
    };
    for (const auto& c : cursors) {
      const std::string token = encode_cursor(c);
      INFO(token);
      CHECK(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
            std::string::npos);
      CHECK(decode_cursor(token) == c);
    }
    CHECK(encode_cursor({"2026-11-27T15:12:44Z", 7}) == "MjAyNi0xMS0yN1QxNToxMjo0NFp8Nw");
  }

  TEST_CASE("decode_cursor refuses anything encode_cursor did not make") {
    const std::vector<std::string> tokens = {
        "",
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8Nw=",  // padding
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8N+",   // '+' is not base64url
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8Nx",   // non-zero padding bits
        "MjAyNi0xMS0yN1QxNToxMjo0NFo",      // "2026-11-27T15:12:44Z": no '|'
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8",     // no sequence
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8LTE",  // "-1"
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx",  // 21 digits
        "MjAyNi0xMS0yN1QxNToxMjo0NFp8MTg0NDY3NDQwNzM3MDk1NTE2MTY",   // 2^64: overflows
        "eWVzdGVyZGF5fDc",                                           // "yesterday|7"
    };
    for (const auto& token : tokens) {
      INFO(token);
      CHECK_FALSE(decode_cursor(token).has_value());
    }
  }

  TEST_CASE("many writers and a saver at once lose nothing") {
    TempDir dir;
    ThreadStore store(dir.file("threads.json"));
    REQUIRE(store.load().ok());
    std::atomic<bool> done{false};
    std::thread saver([&] {
      while (!done) CHECK(store.save_if_dirty().ok());
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&store, w] {
        for (int i = 0; i < 250; ++i) {
          CHECK(store.insert(record(std::to_string(w) + "-" + std::to_string(i))));
        }
      });
    }
    for (auto& t : writers) t.join();
    done = true;
    saver.join();
    REQUIRE(store.save_if_dirty().ok());
    ThreadStore reloaded(dir.file("threads.json"));
    REQUIRE(reloaded.load().ok());
    CHECK(reloaded.size() == 1000);
    CHECK(ids_of(reloaded.all()) == ids_of(store.all()));
    CHECK(dir.entries() == std::vector<std::string>{"threads.json"});
  }
}

TEST_SUITE("emulator: persistence") {
  TEST_CASE("the file has the documented format") {
    TempDir dir;
    ThreadStore store(dir.file("threads.json"));
    REQUIRE(store.load().ok());
    REQUIRE(store.insert(record("T1")));
    REQUIRE(store.save_if_dirty().ok());
    CHECK(read_text(dir.file("threads.json")) == kOneThreadFile);
  }

  TEST_CASE("save, then load in a new store: the same threads, order and sequences") {
    TempDir dir;
    const std::string file = dir.file("threads.json");
    ThreadStore store(file);
    REQUIRE(store.load().ok());
    ThreadRecord rich = record("rich", "2026-11-27T15:12:45Z");
    rich.is_locked = true;
    rich.has_attachments = true;
    rich.cc_recipients = {gt::Recipient{{"cc@example.com", std::nullopt}}};
    rich.posts.push_back(StoredPost{.id = "P2",
                                    .body = {std::nullopt, "<b>x</b>"},
                                    .from = gt::Recipient{{"bob@example.com", "Bob"}},
                                    .sender = std::nullopt,
                                    .new_participants = {gt::Recipient{{"new@example.com", "N"}}},
                                    .categories = {},
                                    .received_date_time = "2026-11-27T15:12:45Z",
                                    .has_attachments = true});
    rich.created_request.is_locked = true;
    rich.created_request.to_recipients = rich.to_recipients;
    REQUIRE(store.insert(record("a")));
    REQUIRE(store.insert(rich));
    REQUIRE(store.insert(record("b")));
    REQUIRE(store.insert(record("other", "2026-11-27T15:12:44Z", kOtherGroup)));
    REQUIRE(
        store
            .update(kGroup, "a", Touch::kNewDelivery, [](ThreadRecord&) { return gt::ok_status(); })
            .ok());
    REQUIRE(store.erase(kGroup, "b"));
    REQUIRE(store.save_if_dirty().ok());

    ThreadStore loaded(file);
    REQUIRE(loaded.load().ok());
    REQUIRE(loaded.size() == store.size());
    CHECK(ids_of(loaded.all()) == std::vector<std::string>{"a", "rich", "other"});
    for (const auto& t : store.all()) {
      INFO(t->id);
      const ThreadPtr copy = loaded.find(t->group_id, t->id);
      REQUIRE(copy);
      CHECK(comparable(*copy) == comparable(*t));
    }
    CHECK(pages_of(loaded, kGroup, 1) == pages_of(store, kGroup, 1));
    CHECK(pages_of(loaded, kGroup, 10) == std::vector<std::vector<std::string>>{{"rich", "a"}});
    // New sequences continue after the loaded ones: a new thread is the latest delivery.
    REQUIRE(loaded.insert(record("new")));
    CHECK(ids_of(loaded.list(kGroup, 10, std::nullopt).threads) ==
          std::vector<std::string>{"rich", "new", "a"});
  }

  TEST_CASE("saving is atomic: only the data file remains, and a failed save keeps the old one") {
    TempDir dir;
    const std::string file = dir.file("threads.json");
    ThreadStore store(file);
    REQUIRE(store.load().ok());
    REQUIRE(store.insert(record("T1")));
    REQUIRE(store.save_if_dirty().ok());
    CHECK(dir.entries() == std::vector<std::string>{"threads.json"});
    const std::string saved = read_text(file);

    // Make the rename fail: the data file's name is now a non-empty directory.
    fs::rename(file, dir.file("saved.json"));
    fs::create_directory(file);
    write_text(file + "/keep", "x");
    REQUIRE(store.insert(record("T2")));
    const gt::Status failed = store.save_if_dirty();
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().kind == gt::ErrorKind::kGraph);
    CHECK(failed.error().message.starts_with(file + ": cannot rename " + file + ".tmp."));
    CHECK(failed.error().message.ends_with(" over it: Is a directory"));
    CHECK(dir.entries() == std::vector<std::string>{"saved.json", "threads.json"});
    CHECK(read_text(dir.file("saved.json")) == saved);

    // Still dirty: once the path is free again, the next call writes both threads.
    fs::remove_all(file);
    REQUIRE(store.save_if_dirty().ok());
    ThreadStore loaded(file);
    REQUIRE(loaded.load().ok());
    CHECK(ids_of(loaded.all()) == std::vector<std::string>{"T1", "T2"});
  }

  TEST_CASE("save_if_dirty writes only after a change") {
    TempDir dir;
    const std::string file = dir.file("threads.json");
    ThreadStore store(file);
    REQUIRE(store.load().ok());
    REQUIRE(store.save_if_dirty().ok());
    CHECK(dir.entries().empty());  // a missing file loads as empty; nothing changed since
    REQUIRE(store.insert(record("T1")));
    REQUIRE(store.save_if_dirty().ok());
    fs::remove(file);
    REQUIRE(store.save_if_dirty().ok());
    CHECK(dir.entries().empty());  // not rewritten: nothing changed
    REQUIRE(store.erase(kGroup, "T1"));
    REQUIRE(store.save_if_dirty().ok());
    CHECK(read_text(file) ==
          R"({"format":"graph-threads-emulator/threads","version":1,"threads":[]})");
  }

  TEST_CASE("a loaded file is clean until something changes") {
    TempDir dir;
    const std::string file = dir.file("threads.json");
    write_text(file, kOneThreadFile);
    ThreadStore store(file);
    REQUIRE(store.load().ok());
    CHECK(store.size() == 1);
    fs::remove(file);
    REQUIRE(store.save_if_dirty().ok());
    CHECK(dir.entries().empty());
  }

  TEST_CASE("saving before load() is refused, so an unread file is never overwritten") {
    TempDir dir;
    const std::string file = dir.file("threads.json");
    write_text(file, kOneThreadFile);
    ThreadStore store(file);
    REQUIRE(store.insert(record("T9")));
    const gt::Status st = store.save_if_dirty();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == gt::ErrorKind::kGraph);
    CHECK(st.error().message == file +
                                    ": not saved: load() has not succeeded, so saving could "
                                    "overwrite threads that were never read");
    CHECK(read_text(file) == kOneThreadFile);
  }

  TEST_CASE("in memory only, load and save do nothing") {
    ThreadStore store;
    REQUIRE(store.insert(record("T1")));
    CHECK(store.save_if_dirty().ok());
    CHECK(store.load().ok());
    CHECK(store.size() == 1);
    CHECK(store.data_file().empty());
  }

  TEST_CASE("corrupt files are refused, naming the file and what is wrong") {
    struct Case {
      std::string name;
      std::string content;
      std::string message;  // after "<file>: "
    };
    const std::string good = kOneThreadFile;
    const std::string thread = good.substr(good.find("[{") + 1, good.size() - good.find("[{") - 3);
    const std::vector<Case> cases = {
        {"empty", "", "not valid JSON: "},
        {"truncated", good.substr(0, good.size() / 2), "not valid JSON: "},
        {"an array", "[]", "expected a JSON object"},
        {"another format", R"({"format":"x","version":1,"threads":[]})",
         "format: expected \"graph-threads-emulator/threads\""},
        {"another version",
         R"({"format":"graph-threads-emulator/threads","version":2,"threads":[]})",
         "version: expected 1 (a file from another version of graph-threads-emulator?)"},
        {"no threads", R"({"format":"graph-threads-emulator/threads","version":1})",
         "threads: missing"},
        {"threads not an array",
         R"({"format":"graph-threads-emulator/threads","version":1,"threads":{}})",
         "threads: expected an array"},
        {"empty id", replaced(good, R"("id":"T1")", R"("id":"")"),
         "threads[0].id: expected a non-empty string"},
        {"no group", replaced(good, R"("groupId":"8b8a9c1e-1111-4222-8333-944455556666",)", ""),
         "threads[0].groupId: missing"},
        {"locked not a bool", replaced(good, R"("isLocked":false)", R"("isLocked":"no")"),
         "threads[0].isLocked: expected true or false"},
        {"bad time",
         replaced(good, R"("lastDeliveredDateTime":"2026-11-27T15:12:44Z")",
                  R"("lastDeliveredDateTime":"2026-11-27 15:12:44")"),
         "threads[0].lastDeliveredDateTime: expected a UTC time like \"2026-11-27T15:12:44Z\""},
        {"negative sequence", replaced(good, R"("deliverySequence":1)", R"("deliverySequence":-1)"),
         "threads[0].deliverySequence: expected a non-negative integer"},
        {"sender without address",
         replaced(good, R"("sender":{"emailAddress":{"name":"Ann","address":"ann@example.com"}})",
                  R"("sender":{"emailAddress":{"name":"Ann"}})"),
         "threads[0].posts[0].sender.emailAddress.address: missing"},
        {"bad category", replaced(good, R"("categories":["Red"])", R"("categories":["Red",3])"),
         "threads[0].posts[0].categories[1]: expected a string"},
        {"bad content type",
         replaced(good, R"("body":{"contentType":"text","content":"Hi"},"sender")",
                  R"("body":{"contentType":"md","content":"Hi"},"sender")"),
         "threads[0].posts[0].body.contentType: expected \"text\" or \"html\""},
        {"bad recipient", replaced(good, R"("ccRecipients":[])", R"("ccRecipients":["x"])"),
         "threads[0].ccRecipients[0]: expected an object"},
        {"bad create request",
         replaced(good, R"("createRequest":{"topic")", R"("createRequest":{"bogus":1,"topic")"),
         "threads[0].createRequest.bogus: unknown property"},
        {"no create response", replaced(good, R"(,"createResponse":"{\"id\":\"T1\"}")", ""),
         "threads[0].createResponse: missing"},
        {"duplicate ids", replaced(good, thread, thread + "," + thread),
         "threads[1].id: \"T1\" is also the id of threads[0]"},
    };
    for (const auto& c : cases) {
      INFO(c.name);
      TempDir dir;
      const std::string file = dir.file("threads.json");
      write_text(file, c.content);
      ThreadStore store(file);
      const gt::Status st = store.load();
      REQUIRE_FALSE(st.ok());
      CHECK(st.error().kind == gt::ErrorKind::kGraph);
      CHECK(st.error().message.starts_with(file + ": " + c.message));
      CHECK(store.size() == 0);
      REQUIRE(store.insert(record("T9")));
      CHECK_FALSE(store.save_if_dirty().ok());  // the corrupt file is not overwritten
      CHECK(read_text(file) == c.content);
    }
  }

  TEST_CASE("an unreadable data file is refused") {
    TempDir dir;
    fs::create_directory(dir.file("threads.json"));
    ThreadStore store(dir.file("threads.json"));
    const gt::Status st = store.load();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == dir.file("threads.json") + ": cannot read: Is a directory");
  }

  TEST_CASE("GraphService: threads survive a restart through data_file") {
    TempDir dir;
    const std::string file = dir.file("emulator.json");
    auto now = [] {
      return std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + std::chrono::hours{15};
    };
    auto req = [](std::string method, std::string target, std::string body) {
      HttpRequest r;
      r.method = std::move(method);
      r.target = std::move(target);
      r.headers = {{"Host", "127.0.0.1:8443"}, {"Authorization", "Bearer t"}};
      if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
      r.body = std::move(body);
      return r;
    };
    const std::string threads = "/v1.0/groups/" + std::string(kGroup) + "/threads";
    auto create_body = [](const std::string& topic) {
      return R"({"topic":")" + topic +
             R"(","toRecipients":[{"emailAddress":{"address":"to@example.com"}}],)"
             R"("posts":[{"body":{"contentType":"html","content":"<p>x</p>"}}]})";
    };
    auto encode = [](const std::string& id) {
      std::string out;
      for (char c : id) out += c == '/' ? "%2F" : c == '+' ? "%2B" : std::string(1, c);
      return out;
    };

    ServiceOptions options{.accepted_token = {}, .groups = {}, .data_file = file, .now = now};
    GraphService first(options);
    REQUIRE(first.load().ok());
    std::vector<std::string> ids;
    for (const std::string topic : {"one", "two", "three"}) {
      const HttpResponse r = first.handle(req("POST", threads, create_body(topic)));
      REQUIRE(r.status == 201);
      ids.push_back(gt::decode_created_thread(r.body)->id);
    }
    REQUIRE(first
                .handle(req("POST", threads + "/" + encode(ids[0]) + "/reply",
                            R"({"post":{"body":{"content":"reply"}}})"))
                .status == 202);
    REQUIRE(
        first.handle(req("PATCH", threads + "/" + encode(ids[1]), R"({"isLocked":true})")).status ==
        200);
    REQUIRE(first.handle(req("DELETE", threads + "/" + encode(ids[2]), "")).status == 204);
    REQUIRE(first.save_if_dirty().ok());
    CHECK(dir.entries() == std::vector<std::string>{"emulator.json"});

    GraphService second(options);
    REQUIRE(second.load().ok());
    const auto before = first.threads();
    const auto after = second.threads();
    REQUIRE(after.size() == 2);
    for (std::size_t i = 0; i < after.size(); ++i) {
      CHECK(after[i].id == before[i].id);
      CHECK(after[i].group_id == before[i].group_id);
      CHECK(after[i].json == before[i].json);
      CHECK(after[i].request == before[i].request);
    }
    CHECK(after[0].id == ids[0]);
    CHECK(after[1].id == ids[1]);
    const std::string all = threads + "?$select=topic,isLocked,preview,toRecipients";
    CHECK(second.handle(req("GET", all, "")).body == first.handle(req("GET", all, "")).body);
    CHECK(second.handle(req("GET", all, "")).body.find(R"("preview":"reply")") !=
          std::string::npos);
    CHECK(second.store().find(kGroup, ids[0])->posts.size() == 2);
    CHECK(second.handle(req("GET", threads + "/" + encode(ids[2]), "")).status == 404);
  }

  TEST_CASE("GraphService: a corrupt data_file fails load() and is never overwritten") {
    TempDir dir;
    const std::string file = dir.file("emulator.json");
    write_text(file, "{not json");
    GraphService service({.accepted_token = {}, .groups = {}, .data_file = file});
    const gt::Status st = service.load();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == gt::ErrorKind::kGraph);
    CHECK(st.error().message.starts_with(file + ": not valid JSON: "));
    CHECK(service.threads().empty());
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1.0/groups/" + std::string(kGroup) + "/threads";
    r.headers = {{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};
    r.body = R"({"topic":"T","posts":[{"body":{"content":"x"}}]})";
    CHECK(service.handle(r).status == 201);
    CHECK_FALSE(service.save_if_dirty().ok());
    CHECK(read_text(file) == "{not json");
  }
}
