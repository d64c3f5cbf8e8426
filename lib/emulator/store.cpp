#include "emulator/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <regex>
#include <utility>

#include "gt/json_codec.hpp"

namespace gt::emulator {
namespace {

namespace json = boost::json;

constexpr std::string_view kFormat = "graph-threads-emulator/threads";
constexpr std::int64_t kVersion = 1;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Error store_error(std::string message) {
  return Error(ErrorKind::kGraph, std::move(message));
}

// ---- cursor tokens -----------------------------------------------------------------------------

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kBase64Url[(buffer << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    const auto at = kBase64Url.find(c);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero padding of the last character, fewer than a byte.
  if (bits >= 6 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool is_timestamp(std::string_view s) {
  static const std::regex kForm(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  return std::regex_match(s.begin(), s.end(), kForm);
}

// ---- records -> JSON ---------------------------------------------------------------------------

json::value recipient_json(const Recipient& r) {
  json::object email;
  if (r.email_address.name) email["name"] = *r.email_address.name;
  email["address"] = r.email_address.address;
  return json::object{{"emailAddress", std::move(email)}};
}

json::array recipients_json(const std::vector<Recipient>& rs) {
  json::array out;
  for (const auto& r : rs) out.push_back(recipient_json(r));
  return out;
}

json::array strings_json(const std::vector<std::string>& ss) {
  json::array out;
  for (const auto& s : ss) out.emplace_back(s);
  return out;
}

json::object post_json(const StoredPost& p) {
  json::object body;
  if (p.body.content_type) body["contentType"] = to_string(*p.body.content_type);
  body["content"] = p.body.content.value_or("");
  json::object o;
  o["id"] = p.id;
  o["body"] = std::move(body);
  if (p.from) o["from"] = recipient_json(*p.from);
  if (p.sender) o["sender"] = recipient_json(*p.sender);
  o["newParticipants"] = recipients_json(p.new_participants);
  o["categories"] = strings_json(p.categories);
  o["receivedDateTime"] = p.received_date_time;
  o["hasAttachments"] = p.has_attachments;
  return o;
}

json::object thread_json(const ThreadRecord& t) {
  json::object o;
  o["groupId"] = t.group_id;
  o["id"] = t.id;
  o["topic"] = t.topic;
  o["isLocked"] = t.is_locked;
  o["hasAttachments"] = t.has_attachments;
  o["lastDeliveredDateTime"] = t.last_delivered_date_time;
  o["preview"] = t.preview;
  o["uniqueSenders"] = strings_json(t.unique_senders);
  o["toRecipients"] = recipients_json(t.to_recipients);
  o["ccRecipients"] = recipients_json(t.cc_recipients);
  o["deliverySequence"] = t.delivery_sequence;
  json::array posts;
  for (const auto& p : t.posts) posts.push_back(post_json(p));
  o["posts"] = std::move(posts);
  boost::system::error_code ec;
  json::value request = json::parse(encode_thread_request(t.created_request), ec);
  o["createRequest"] = ec ? json::value(json::object{}) : std::move(request);
  o["createResponse"] = t.created_response;
  return o;
}

std::string store_json(const std::vector<ThreadPtr>& threads) {
  json::array items;
  items.reserve(threads.size());
  for (const auto& t : threads) items.push_back(thread_json(*t));
  json::object root;
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["threads"] = std::move(items);
  return json::serialize(root);
}

// ---- JSON -> records ---------------------------------------------------------------------------
// Each reader names the JSON path of what is wrong ("threads[2].posts[0].id: expected a string").

std::string at_key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string at_index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Error shape_error(const std::string& path, std::string_view expected) {
  return store_error(path + ": expected " + std::string(expected));
}

Result<const json::value*> member(const json::object& o, const std::string& path,
                                  std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return store_error(at_key(path, key) + ": missing");
  return v;
}

Result<const json::object*> object_at(const json::value& v, const std::string& path) {
  if (!v.is_object()) return shape_error(path, "an object");
  return &v.get_object();
}

Result<std::string> string_member(const json::object& o, const std::string& path,
                                  std::string_view key) {
  auto v = member(o, path, key);
  if (!v) return v.error();
  if (!(*v)->is_string()) return shape_error(at_key(path, key), "a string");
  return std::string((*v)->get_string());
}

Result<std::string> id_member(const json::object& o, const std::string& path,
                              std::string_view key) {
  auto s = string_member(o, path, key);
  if (s && s->empty()) return shape_error(at_key(path, key), "a non-empty string");
  return s;
}

Result<std::string> timestamp_member(const json::object& o, const std::string& path,
                                     std::string_view key) {
  auto s = string_member(o, path, key);
  if (s && !is_timestamp(*s)) {
    return shape_error(at_key(path, key), "a UTC time like \"2026-11-27T15:12:44Z\"");
  }
  return s;
}

Result<bool> bool_member(const json::object& o, const std::string& path, std::string_view key) {
  auto v = member(o, path, key);
  if (!v) return v.error();
  if (!(*v)->is_bool()) return shape_error(at_key(path, key), "true or false");
  return (*v)->get_bool();
}

Result<std::uint64_t> sequence_member(const json::object& o, const std::string& path,
                                      std::string_view key) {
  auto v = member(o, path, key);
  if (!v) return v.error();
  if ((*v)->is_uint64()) return (*v)->get_uint64();
  if ((*v)->is_int64() && (*v)->get_int64() >= 0) {
    return static_cast<std::uint64_t>((*v)->get_int64());
  }
  return shape_error(at_key(path, key), "a non-negative integer");
}

Result<std::vector<std::string>> strings_member(const json::object& o, const std::string& path,
                                                std::string_view key) {
  auto v = member(o, path, key);
  if (!v) return v.error();
  const std::string here = at_key(path, key);
  if (!(*v)->is_array()) return shape_error(here, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < (*v)->get_array().size(); ++i) {
    const json::value& item = (*v)->get_array()[i];
    if (!item.is_string()) return shape_error(at_index(here, i), "a string");
    out.emplace_back(item.get_string());
  }
  return out;
}

Result<Recipient> recipient_from(const json::value& v, const std::string& path) {
  auto o = object_at(v, path);
  if (!o) return o.error();
  auto email_value = member(**o, path, "emailAddress");
  if (!email_value) return email_value.error();
  const std::string email_path = at_key(path, "emailAddress");
  auto email = object_at(**email_value, email_path);
  if (!email) return email.error();
  Recipient r;
  auto address = string_member(**email, email_path, "address");
  if (!address) return address.error();
  r.email_address.address = std::move(*address);
  if ((*email)->contains("name")) {
    auto name = string_member(**email, email_path, "name");
    if (!name) return name.error();
    r.email_address.name = std::move(*name);
  }
  return r;
}

Result<std::optional<Recipient>> optional_recipient_member(const json::object& o,
                                                           const std::string& path,
                                                           std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::optional<Recipient>();
  auto r = recipient_from(*v, at_key(path, key));
  if (!r) return r.error();
  return std::optional<Recipient>(std::move(*r));
}

Result<std::vector<Recipient>> recipients_member(const json::object& o, const std::string& path,
                                                 std::string_view key) {
  auto v = member(o, path, key);
  if (!v) return v.error();
  const std::string here = at_key(path, key);
  if (!(*v)->is_array()) return shape_error(here, "an array of recipients");
  std::vector<Recipient> out;
  for (std::size_t i = 0; i < (*v)->get_array().size(); ++i) {
    auto r = recipient_from((*v)->get_array()[i], at_index(here, i));
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

Result<ItemBody> body_member(const json::object& o, const std::string& path) {
  auto v = member(o, path, "body");
  if (!v) return v.error();
  const std::string here = at_key(path, "body");
  auto body = object_at(**v, here);
  if (!body) return body.error();
  ItemBody out;
  auto content = string_member(**body, here, "content");
  if (!content) return content.error();
  out.content = std::move(*content);
  if ((*body)->contains("contentType")) {
    auto type = string_member(**body, here, "contentType");
    if (!type) return type.error();
    if (*type == "text") {
      out.content_type = BodyType::kText;
    } else if (*type == "html") {
      out.content_type = BodyType::kHtml;
    } else {
      return shape_error(at_key(here, "contentType"), "\"text\" or \"html\"");
    }
  }
  return out;
}

Result<StoredPost> post_from(const json::value& v, const std::string& path) {
  auto o = object_at(v, path);
  if (!o) return o.error();
  const json::object& p = **o;
  StoredPost post;
  auto id = id_member(p, path, "id");
  if (!id) return id.error();
  post.id = std::move(*id);
  auto body = body_member(p, path);
  if (!body) return body.error();
  post.body = std::move(*body);
  auto from = optional_recipient_member(p, path, "from");
  if (!from) return from.error();
  post.from = std::move(*from);
  auto sender = optional_recipient_member(p, path, "sender");
  if (!sender) return sender.error();
  post.sender = std::move(*sender);
  auto participants = recipients_member(p, path, "newParticipants");
  if (!participants) return participants.error();
  post.new_participants = std::move(*participants);
  auto categories = strings_member(p, path, "categories");
  if (!categories) return categories.error();
  post.categories = std::move(*categories);
  auto received = timestamp_member(p, path, "receivedDateTime");
  if (!received) return received.error();
  post.received_date_time = std::move(*received);
  auto attachments = bool_member(p, path, "hasAttachments");
  if (!attachments) return attachments.error();
  post.has_attachments = *attachments;
  return post;
}

Result<ThreadRequest> create_request_member(const json::object& o, const std::string& path) {
  auto v = member(o, path, "createRequest");
  if (!v) return v.error();
  const std::string here = at_key(path, "createRequest");
  if (!(*v)->is_object()) return shape_error(here, "an object");
  DecodedThread decoded;
  const auto issues = decode_thread_request_issues(json::serialize(**v), decoded);
  if (!issues.empty()) {
    const JsonIssue& first = issues.front();
    return store_error(at_key(here, first.path) + ": " + first.message);
  }
  return std::move(decoded.request);
}

// The scalar properties of a thread (everything but posts and the create's request/response).
Status thread_scalars(const json::object& o, const std::string& path, ThreadRecord& t) {
  auto group = id_member(o, path, "groupId");
  if (!group) return group.error();
  t.group_id = std::move(*group);
  auto id = id_member(o, path, "id");
  if (!id) return id.error();
  t.id = std::move(*id);
  auto topic = string_member(o, path, "topic");
  if (!topic) return topic.error();
  t.topic = std::move(*topic);
  auto locked = bool_member(o, path, "isLocked");
  if (!locked) return locked.error();
  t.is_locked = *locked;
  auto attachments = bool_member(o, path, "hasAttachments");
  if (!attachments) return attachments.error();
  t.has_attachments = *attachments;
  auto delivered = timestamp_member(o, path, "lastDeliveredDateTime");
  if (!delivered) return delivered.error();
  t.last_delivered_date_time = std::move(*delivered);
  auto preview = string_member(o, path, "preview");
  if (!preview) return preview.error();
  t.preview = std::move(*preview);
  auto sequence = sequence_member(o, path, "deliverySequence");
  if (!sequence) return sequence.error();
  t.delivery_sequence = *sequence;
  return ok_status();
}

// The collections of a thread: senders, recipients, posts.
Status thread_collections(const json::object& o, const std::string& path, ThreadRecord& t) {
  auto senders = strings_member(o, path, "uniqueSenders");
  if (!senders) return senders.error();
  t.unique_senders = std::move(*senders);
  auto to = recipients_member(o, path, "toRecipients");
  if (!to) return to.error();
  t.to_recipients = std::move(*to);
  auto cc = recipients_member(o, path, "ccRecipients");
  if (!cc) return cc.error();
  t.cc_recipients = std::move(*cc);
  auto posts = member(o, path, "posts");
  if (!posts) return posts.error();
  const std::string posts_path = at_key(path, "posts");
  if (!(*posts)->is_array()) return shape_error(posts_path, "an array of posts");
  for (std::size_t i = 0; i < (*posts)->get_array().size(); ++i) {
    auto post = post_from((*posts)->get_array()[i], at_index(posts_path, i));
    if (!post) return post.error();
    t.posts.push_back(std::move(*post));
  }
  return ok_status();
}

Result<ThreadRecord> thread_from(const json::value& v, const std::string& path) {
  auto o = object_at(v, path);
  if (!o) return o.error();
  ThreadRecord t;
  if (auto st = thread_scalars(**o, path, t); !st) return st.error();
  if (auto st = thread_collections(**o, path, t); !st) return st.error();
  auto request = create_request_member(**o, path);
  if (!request) return request.error();
  t.created_request = std::move(*request);
  auto response = string_member(**o, path, "createResponse");
  if (!response) return response.error();
  t.created_response = std::move(*response);
  return t;
}

Status check_header(const json::object& root) {
  const json::value* format = root.if_contains("format");
  if (!format || !format->is_string() || format->get_string() != kFormat) {
    return store_error("format: expected \"" + std::string(kFormat) + "\"");
  }
  const json::value* version = root.if_contains("version");
  if (!version || !version->is_int64() || version->get_int64() != kVersion) {
    return store_error("version: expected " + std::to_string(kVersion) +
                       " (a file from another version of graph-threads-emulator?)");
  }
  return ok_status();
}

Result<std::vector<ThreadRecord>> threads_from(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return store_error("not valid JSON: " + ec.message());
  if (!root.is_object()) return store_error("expected a JSON object");
  if (auto st = check_header(root.get_object()); !st) return st.error();
  auto threads = member(root.get_object(), "", "threads");
  if (!threads) return threads.error();
  if (!(*threads)->is_array()) return shape_error("threads", "an array");
  std::vector<ThreadRecord> out;
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < (*threads)->get_array().size(); ++i) {
    const std::string path = at_index("threads", i);
    auto thread = thread_from((*threads)->get_array()[i], path);
    if (!thread) return thread.error();
    if (auto [it, fresh] = seen.emplace(thread->id, i); !fresh) {
      return store_error(path + ".id: \"" + thread->id + "\" is also the id of " +
                         at_index("threads", it->second));
    }
    out.push_back(std::move(*thread));
  }
  return out;
}

// ---- files -------------------------------------------------------------------------------------

std::string os_error(const std::string& file, std::string_view step, int error_number) {
  return file + ": " + std::string(step) + ": " + std::strerror(error_number);
}

// The file's contents; nullopt when it does not exist.
Result<std::optional<std::string>> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return store_error(os_error(path, "cannot open", errno));
  }
  std::string content;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = store_error(os_error(path, "cannot read", errno));
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(content));
}

// 0, or the errno of the write that failed.
int write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Makes a rename in `path`'s directory durable. Best effort: the rename itself already happened,
// and a failure here only matters if the machine crashes in the next few seconds.
void sync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Readers (and a crash) see the old file or the new one: write a temporary file next to it,
// flush it to disk, then rename it over the old one (rename is atomic within a file system; the
// same directory guarantees the same file system).
Status write_atomically(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return store_error(os_error(path, "cannot create a temporary file", errno));
  auto fail = [&](std::string_view step, int error_number) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status(store_error(os_error(path, step, error_number)));
  };
  if (const int error_number = write_all(fd, content); error_number != 0) {
    return fail("cannot write " + tmp, error_number);
  }
  if (::fsync(fd) != 0) {
    const int error_number = errno;
    return fail("cannot fsync " + tmp, error_number);
  }
  if (::close(fd) != 0) {
    const int error_number = errno;
    ::unlink(tmp.c_str());
    return store_error(os_error(path, "cannot close " + tmp, error_number));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error_number = errno;
    ::unlink(tmp.c_str());
    return store_error(os_error(path, "cannot rename " + tmp + " over it", error_number));
  }
  sync_directory_of(path);
  return ok_status();
}

}  // namespace

// ---- cursors -----------------------------------------------------------------------------------

std::string encode_cursor(const PageCursor& cursor) {
  return base64url(cursor.last_delivered_date_time + "|" +
                   std::to_string(cursor.delivery_sequence));
}

std::optional<PageCursor> decode_cursor(std::string_view token) {
  const auto text = base64url_decode(token);
  if (!text) return std::nullopt;
  const auto bar = text->find('|');
  if (bar == std::string::npos) return std::nullopt;
  PageCursor cursor{.last_delivered_date_time = text->substr(0, bar), .delivery_sequence = 0};
  const std::string_view digits = std::string_view(*text).substr(bar + 1);
  if (!is_timestamp(cursor.last_delivered_date_time) || digits.empty() ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), cursor.delivery_sequence);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;  // overflow
  return cursor;
}

// ---- the store ---------------------------------------------------------------------------------

bool ThreadStore::OrderLess::operator()(const OrderKey& a, const OrderKey& b) const {
  if (a.group != b.group) return a.group < b.group;
  if (a.last_delivered != b.last_delivered) return a.last_delivered > b.last_delivered;
  return a.delivery > b.delivery;
}

ThreadStore::OrderKey ThreadStore::order_key(const ThreadRecord& thread) {
  return {lower(thread.group_id), thread.last_delivered_date_time, thread.delivery_sequence};
}

ThreadStore::ThreadStore(std::string data_file) : data_file_(std::move(data_file)) {}

ThreadPtr ThreadStore::insert(ThreadRecord thread) {
  std::lock_guard lock(mu_);
  if (by_id_.contains(thread.id)) return nullptr;
  thread.created_sequence = next_sequence_;
  thread.delivery_sequence = next_sequence_;
  ++next_sequence_;
  auto stored = std::make_shared<const ThreadRecord>(std::move(thread));
  by_id_.emplace(stored->id, stored);
  order_.emplace(order_key(*stored), stored);
  ++generation_;
  return stored;
}

ThreadPtr ThreadStore::find_locked(std::string_view group_id, std::string_view thread_id) const {
  const auto it = by_id_.find(std::string(thread_id));
  if (it == by_id_.end() || !iequals(it->second->group_id, group_id)) return nullptr;
  return it->second;
}

ThreadPtr ThreadStore::find(std::string_view group_id, std::string_view thread_id) const {
  std::lock_guard lock(mu_);
  return find_locked(group_id, thread_id);
}

bool ThreadStore::erase(std::string_view group_id, std::string_view thread_id) {
  std::lock_guard lock(mu_);
  const ThreadPtr thread = find_locked(group_id, thread_id);
  if (!thread) return false;
  order_.erase(order_key(*thread));
  by_id_.erase(thread->id);
  ++generation_;
  return true;
}

Result<ThreadPtr> ThreadStore::update(std::string_view group_id, std::string_view thread_id,
                                      Touch touch, const Change& change) {
  std::lock_guard lock(mu_);
  const ThreadPtr old = find_locked(group_id, thread_id);
  if (!old) {
    Error e(ErrorKind::kGraph, "The specified object was not found in the store.");
    e.http_status = 404;
    e.code = "ErrorItemNotFound";
    return e;
  }
  ThreadRecord copy = *old;
  if (auto st = change(copy); !st) return st.error();
  copy.group_id = old->group_id;
  copy.id = old->id;
  copy.created_sequence = old->created_sequence;
  copy.delivery_sequence = touch == Touch::kNewDelivery ? next_sequence_++ : old->delivery_sequence;
  auto stored = std::make_shared<const ThreadRecord>(std::move(copy));
  order_.erase(order_key(*old));
  order_.emplace(order_key(*stored), stored);
  by_id_[stored->id] = stored;
  ++generation_;
  return ThreadPtr(stored);
}

StorePage ThreadStore::list(std::string_view group_id, std::size_t top,
                            const std::optional<PageCursor>& after) const {
  const std::string group = lower(group_id);
  StorePage page;
  std::lock_guard lock(mu_);
  // Sorting newest first, "\xff" (above every timestamp) with the highest delivery is the key
  // just before the group's first thread.
  auto it =
      after ? order_.upper_bound({group, after->last_delivered_date_time, after->delivery_sequence})
            : order_.lower_bound({group, "\xff", std::numeric_limits<std::uint64_t>::max()});
  for (; it != order_.end() && it->first.group == group; ++it) {
    if (page.threads.size() == top) {
      const ThreadRecord& last = *page.threads.back();
      page.next = PageCursor{.last_delivered_date_time = last.last_delivered_date_time,
                             .delivery_sequence = last.delivery_sequence};
      break;
    }
    page.threads.push_back(it->second);
  }
  return page;
}

std::vector<ThreadPtr> ThreadStore::all() const {
  std::vector<ThreadPtr> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(by_id_.size());
    for (const auto& [id, thread] : by_id_) out.push_back(thread);
  }
  std::sort(out.begin(), out.end(), [](const ThreadPtr& a, const ThreadPtr& b) {
    return a->created_sequence < b->created_sequence;
  });
  return out;
}

