#include "app/env.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <istream>

namespace gt::app {

namespace {

Result<std::string> read_real_file(const std::string& path, std::string_view what,
                                   std::size_t limit) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::usage(std::string(what) + ": cannot read " + path + " (" + std::strerror(errno) +
                        ")");
  }
  if (S_ISDIR(st.st_mode)) {
    return Error::usage(std::string(what) + ": " + path + " is a directory, expected a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::usage(std::string(what) + ": cannot open " + path + " (" + std::strerror(errno) +
                        ")");
  }
  // Named pipes and process substitution (<(...)) have no size: read_stream enforces the limit.
  return read_stream(in, what, limit);
}

}  // namespace

Result<std::string> read_stream(std::istream& in, std::string_view what, std::size_t limit) {
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > limit) {
      return Error::usage(std::string(what) + ": input is larger than " +
                          std::to_string(limit / (1024 * 1024)) + " MiB");
    }
  }
  return data;
}

std::optional<std::string> ProcessEnv::get(std::string_view name) const {
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

Result<std::string> ProcessEnv::read_file(const std::string& path, std::string_view what,
                                          std::size_t limit) const {
  return read_real_file(path, what, limit);
}

std::optional<std::string> MapEnv::get(std::string_view name) const {
  const auto it = vars_.find(std::string(name));
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> MapEnv::read_file(const std::string& path, std::string_view what,
                                      std::size_t limit) const {
  return read_real_file(path, what, limit);
}

bool color_wanted(bool is_tty, const Env& env) {
  const auto set = [&](std::string_view name) {
    const auto v = env.get(name);
    return v && !v->empty();
  };
  if (set("NO_COLOR")) return false;
  if (set("CLICOLOR_FORCE") && env.get("CLICOLOR_FORCE") != "0") return true;
  if (env.get("CLICOLOR") == "0" || env.get("TERM") == "dumb") return false;
  return is_tty;
}

Result<std::string> read_body_file(const std::string& path, const Env& env, Io& io) {
  const std::string what = "--body-file " + path;
  Result<std::string> text = path == "-" ? read_stream(io.in, what, kMaxInputBytes)
                                         : env.read_file(path, "--body-file", kMaxInputBytes);
  if (!text) return text;
  if (text->empty()) return Error::usage(what + ": the file is empty");
  return text;
}

}  // namespace gt::app
