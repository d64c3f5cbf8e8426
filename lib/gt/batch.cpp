#include "gt/batch.hpp"

#include <boost/json.hpp>

#include "gt/json_codec.hpp"

namespace gt {

namespace json = boost::json;

std::string encode_batch(const std::vector<BatchPart>& parts) {
  // Built as text: the bodies are already encoded and are embedded as they are, so a batch of 20
  // threads is not parsed and serialized a second time.
  std::string out = "{\"requests\":[";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const BatchPart& p = parts[i];
    if (i > 0) out += ',';
    out += "{\"id\":" + json_quote(p.id) + ",\"method\":" + json_quote(p.method) +
           ",\"url\":" + json_quote(p.url);
    if (!p.json_body.empty()) {
      out += ",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":";
      out += p.json_body;
    }
    out += '}';
  }
  out += "]}";
  return out;
}

Result<std::vector<BatchAnswer>> decode_batch_response(std::string_view body) {
  const auto bad = [](const std::string& why) {
    return Error(ErrorKind::kGraph, "Graph's $batch answer is not usable: " + why);
  };
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) return bad("not JSON (" + ec.message() + ")");
  const json::object* root = doc.if_object();
  const json::value* responses = root ? root->if_contains("responses") : nullptr;
  if (!responses || !responses->is_array()) return bad("no \"responses\" array");
  std::vector<BatchAnswer> out;
  for (const json::value& v : responses->get_array()) {
    const json::object* o = v.if_object();
    if (!o) return bad("a response is not an object");
    BatchAnswer a;
    const json::value* id = o->if_contains("id");
    const json::value* status = o->if_contains("status");
    if (!id || !id->is_string()) return bad("a response has no string \"id\"");
    if (!status || !status->is_int64()) return bad("a response has no numeric \"status\"");
    a.id = std::string(id->get_string());
    a.response.status = static_cast<int>(status->get_int64());
    if (const json::value* h = o->if_contains("headers"); h && h->is_object()) {
      for (const auto& [name, value] : h->get_object()) {
        std::string text =
            value.is_string() ? std::string(value.get_string()) : json::serialize(value);
        a.response.headers.push_back({std::string(name), std::move(text)});
      }
    }
    if (const json::value* b = o->if_contains("body"); b && !b->is_null()) {
      a.response.body = json::serialize(*b);
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace gt
