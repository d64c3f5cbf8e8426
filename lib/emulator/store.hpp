// emulator/store: the emulator's conversation threads (groups -> threads -> posts), in memory and
// optionally persisted to one JSON file. GraphService owns one; it knows nothing about HTTP.
//
// Versions, not locks, for readers: every stored thread is an immutable ThreadRecord behind a
// ThreadPtr. A change builds a new version and swaps it in; whoever holds an older pointer keeps
// reading a consistent (if outdated) thread. That is what keeps saving off the request path:
// save_if_dirty() only copies one pointer per thread under the lock, then serializes and writes
// with the lock released, so creates never wait for a disk.
//
// Identity: thread ids are unique across the whole store (Graph's are too); a thread belongs to
// one group, and group ids compare case-insensitively (they are GUIDs). A lookup with the right
// thread id under another group finds nothing.
//
// Order: a group's threads are listed newest lastDeliveredDateTime first; equal timestamps (they
// have one-second resolution) are ordered by delivery, the latest first. Every insert and every
// update with Touch::kNewDelivery counts as a delivery.
//
// Thread-safety: every member function may be called concurrently from any thread.
//
// Persistence, when data_file is not empty:
//   load()           call once, before serving. Reads data_file when it exists.
//   save_if_dirty()  writes every thread when anything changed since the last load() or save.
// The file is written atomically: a temporary file in the same directory ("<data_file>.tmp.XXXXXX",
// mode 0600), fsync, rename over data_file, fsync of the directory; readers and a crash at any
// point see the old file or the new one, never a mix, and no temporary file is left behind.
// File format (UTF-8 JSON, one object; the version changes when the shape does):
//   {"format": "graph-threads-emulator/threads", "version": 1, "threads": [thread, ...]}
// with the threads in creation order, each
//   {"groupId", "id", "topic", "isLocked", "hasAttachments", "lastDeliveredDateTime", "preview",
//    "uniqueSenders", "toRecipients", "ccRecipients", "deliverySequence",
//    "posts": [{"id", "body": {"contentType"?, "content"}, "from"?, "sender"?, "newParticipants",
//               "categories", "receivedDateTime", "hasAttachments"}],
//    "createRequest": {the create's conversationThread, as gt::encode_thread_request writes it},
//    "createResponse": "the create's 201 body, verbatim"}
// (recipients as Graph writes them: {"emailAddress": {"name"?, "address"}}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gt/error.hpp"
#include "gt/model.hpp"

namespace gt::emulator {

// A post as the emulator keeps it (Graph's post resource, the properties the emulator tracks).
struct StoredPost {
  std::string id;
  ItemBody body;
  std::optional<Recipient> from;
  std::optional<Recipient> sender;
  std::vector<Recipient> new_participants;
  std::vector<std::string> categories;
  std::string received_date_time;  // "2026-11-27T15:12:44Z"
  bool has_attachments = false;
  bool operator==(const StoredPost&) const = default;
};

// A conversationThread as the emulator keeps it.
struct ThreadRecord {
  std::string group_id;  // as the creating request spelled it
  std::string id;
  std::string topic;
  bool is_locked = false;
  bool has_attachments = false;
  // "2026-11-27T15:12:44Z": exactly this form (UTC, seconds), which sorts as text does.
  std::string last_delivered_date_time;
  std::string preview;
  std::vector<std::string> unique_senders;
  std::vector<Recipient> to_recipients;
  std::vector<Recipient> cc_recipients;
  std::vector<StoredPost> posts;  // oldest first
  // The create request as decoded and the 201 body it got (GraphService::threads() reports them).
  ThreadRequest created_request;
  std::string created_response;
  // Assigned by the store (values given to insert() are ignored): creation order, and the
  // delivery that decides the order among equal lastDeliveredDateTime values.
  std::uint64_t created_sequence = 0;
  std::uint64_t delivery_sequence = 0;
  bool operator==(const ThreadRecord&) const = default;
};

// An immutable version of a thread. Never null when returned as a success.
using ThreadPtr = std::shared_ptr<const ThreadRecord>;

// Where the next page of a group's threads starts: just after the thread with these values.
struct PageCursor {
  std::string last_delivered_date_time;
  std::uint64_t delivery_sequence = 0;
  bool operator==(const PageCursor&) const = default;
};

// An opaque, URL-safe token for a cursor (base64url, no padding: only [A-Za-z0-9_-]).
std::string encode_cursor(const PageCursor& cursor);
// The cursor a token from encode_cursor() stands for; nullopt for any other text.
std::optional<PageCursor> decode_cursor(std::string_view token);

// One page of a group's threads, and where the next one starts (nullopt: this is the last).
struct StorePage {
  std::vector<ThreadPtr> threads;
  std::optional<PageCursor> next;
};

// Whether an update counts as a new delivery (a reply does; locking does not).
enum class Touch { kKeepOrder, kNewDelivery };

class ThreadStore {
 public:
  // `data_file`: where load() and save_if_dirty() read and write; "" keeps everything in memory.
  explicit ThreadStore(std::string data_file = {});
  ThreadStore(const ThreadStore&) = delete;
  ThreadStore& operator=(const ThreadStore&) = delete;

