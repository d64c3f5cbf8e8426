// app/env: the process's surroundings as injectable values — standard streams and whether they
// are terminals (Io), environment variables and files (Env). Tests pass string streams and maps.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gt/error.hpp"

namespace gt::app {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool in_is_tty = false;
  bool out_is_tty = false;
  bool err_is_tty = false;
  std::size_t out_width = 0;  // terminal columns of stdout; 0 when not a terminal
  // Whether ANSI colour goes to stdout / stderr: set by run() from color_wanted().
  bool out_color = false;
  bool err_color = false;
};

// Largest file graph-threads reads (JSON input, body files, token files). Graph's request size
// limit is a few MB; anything bigger is a mistake, not a message.
inline constexpr std::size_t kMaxInputBytes = 16 * 1024 * 1024;

class Env {
 public:
  virtual ~Env() = default;
  // The variable's value; nullopt when unset. Set-but-empty is returned as "".
  virtual std::optional<std::string> get(std::string_view name) const = 0;
  // Reads a whole file. Fails (kUsage) naming `what` ("--body-file notes.txt") when it cannot be
  // read, is a directory, or is larger than `limit` bytes.
  virtual Result<std::string> read_file(const std::string& path, std::string_view what,
                                        std::size_t limit) const = 0;
};

// The real process environment and file system.
class ProcessEnv final : public Env {
 public:
  std::optional<std::string> get(std::string_view name) const override;
  Result<std::string> read_file(const std::string& path, std::string_view what,
                                std::size_t limit) const override;
};

// A map of variables over the real file system (tests).
class MapEnv final : public Env {
 public:
  explicit MapEnv(std::map<std::string, std::string> vars = {}) : vars_(std::move(vars)) {}
  std::optional<std::string> get(std::string_view name) const override;
  Result<std::string> read_file(const std::string& path, std::string_view what,
                                std::size_t limit) const override;
  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

 private:
  std::map<std::string, std::string> vars_;
};

// Whether a stream should carry ANSI colour, from whether it is a terminal and the environment
// (https://no-color.org, https://bixense.com/clicolors):
//   NO_COLOR set and not empty            never (it wins over everything, as both specs say)
//   CLICOLOR_FORCE set, not empty or "0"  always, even into a pipe or file
//   CLICOLOR=0, or TERM=dumb              never
//   otherwise                             when the stream is a terminal
bool color_wanted(bool is_tty, const Env& env);

// Reads all of `in` up to `limit` bytes; kUsage naming `what` when it is longer.
Result<std::string> read_stream(std::istream& in, std::string_view what, std::size_t limit);

// The text of a post from --body-file PATH ("-": stdin), at most kMaxInputBytes. Fails (kUsage)
// naming the flag when it cannot be read, is too large, or is empty.
Result<std::string> read_body_file(const std::string& path, const Env& env, Io& io);

}  // namespace gt::app
