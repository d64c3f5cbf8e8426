// app/create_command: `graph-threads create` — post a new conversation thread to a group.
//
// setup_create() only wires flags into CreateOptions; run_create() acts after parsing is done.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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
  std::string input;  // FILE or "-": a conversationThread, or many (NDJSON or a JSON array)
  bool if_not_exists = false;  // --if-not-exists: create only when no thread has the topic

  // Bulk creation (see app/bulk_create.hpp).
  bool bulk = false;            // --bulk: result lines even for a single item
  std::size_t concurrency = 4;  // --concurrency
  bool batch = false;           // --batch
  std::string max_rate;         // --max-rate "10/s", "600/min", "5"
  bool validate_only = false;   // --validate-only
  bool reconcile = false;       // --reconcile
  double reconcile_delay = 2;   // --reconcile-delay SECONDS: before the first look
  std::string resume;           // --resume RESULTS.ndjson
  bool no_progress = false;     // --no-progress

  // Which flags were given (flags override the --input fields they name; defaults do not).
  CLI::Option* group_opt = nullptr;
  CLI::Option* topic_opt = nullptr;
  CLI::Option* body_opt = nullptr;
  CLI::Option* content_type_opt = nullptr;
  CLI::Option* concurrency_opt = nullptr;
  CLI::Option* max_rate_opt = nullptr;

  // Whether a flag that only makes sense for many items was given.
  bool bulk_flag_given() const;
};

// What the flags say about every thread: applied over each --input item (or an empty thread).
struct ThreadOverrides {
  std::optional<std::string> topic;
  std::optional<std::string> body;
  std::optional<BodyType> content_type;
  std::optional<std::vector<Recipient>> to, cc, participants;
};

// Reads and checks the flags (recipients parsed, --body-file read once). Fails (kUsage) naming
// the flag.
Result<ThreadOverrides> read_overrides(const CreateOptions& options, const Env& env, Io& io);

// Applies `overrides` to `thread`, fills the default content type, and validates. Fails (kUsage)
// with the JSON path of the problem, prefixed by `where` when not empty ("item 3 (line 4): ").
Result<ThreadRequest> finish_thread(ThreadRequest thread, const ThreadOverrides& overrides,
                                    std::string_view where);

// Adds the `create` subcommand to `app`, binding its flags to `options`.
CLI::App* setup_create(CLI::App& app, CreateOptions& options);

// Assembles the one thread of a single create from `input_text` (the --input document, or
// nullopt) and flags: JSON first, then every given flag overrides the field it names, then the
// default content type fills a body that has none. Warnings (dropped service-computed
// properties) go to `warnings`. Fails (kUsage) naming the flag or JSON path.
Result<ThreadRequest> build_thread_request(const CreateOptions& options,
                                           const std::optional<std::string>& input_text,
                                           const ThreadOverrides& overrides,
                                           std::vector<std::string>& warnings);

// Runs the command. Returns the exit code.
int run_create(const CreateOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps);

}  // namespace gt::app