  // Adds `thread` and returns the stored version (sequences assigned). Returns nullptr and
  // changes nothing when a thread with the same id already exists (in any group).
  ThreadPtr insert(ThreadRecord thread);

  // The thread `thread_id` of group `group_id`; nullptr when there is none.
  ThreadPtr find(std::string_view group_id, std::string_view thread_id) const;

  // Removes the thread; false when there was none.
  bool erase(std::string_view group_id, std::string_view thread_id);

  // Applies `change` to a copy of the thread and stores the copy; returns the new version.
  // group_id, id and the sequences are restored after `change` (they cannot be changed); with
  // Touch::kNewDelivery the thread becomes the latest delivery. Failures, with nothing changed:
  //   - no such thread: Error{kind kGraph, http_status 404, code "ErrorItemNotFound",
  //     message "The specified object was not found in the store."};
  //   - `change` returned an Error: that Error, as it is.
  // `change` runs under the store's lock: it must be quick and must not call the store.
  using Change = std::function<Status(ThreadRecord&)>;
  Result<ThreadPtr> update(std::string_view group_id, std::string_view thread_id, Touch touch,
                           const Change& change);

  // Up to `top` threads of the group in list order (see above), starting after `after` (from the
  // first when nullopt). An unknown group has no threads. REQUIRES: top > 0.
  StorePage list(std::string_view group_id, std::size_t top,
                 const std::optional<PageCursor>& after) const;

  // Every thread, in creation order.
  std::vector<ThreadPtr> all() const;
  std::size_t size() const;

  // Replaces the store's contents with data_file's when that file exists; a missing file (or an
  // empty data_file) leaves the store as it is. Either way save_if_dirty() is allowed afterwards.
  // Fails, changing nothing, with ErrorKind::kGraph and a message that names the file and what is
  // wrong: unreadable ("<file>: cannot read: Permission denied"), not JSON ("<file>: not valid
  // JSON: ..."), or not this format ("<file>: threads[3].id: expected a non-empty string").
  // The executable reports the message and exits 1.
  Status load();

  // Writes the whole store to data_file (atomically, as described above) if it changed since the
  // last successful load() or save; otherwise, and when data_file is "", does nothing. Calls are
  // serialized; mutations proceed while the file is written (they are saved next time).
  // Fails (ErrorKind::kGraph, the file, the step and the OS's reason) when the file cannot be
  // written (the store stays dirty, so the next call retries), and when data_file is set but
  // load() has not succeeded: writing then could overwrite threads that were never read.
  Status save_if_dirty();

  const std::string& data_file() const { return data_file_; }

 private:
  // Key of the list order: group (lower case), then newest delivery first.
  struct OrderKey {
    std::string group;
    std::string last_delivered;
    std::uint64_t delivery = 0;
  };
  struct OrderLess {
    bool operator()(const OrderKey& a, const OrderKey& b) const;
  };
  static OrderKey order_key(const ThreadRecord& thread);
  ThreadPtr find_locked(std::string_view group_id, std::string_view thread_id) const;
  void replace_all_locked(std::vector<ThreadRecord> threads);

  const std::string data_file_;
  std::mutex save_mu_;                  // serializes load() and save_if_dirty(); taken before mu_
  std::uint64_t saved_generation_ = 0;  // generation_ when last loaded or saved; under save_mu_

  mutable std::mutex mu_;
  std::unordered_map<std::string, ThreadPtr> by_id_;  // guarded by mu_
  std::map<OrderKey, ThreadPtr, OrderLess> order_;    // guarded by mu_
  std::uint64_t next_sequence_ = 1;                   // guarded by mu_
  std::uint64_t generation_ = 0;                      // guarded by mu_; +1 per change
  bool loaded_ = false;                               // guarded by mu_
};

}  // namespace gt::emulator
