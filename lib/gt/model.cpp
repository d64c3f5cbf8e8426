#include "gt/model.hpp"

namespace gt {

const char* to_string(BodyType type) {
  return type == BodyType::kHtml ? "html" : "text";
}

}  // namespace gt
