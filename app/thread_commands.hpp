// app/thread_commands: the commands on one existing thread —
//   graph-threads get    --group ID THREAD_ID                 GET    /groups/{g}/threads/{t}
//   graph-threads reply  --group ID THREAD_ID --body TEXT     POST   /groups/{g}/threads/{t}/reply
//   graph-threads lock   --group ID THREAD_ID                 PATCH  {"isLocked": true}
//   graph-threads unlock --group ID THREAD_ID                 PATCH  {"isLocked": false}
//   graph-threads delete --group ID THREAD_ID [--yes]         DELETE /groups/{g}/threads/{t}
//
// Each has an options struct, a setup_…() that only wires flags, and a run_…() that acts after
// parsing. Both ids are percent-encoded as one path segment each (Graph's thread ids are base64
// with '/', '+' and '='). Output:
//   get          the thread, with -o json|table|id, as create prints it
//   reply        nothing on stdout, whatever -o says (Graph answers 202 with no body)
//   lock/unlock  nothing on stdout; with -o id, the thread id (so the command chains)
//   delete       nothing on stdout
// On a terminal, reply/lock/unlock/delete say what they did on stderr.
//
// Retries (gt/graph_client): get, lock, unlock and delete are idempotent and retried after
// 429/503/504 and connection failures; reply is a POST that adds a post, so like create it is
// never re-sent once a byte was written, and a 504 is "outcome unknown" (exit 5). get, reply,
// lock and unlock retry a 404 three times over about 5 s (Graph may not know a thread yet right
// after creating it), then exit 1 with a hint that the id may be wrong.
//
// Tokens: get, lock, unlock and delete accept app-only tokens; reply needs a delegated (user)
// token and refuses an app-only one before sending anything (exit 3), as create does.
#pragma once

#include <string>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace gt::app {

struct GetOptions {
  std::string group;
  std::string thread;  // THREAD_ID
};

struct ReplyOptions {
  std::string group;
  std::string thread;        // THREAD_ID
  std::string body;          // --body
  std::string body_file;     // --body-file FILE or "-"
  std::string content_type;  // --content-type text|html; "" = text
  CLI::Option* body_opt = nullptr;
};

// lock and unlock: the same flags.
struct LockOptions {
  std::string group;
  std::string thread;  // THREAD_ID
};

struct DeleteOptions {
  std::string group;
  std::string thread;  // THREAD_ID
  bool yes = false;    // --yes: do not ask
};

CLI::App* setup_get(CLI::App& app, GetOptions& options);
CLI::App* setup_reply(CLI::App& app, ReplyOptions& options);
// Adds `lock` (lock = true) or `unlock`.
CLI::App* setup_lock(CLI::App& app, LockOptions& options, bool lock);
CLI::App* setup_delete(CLI::App& app, DeleteOptions& options);

// GET the thread and print it (-o json|table|id). Returns the exit code.
int run_get(const GetOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
            Deps& deps);

// POST a reply with the body from --body or --body-file (exactly one; an empty body is a usage
// error). Refuses app-only tokens before sending (exit 3). Returns the exit code.
int run_reply(const ReplyOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
              Deps& deps);

// PATCH isLocked to `lock`. Returns the exit code.
int run_lock(const LockOptions& options, bool lock, const GlobalOptions& globals, Io& io,
             const Env& env, Deps& deps);

// DELETE the thread. Without --yes: when stdin and stderr are terminals, asks
// "Delete thread X in group Y? [y/N]" on stderr and reads one line from stdin; anything but
// y/yes exits 2 with nothing sent. When they are not terminals, refuses (exit 2, nothing sent)
// and says to pass --yes. --dry-run neither asks nor sends. Returns the exit code.
int run_delete(const DeleteOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps);

}  // namespace gt::app
