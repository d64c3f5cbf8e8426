#include "gt/jq_filter.hpp"

extern "C" {
#include <jq.h>
}

#include <string>
#include <vector>

namespace gt {

namespace {

// A jv we own, freed when it goes out of scope.
class Jv {
 public:
  explicit Jv(jv value) : value_(value) {}
  Jv(const Jv&) = delete;
  Jv& operator=(const Jv&) = delete;
  ~Jv() { jv_free(value_); }
  jv copy() const { return jv_copy(value_); }
  jv_kind kind() const { return jv_get_kind(value_); }

 private:
  jv value_;
};

// The text of a message jq hands over: strings as they are, anything else as JSON.
std::string message_text(jv message) {
  if (jv_get_kind(message) == JV_KIND_STRING) {
    std::string text = jv_string_value(message);
    jv_free(message);
    return text;
  }
  jv dumped = jv_dump_string(message, 0);
  std::string text = jv_string_value(dumped);
  jv_free(dumped);
  return text;
}

std::string json_of(jv value) {
  jv dumped = jv_dump_string(value, 0);
  std::string text(jv_string_value(dumped),
                   static_cast<std::size_t>(jv_string_length_bytes(jv_copy(dumped))));
  jv_free(dumped);
  return text;
}

// A raw string result, made safe for a terminal: control characters other than tab and newline
// (ESC above all) are dropped.
std::string raw_string(jv value) {
  const char* data = jv_string_value(value);
  const auto size = static_cast<std::size_t>(jv_string_length_bytes(jv_copy(value)));
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) continue;
    // C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8.
    if (c == 0xC2 && i + 1 < size && static_cast<unsigned char>(data[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(data[i + 1]) <= 0x9F) {
      ++i;
      continue;
    }
    out += static_cast<char>(c);
  }
  jv_free(value);
  return out;
}

}  // namespace

struct JqFilter::State {
  jq_state* jq = nullptr;
  std::vector<std::string> messages;  // what jq reported through the error callback
  ~State() {
    if (jq) jq_teardown(&jq);
  }
};

JqFilter::JqFilter(std::unique_ptr<State> state) : state_(std::move(state)) {}
JqFilter::JqFilter(JqFilter&&) noexcept = default;
JqFilter& JqFilter::operator=(JqFilter&&) noexcept = default;
JqFilter::~JqFilter() = default;

Result<JqFilter> JqFilter::compile(std::string_view program) {
  auto state = std::make_unique<State>();
  state->jq = jq_init();
  if (state->jq == nullptr) return Error::usage("--jq: cannot start jq (out of memory)");
  jq_set_error_cb(
      state->jq,
      [](void* data, jv message) {
        static_cast<State*>(data)->messages.push_back(message_text(message));
      },
      state.get());
  const std::string text(program);
  if (!jq_compile(state->jq, text.c_str())) {
    // jq reports "jq: error: <what> at <top-level>, line 1:\n<program>" per error, then
    // "jq: N compile error(s)"; the first lines say what is wrong.
    std::string message;
    for (const std::string& m : state->messages) {
      if (m.starts_with("jq: ") && m.find("compile error") != std::string::npos) continue;
      std::string line = m.starts_with("jq: error: ") ? m.substr(11) : m;
      message += (message.empty() ? "" : "; ") + line;
    }
    if (message.empty()) message = "the program does not compile";
    return Error::usage("--jq: " + message);
  }
  state->messages.clear();
  return JqFilter(std::move(state));
}

Status JqFilter::run(std::string_view json, std::ostream& out, const JsonLayout& layout) {
  Jv input(jv_parse_sized(json.data(), static_cast<int>(json.size())));
  if (input.kind() == JV_KIND_INVALID) {
    return Error::usage("--jq: the command's output is not JSON, so it cannot be filtered");
  }
  jq_start(state_->jq, input.copy(), 0);
  for (;;) {
    jv result = jq_next(state_->jq);
    if (jv_get_kind(result) == JV_KIND_INVALID) {
      if (jv_invalid_has_msg(jv_copy(result))) {
        std::string message = message_text(jv_invalid_get_msg(result));
        return Error::usage("--jq: " + message);
      }
      jv_free(result);
      break;
    }
    if (jv_get_kind(result) == JV_KIND_STRING) {
      out << raw_string(result) << '\n';
    } else {
      out << layout_json(json_of(result), layout) << '\n';
    }
  }
  out.flush();
  return ok_status();
}

}  // namespace gt