std::size_t ThreadStore::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

void ThreadStore::replace_all_locked(std::vector<ThreadRecord> threads) {
  by_id_.clear();
  order_.clear();
  next_sequence_ = 1;
  // Creation order is the file's order; delivery order is what the file says.
  for (const auto& t : threads) next_sequence_ = std::max(next_sequence_, t.delivery_sequence + 1);
  for (auto& t : threads) {
    t.created_sequence = next_sequence_++;
    auto stored = std::make_shared<const ThreadRecord>(std::move(t));
    by_id_.emplace(stored->id, stored);
    order_.emplace(order_key(*stored), stored);
  }
}

Status ThreadStore::load() {
  std::lock_guard save_lock(save_mu_);
  if (!data_file_.empty()) {
    auto text = read_file(data_file_);
    if (!text) return text.error();
    if (*text) {
      auto threads = threads_from(**text);
      if (!threads) return store_error(data_file_ + ": " + threads.error().message);
      std::lock_guard lock(mu_);
      replace_all_locked(std::move(*threads));
      generation_ = 0;
      saved_generation_ = 0;
    }
  }
  std::lock_guard lock(mu_);
  loaded_ = true;
  return ok_status();
}

Status ThreadStore::save_if_dirty() {
  std::lock_guard save_lock(save_mu_);
  if (data_file_.empty()) return ok_status();
  std::uint64_t generation = 0;
  std::vector<ThreadPtr> snapshot;
  {
    std::lock_guard lock(mu_);
    if (!loaded_) {
      return store_error(data_file_ +
                         ": not saved: load() has not succeeded, so saving could overwrite "
                         "threads that were never read");
    }
    if (generation_ == saved_generation_) return ok_status();
    generation = generation_;
    snapshot.reserve(by_id_.size());
    for (const auto& [id, thread] : by_id_) snapshot.push_back(thread);
  }
  // Everything below runs without mu_: requests keep being served while the file is written.
  std::sort(snapshot.begin(), snapshot.end(), [](const ThreadPtr& a, const ThreadPtr& b) {
    return a->created_sequence < b->created_sequence;
  });
  if (auto st = write_atomically(data_file_, store_json(snapshot)); !st) return st;
  saved_generation_ = generation;
  return ok_status();
}

}  // namespace gt::emulator
