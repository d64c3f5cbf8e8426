#include "gt/validate.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include "gt/address.hpp"
#include "gt/utf8.hpp"

namespace gt {
namespace {

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  });
}

std::string indexed(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

class Validator {
 public:
  explicit Validator(std::vector<JsonIssue>& issues) : issues_(issues) {}

  void thread(const ThreadRequest& r) {
    topic(r.topic);
    if (r.to_recipients) recipients(*r.to_recipients, "toRecipients");
    if (r.cc_recipients) recipients(*r.cc_recipients, "ccRecipients");
    if (!r.posts || r.posts->empty()) {
      add("posts",
          R"(required: give --body TEXT, --body-file FILE or "posts[0].body" in the --input JSON)");
      return;
    }
    if (r.posts->size() > 1) {
      add("posts",
          "expected exactly one post (Graph creates the thread with its first post), got " +
              std::to_string(r.posts->size()));
    }
    post(r.posts->front(), "posts[0]");
  }

 private:
  void add(std::string path, std::string message) {
    issues_.push_back({std::move(path), std::move(message)});
  }

  // JSON text must be UTF-8; a stray Latin-1 byte from a shell or file would make Graph reject
  // the whole body with a far less helpful message.
  bool utf8(const std::string& value, const std::string& path) {
    const std::size_t at = invalid_utf8_at(value);
    if (at == std::string_view::npos) return true;
    add(path,
        "must be valid UTF-8 (byte " + std::to_string(at) + " is not; re-save the text as UTF-8)");
    return false;
  }

  void topic(const std::optional<std::string>& t) {
    if (!t) {
      add("topic", R"(required: give --topic TEXT or "topic" in the --input JSON)");
    } else if (is_blank(*t)) {
      add("topic", "must not be blank");
    } else {
      utf8(*t, "topic");
    }
  }

  void post(const Post& p, const std::string& path) {
    // Spelled only for an issue: this runs for every item of a bulk run.
    const auto content_path = [&] { return path + ".body.content"; };
    if (!p.body || !p.body->content) {
      add(content_path(), "required: give --body TEXT, --body-file FILE or \"" + content_path() +
                              "\" in the --input JSON");
    } else if (p.body->content->empty()) {
      add(content_path(), "must not be empty");
    } else if (invalid_utf8_at(*p.body->content) != std::string_view::npos) {
      utf8(*p.body->content, content_path());
    }
    if (p.new_participants) recipients(*p.new_participants, path + ".newParticipants");
    if (p.from) recipient(*p.from, path + ".from");
    if (p.sender) recipient(*p.sender, path + ".sender");
    if (p.categories) categories(*p.categories, path + ".categories");
  }

  void recipients(const std::vector<Recipient>& rs, const std::string& path) {
    for (std::size_t i = 0; i < rs.size(); ++i) recipient(rs[i], indexed(path, i));
  }

  void recipient(const Recipient& r, const std::string& path) {
    const std::string& address = r.email_address.address;
    const std::string address_path = path + ".emailAddress.address";
    if (r.email_address.name) utf8(*r.email_address.name, path + ".emailAddress.name");
    if (address.empty()) {
      add(address_path, "required: an email address like a@b.example");
    } else if (const std::string problem = address_problem(address); !problem.empty()) {
      add(address_path, "expected an email address like a@b.example (" + problem + ")");
    }
  }

  void categories(const std::vector<std::string>& cs, const std::string& path) {
    for (std::size_t i = 0; i < cs.size(); ++i) {
      if (cs[i].empty()) {
        add(indexed(path, i), "must not be empty");
      } else if (is_blank(cs[i])) {
        add(indexed(path, i), "must not be blank");
      } else {
        utf8(cs[i], indexed(path, i));
      }
    }
  }

  std::vector<JsonIssue>& issues_;
};

}  // namespace

std::vector<JsonIssue> validate_thread_request(const ThreadRequest& request) {
  std::vector<JsonIssue> issues;
  Validator(issues).thread(request);
  return issues;
}

}  // namespace gt
