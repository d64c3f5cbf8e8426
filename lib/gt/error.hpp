// gt/error: failures as values.
//
// Every fallible operation in graph-threads returns a Result<T>. A failed Result carries an Error
// whose `kind` says how the process must exit; the kind -> exit code mapping lives in exactly one
// place (exit_code() below), so the whole tool speaks the same exit-code contract:
//
//   0   created / success
//   1   Microsoft Graph answered with an error (after any retries)
//   2   usage or input error; nothing was sent
//   3   authentication: no token, 401 or 403, or a token that cannot do this operation
//   4   network or TLS failure before the request was written; nothing can have been created
//   5   outcome unknown: the request was written but no complete answer arrived
//   130 interrupted (SIGINT)
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gt {

// The value of each kind IS its exit code.
enum class ErrorKind : int {
  kGraph = 1,
  kUsage = 2,
  kAuth = 3,
  kNetwork = 4,
  kOutcomeUnknown = 5,
  kInterrupted = 130,
};

// A failure. `message` is one line meant for a human ("--group: must not be empty"); the optional
// fields carry what a support ticket needs when the failure came from an HTTP exchange.
struct Error {
  Error() = default;
  Error(ErrorKind k, std::string msg, std::string h = {})
      : kind(k), message(std::move(msg)), hint(std::move(h)) {}

  ErrorKind kind = ErrorKind::kUsage;
  std::string message;
  std::string hint;               // what to do about it; may be empty
  int http_status = 0;            // 0 when no HTTP status was received
  std::string code;               // Graph error.code, e.g. "ErrorAccessDenied"
  std::string request_id;         // Graph request-id (header or innerError)
  std::string client_request_id;  // the id we sent with the last attempt
  std::string date;               // Graph innerError.date or the Date header

  static Error usage(std::string msg) { return {ErrorKind::kUsage, std::move(msg)}; }
  static Error auth(std::string msg, std::string hint = {}) {
    return {ErrorKind::kAuth, std::move(msg), std::move(hint)};
  }
  static Error network(std::string msg) { return {ErrorKind::kNetwork, std::move(msg)}; }
};

// The exit code of a failure of this kind. The single place where kinds become exit codes.
int exit_code(ErrorKind kind);

// Short human name of a kind ("usage error", "outcome unknown", ...), used in messages and docs.
const char* kind_name(ErrorKind kind);

// Result<T>: either a T or an Error. Deliberately small; C++20 has no std::expected.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that produces no value.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

}  // namespace gt
