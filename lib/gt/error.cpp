#include "gt/error.hpp"

namespace gt {

int exit_code(ErrorKind kind) {
  return static_cast<int>(kind);
}

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kGraph:
      return "Graph error";
    case ErrorKind::kUsage:
      return "usage error";
    case ErrorKind::kAuth:
      return "authentication error";
    case ErrorKind::kNetwork:
      return "network error";
    case ErrorKind::kOutcomeUnknown:
      return "outcome unknown";
    case ErrorKind::kInterrupted:
      return "interrupted";
  }
  return "error";
}

}  // namespace gt
