// app/cli: the command tree. run() is what main() trampolines into; tests call it with fakes, or
// parse_command_line() alone to check how argv lands in the options structs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/auth_command.hpp"
#include "app/create_command.hpp"
#include "app/deps.hpp"
#include "app/doctor_command.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"
#include "app/list_command.hpp"
#include "app/thread_commands.hpp"

namespace gt::app {

inline constexpr const char* kProgram = "graph-threads";

// The CLI11 tree and the plain structs its flags are bound to.
struct CommandLine {
  CommandLine();
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  std::unique_ptr<CLI::App> app;
  GlobalOptions globals;
  CreateOptions create;
  ListOptions list;
  AuthOptions auth;
  GetOptions get;
  ReplyOptions reply;
  LockOptions lock;
  LockOptions unlock;
  DeleteOptions del;
  DoctorOptions doctor;
  CLI::App* create_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* auth_cmd = nullptr;
  CLI::App* get_cmd = nullptr;
  CLI::App* reply_cmd = nullptr;
  CLI::App* lock_cmd = nullptr;
  CLI::App* unlock_cmd = nullptr;
  CLI::App* delete_cmd = nullptr;
  CLI::App* doctor_cmd = nullptr;
};

// Parses `args` (without the program name) into `cl`. Returns an exit code when parsing alone
// settles the run: 0 after printing help or the version on stdout, 2 after printing a usage error
// on stderr. Returns nullopt when a command should run.
std::optional<int> parse_command_line(CommandLine& cl, const std::vector<std::string>& args,
                                      Io& io);

// Parses `args`, runs the chosen command and returns the exit code.
int run(const std::vector<std::string>& args, Io& io, const Env& env, Deps& deps);

}  // namespace gt::app
