#include "gt/batch.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

namespace json = boost::json;

TEST_SUITE("batch") {
  TEST_CASE("encode_batch: parts with their bodies embedded, Content-Type per part") {
    const std::string text =
        gt::encode_batch({{"0", "POST", "/groups/g%2F1/threads", R"({"topic":"a"})"},
                          {"1", "GET", "/groups/g/threads", ""}});
    const json::value v = json::parse(text);
    const auto& parts = v.at("requests").as_array();
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].at("id") == "0");
    CHECK(parts[0].at("method") == "POST");
    CHECK(parts[0].at("url") == "/groups/g%2F1/threads");
    CHECK(parts[0].at("headers").at("Content-Type") == "application/json");
    CHECK(parts[0].at("body").at("topic") == "a");
    CHECK_FALSE(parts[1].as_object().contains("body"));
    CHECK_FALSE(parts[1].as_object().contains("headers"));
  }

  TEST_CASE("encode_batch quotes ids and urls") {
    const json::value v = json::parse(gt::encode_batch({{"a\"b", "POST", "/x\\y", "{}"}}));
    CHECK(v.at("requests").at(0).at("id") == "a\"b");
    CHECK(v.at("requests").at(0).at("url") == "/x\\y");
  }

  TEST_CASE("decode_batch_response: status, headers and body of each part") {
    auto r = gt::decode_batch_response(
        R"({"responses":[{"id":"1","status":429,"headers":{"Retry-After":"3"}},)"
        R"({"id":"0","status":201,"body":{"id":"T1","topic":"a"}}]})");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].id == "1");
    CHECK((*r)[0].response.status == 429);
    CHECK((*r)[0].response.header("retry-after") == "3");
    CHECK((*r)[0].response.body.empty());
    CHECK((*r)[1].response.status == 201);
    CHECK(json::parse((*r)[1].response.body).at("id") == "T1");
  }

  TEST_CASE("decode_batch_response refuses what is not a batch answer") {
    for (const char* body :
         {"", "[]", R"({"value":[]})", R"({"responses":[{"status":201}]})",
          R"({"responses":[{"id":"1","status":"201"}]})", R"({"responses":[1]})"}) {
      CAPTURE(body);
      auto r = gt::decode_batch_response(body);
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == gt::ErrorKind::kGraph);
    }
  }
}
