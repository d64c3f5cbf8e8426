// gt/jq_filter: --jq, a jq program run over the JSON a command prints (libjq; the only file that
// includes jq.h is jq_filter.cpp).
//
// Output follows gh's --jq: each result on its own line; a string result printed raw (no quotes,
// escapes decoded, control characters other than tab and newline removed, so service text cannot
// drive the terminal), any other result as JSON laid out per JsonLayout (gh indents and colours on
// a terminal, and writes compact JSON otherwise).
#pragma once

#include <memory>
#include <ostream>
#include <string_view>

#include "gt/error.hpp"
#include "gt/json_codec.hpp"

namespace gt {

class JqFilter {
 public:
  // Compiles `program`. Fails (kUsage) with "--jq: " and jq's own message(s) when it does not
  // compile (syntax errors, unknown functions); this happens before anything is sent.
  static Result<JqFilter> compile(std::string_view program);

  JqFilter(JqFilter&&) noexcept;
  JqFilter& operator=(JqFilter&&) noexcept;
  ~JqFilter();

  // Runs the program over one JSON document and writes its results to `out`. Fails (kUsage,
  // "--jq: " + jq's message) when the program raises an error at run time (".a" on a string,
  // error("...")); results before the error are written. Fails (kUsage) when `json` does not
  // parse. Not thread-safe: one run at a time.
  Status run(std::string_view json, std::ostream& out, const JsonLayout& layout);

 private:
  struct State;
  explicit JqFilter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace gt
