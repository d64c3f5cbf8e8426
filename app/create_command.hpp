// app/create_command: `graph-threads create` — post a new conversation thread to a group.
//
// setup_create() only wires flags into CreateOptions; run_create() acts after parsing is done.
#pragma once

#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"
#include "gt/error.hpp"
#include "gt/model.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace gt::app {

struct CreateOptions {
  std::string group;
  std::string topic;
  std::string body;
  std::string body_file;  // FILE or "-"
  std::string content_type = "text";
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::vector<std::string> participants;
  std::string input;  // FILE or "-": a JSON conversationThread

  // Which flags were given (flags override the --input fields they name; defaults do not).
  CLI::Option* topic_opt = nullptr;
  CLI::Option* body_opt = nullptr;
  CLI::Option* content_type_opt = nullptr;
};

// Adds the `create` subcommand to `app`, binding its flags to `options`.
CLI::App* setup_create(CLI::App& app, CreateOptions& options);

// Assembles the thread from --input and flags: JSON first, then every given flag overrides the
// field it names, then the flag default content type fills a body that has none. Warnings (dropped
// service-computed properties) go to `warn`. Fails (kUsage) naming the flag or JSON path.
Result<ThreadRequest> build_thread_request(const CreateOptions& options, const Env& env, Io& io,
                                           std::vector<std::string>& warnings);

// Runs the command. Returns the exit code.
int run_create(const CreateOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps);

}  // namespace gt::app
