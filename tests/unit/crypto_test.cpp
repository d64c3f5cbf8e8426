// gt/crypto: hashing, base64url, loading a certificate + key PEM, and client assertions, checked
// against an independent implementation (support/rsa_assertion.hpp), OpenSSL's verifier, and the
// emulator's token endpoint.
#include "gt/crypto.hpp"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/identity_service.hpp"
#include "gt/http.hpp"
#include "support/jwt.hpp"
#include "support/rsa_assertion.hpp"

namespace {

using gt::AssertionAlg;
using gt::ClientCertificate;
using gt::test::RsaCredential;
using std::chrono::hours;
using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

// 2026-11-27T15:00:00Z
const TimePoint kStart = TimePoint(seconds(1795791600));
constexpr std::int64_t kStartEpoch = 1795791600;
constexpr const char* kClientId = "6731de76-14a6-49ae-97bc-6eba6914391e";
constexpr const char* kAudience =
    "https://127.0.0.1:8443/contoso.onmicrosoft.com/oauth2/v2.0/token";
constexpr const char* kJti = "8f1c3a44-3c1d-4b1e-9c52-5f6a7b8c9d0e";

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
template <class T, void (*F)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, F>>;

struct Pki {
  RsaCredential app, other;
  static const Pki& get() {
    static const Pki pki = [] {
      Pki p;
      p.app =
          gt::test::make_rsa_credential("cert app", kStart - hours(24), kStart + hours(24 * 365));
      p.other = gt::test::make_rsa_credential("other", kStart - hours(24), kStart + hours(24));
      return p;
    }();
    return pki;
  }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

enum class KeyForm { kPkcs8, kPkcs1, kEncryptedPkcs8, kEncryptedPkcs1 };

// The key as PEM: "PRIVATE KEY", "RSA PRIVATE KEY", or encrypted in either form.
std::string key_pem(EVP_PKEY* key, KeyForm form) {
  Ptr<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  REQUIRE(bio);
  static unsigned char pass[] = "secret";
  switch (form) {
    case KeyForm::kPkcs8:
      REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr));
      break;
    case KeyForm::kPkcs1:
      REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                   nullptr));
      break;
    case KeyForm::kEncryptedPkcs8:
      REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                            reinterpret_cast<char*>(pass), 6, nullptr, nullptr));
      break;
    case KeyForm::kEncryptedPkcs1:
      REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), key, EVP_aes_256_cbc(), pass, 6,
                                                   nullptr, nullptr));
      break;
  }
  return bio_text(bio.get());
}

std::string app_pem(KeyForm form = KeyForm::kPkcs8) {
  return Pki::get().app.cert_pem + key_pem(Pki::get().app.key.get(), form);
}

std::string decode_base64url(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    const auto v = kAlphabet.find(c);
    REQUIRE_MESSAGE(v != std::string_view::npos, in);
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::vector<std::string> split_jws(const std::string& jws) {
  const auto a = jws.find('.');
  const auto b = jws.find('.', a + 1);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(jws.find('.', b + 1) == std::string::npos);
  return {jws.substr(0, a), jws.substr(a + 1, b - a - 1), jws.substr(b + 1)};
}

// Verifies with OpenSSL directly: RS256, or PS256 with exactly `pss_salt_length` bytes of salt.
bool verifies(EVP_PKEY* key, std::string_view input, std::string_view signature, AssertionAlg alg,
              int pss_salt_length = 32) {
  Ptr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) == 1);
  if (alg == AssertionAlg::kPs256) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt_length) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1);
  } else {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1);
  }
  const int r = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(input.data()), input.size());
  ERR_clear_error();
  return r == 1;
}

ClientCertificate load_app(KeyForm form = KeyForm::kPkcs8) {
  auto cert = ClientCertificate::load(app_pem(form), "app.pem");
  REQUIRE_MESSAGE(cert, (cert ? "" : cert.error().message));
  return std::move(cert).value();
}

void check_fails(const std::string& pem, std::string_view fragment) {
  auto cert = ClientCertificate::load(pem, "AZURE_CLIENT_CERTIFICATE_PATH /x/app.pem");
  REQUIRE_FALSE(cert);
  const auto& e = cert.error();
  CAPTURE(e.message);
  CHECK(e.kind == gt::ErrorKind::kUsage);
  CHECK(e.message.starts_with("AZURE_CLIENT_CERTIFICATE_PATH /x/app.pem: "));
  CHECK(e.message.find(fragment) != std::string::npos);
  CHECK(ERR_peek_error() == 0);  // nothing left on OpenSSL's error queue
}

}  // namespace

TEST_SUITE("crypto") {
  TEST_CASE("sha256_hex: the FIPS 180-2 vectors, lower-case hex") {
    CHECK(gt::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(gt::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(gt::sha256_hex(std::string("a\0b", 3)) != gt::sha256_hex("a"));
  }

  TEST_CASE("base64url_encode: RFC 4648 vectors, URL alphabet, no padding") {
    struct Case {
      std::string_view in;
      const char* out;
    };
    for (const Case c :
         {Case{"", ""}, Case{"f", "Zg"}, Case{"fo", "Zm8"}, Case{"foo", "Zm9v"},
          Case{"foob", "Zm9vYg"}, Case{"fooba", "Zm9vYmE"}, Case{"foobar", "Zm9vYmFy"},
          Case{"\xfb\xff", "-_8"}, Case{std::string_view("\0\0\0", 3), "AAAA"}}) {
      CAPTURE(c.out);
      CHECK(gt::base64url_encode(c.in) == c.out);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37) {
      CHECK(gt::base64url_encode(all.substr(0, n)) == gt::test::base64url(all.substr(0, n)));
      CHECK(decode_base64url(gt::base64url_encode(all.substr(0, n))) == all.substr(0, n));
    }
  }

  TEST_CASE("load: thumbprints, subject and expiry match an independent computation") {
    const auto& app = Pki::get().app;
    const ClientCertificate cert = load_app();
    CHECK(cert.x5t() == gt::test::x5t(app));
    CHECK(cert.x5t_s256() == gt::test::x5t_s256(app));
    CHECK(cert.x5t().size() == 27);       // 20 bytes
    CHECK(cert.x5t_s256().size() == 43);  // 32 bytes
    CHECK(cert.subject() == "CN=cert app");
    CHECK(cert.not_after() == kStartEpoch + 365 * 24 * 3600);

    // RFC 2253 escaping, UTF-8 kept readable.
    const auto named = gt::test::make_rsa_credential("Zoë, Ltd", kStart, kStart + hours(1));
    auto loaded =
        ClientCertificate::load(named.cert_pem + key_pem(named.key.get(), KeyForm::kPkcs8), "z");
    REQUIRE(loaded);
    CHECK(loaded->subject() == "CN=Zoë\\, Ltd");
    CHECK(loaded->not_after() == kStartEpoch + 3600);
  }

  TEST_CASE("load: key and certificate in either order, PKCS#8 or PKCS#1, LF or CRLF") {
    const auto& app = Pki::get().app;
    const std::string pkcs8 = key_pem(app.key.get(), KeyForm::kPkcs8);
    const std::string pkcs1 = key_pem(app.key.get(), KeyForm::kPkcs1);
    REQUIRE(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    REQUIRE(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    std::string crlf;
    for (const char c : "Bag Attributes\n" + app.cert_pem + pkcs8) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    const std::string pems[] = {
        app.cert_pem + pkcs8, pkcs8 + app.cert_pem, app.cert_pem + pkcs1, pkcs1 + app.cert_pem,
        crlf,
        // a chain: another certificate before and after the right one
        Pki::get().other.cert_pem + pkcs8 + app.cert_pem + Pki::get().other.cert_pem};
    for (const auto& pem : pems) {
      CAPTURE(pem);
      auto cert = ClientCertificate::load(pem, "app.pem");
      REQUIRE_MESSAGE(cert, (cert ? "" : cert.error().message));
      CHECK(cert->x5t() == gt::test::x5t(app));
      CHECK(cert->subject() == "CN=cert app");
    }
  }

  TEST_CASE("load: every failure is a usage error naming the source") {
    const auto& app = Pki::get().app;
    const std::string key = key_pem(app.key.get(), KeyForm::kPkcs8);
    check_fails("", "no certificate");
    check_fails("not a PEM file at all\n", "no certificate");
    check_fails(key, "no certificate");
    check_fails(app.cert_pem, "no private key");
    check_fails(app.cert_pem + key + key, "more than one private key");

    const std::string encrypted8 = key_pem(app.key.get(), KeyForm::kEncryptedPkcs8);
    const std::string encrypted1 = key_pem(app.key.get(), KeyForm::kEncryptedPkcs1);
    REQUIRE(encrypted8.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    REQUIRE(encrypted1.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
    check_fails(app.cert_pem + encrypted8, "must be unencrypted");
    check_fails(encrypted1 + app.cert_pem, "must be unencrypted");

    // A key of another certificate.
    check_fails(app.cert_pem + key_pem(Pki::get().other.key.get(), KeyForm::kPkcs8),
                "does not belong to the certificate");

    // EC keys, in both PEM forms.
    Ptr<EVP_PKEY, EVP_PKEY_free> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    REQUIRE(ec);
    const std::string ec8 = key_pem(ec.get(), KeyForm::kPkcs8);
    const std::string ec1 = key_pem(ec.get(), KeyForm::kPkcs1);
    REQUIRE(ec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    check_fails(app.cert_pem + ec8, "RSA");
    check_fails(app.cert_pem + ec1, "RSA");

    // Damaged blocks.
    std::string broken_cert = app.cert_pem;
    broken_cert.replace(broken_cert.find('\n') + 1, 8, "!!!!!!!!");
    check_fails(broken_cert + key, "not a valid PEM file");
    const std::string junk_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    check_fails(junk_der + key, "certificate does not parse");
    const std::string junk_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    check_fails(app.cert_pem + junk_key, "private key does not parse");
  }

  TEST_CASE(
      "sign: RS256 is PKCS#1 v1.5 and PS256 is PSS with a 32-byte salt, as OpenSSL verifies") {
    const ClientCertificate cert = load_app(KeyForm::kPkcs1);
    EVP_PKEY* key = Pki::get().app.key.get();
    const std::string input = "header.payload";

    auto rs = cert.sign(input, AssertionAlg::kRs256);
    REQUIRE(rs);
    CHECK(rs->size() == 256);
    CHECK(verifies(key, input, *rs, AssertionAlg::kRs256));
    CHECK_FALSE(verifies(key, "header.payloaD", *rs, AssertionAlg::kRs256));
    CHECK_FALSE(verifies(Pki::get().other.key.get(), input, *rs, AssertionAlg::kRs256));
    CHECK(*cert.sign(input, AssertionAlg::kRs256) == *rs);  // deterministic

    auto ps = cert.sign(input, AssertionAlg::kPs256);
    REQUIRE(ps);
    CHECK(ps->size() == 256);
    CHECK(verifies(key, input, *ps, AssertionAlg::kPs256, 32));
    CHECK_FALSE(verifies(key, input, *ps, AssertionAlg::kPs256, RSA_PSS_SALTLEN_MAX));
    CHECK_FALSE(verifies(key, input, *ps, AssertionAlg::kRs256));
    CHECK(*cert.sign(input, AssertionAlg::kPs256) != *ps);  // a fresh salt each time

    // Copies share the key.
    const ClientCertificate copy = cert;
    CHECK(verifies(key, input, *copy.sign(input, AssertionAlg::kPs256), AssertionAlg::kPs256));
  }

  TEST_CASE("make_client_assertion: exact header and payload, and a valid signature") {
    const ClientCertificate cert = load_app();
    const auto& app = Pki::get().app;
    struct Case {
      AssertionAlg alg;
      std::string header;
    };
    const Case cases[] = {
        {AssertionAlg::kRs256,
         R"({"alg":"RS256","typ":"JWT","x5t":")" + gt::test::x5t(app) + "\"}"},
        {AssertionAlg::kPs256,
         R"({"alg":"PS256","typ":"JWT","x5t#S256":")" + gt::test::x5t_s256(app) + "\"}"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.header);
      auto jws = gt::make_client_assertion(cert, c.alg, kClientId, kAudience, kStartEpoch, kJti);
      REQUIRE(jws);
      const auto parts = split_jws(*jws);
      CHECK(decode_base64url(parts[0]) == c.header);
      CHECK(decode_base64url(parts[1]) ==
            std::string(R"({"aud":")") + kAudience + R"(","iss":")" + kClientId + R"(","sub":")" +
                kClientId + R"(","jti":")" + kJti +
                R"(","nbf":1795791600,"iat":1795791600,"exp":1795792200})");
      CHECK(gt::base64url_encode(decode_base64url(parts[0])) == parts[0]);  // no padding
      CHECK(verifies(app.key.get(), parts[0] + "." + parts[1], decode_base64url(parts[2]), c.alg));
    }
  }

  TEST_CASE("make_client_assertion: strings are JSON-escaped") {
    const ClientCertificate cert = load_app();
    auto jws = gt::make_client_assertion(cert, AssertionAlg::kRs256, "a\"b\\c", "aud\n", 7, "é");
    REQUIRE(jws);
    CHECK(decode_base64url(split_jws(*jws)[1]) ==
          R"({"aud":"aud\n","iss":"a\"b\\c","sub":"a\"b\\c","jti":"é","nbf":7,"iat":7,"exp":607})");
  }

  TEST_CASE("make_client_assertion: the emulator's token endpoint accepts both algorithms") {
    gt::emulator::IdentityOptions o;
    o.apps[kClientId] = gt::emulator::IdentityApp{.certificate_pem = Pki::get().app.cert_pem};
    o.clock = [] { return kStart; };
    auto service = gt::emulator::IdentityService::create(std::move(o));
    REQUIRE(service);
    const ClientCertificate cert = load_app();
    for (const auto alg : {AssertionAlg::kRs256, AssertionAlg::kPs256}) {
      auto jws = gt::make_client_assertion(cert, alg, kClientId, kAudience, kStartEpoch, kJti);
      REQUIRE(jws);
      gt::HttpRequest r;
      r.method = "POST";
      r.scheme = "https";
      r.host = "127.0.0.1";
      r.port = 8443;
      r.target = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
      r.headers = {{"Host", "127.0.0.1:8443"},
                   {"Content-Type", "application/x-www-form-urlencoded"}};
      // The JWS alphabet needs no percent-encoding.
      r.body = std::string("grant_type=client_credentials&client_id=") + kClientId +
               "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
               "jwt-bearer&client_assertion=" +
               *jws;
      const auto answer = (*service)->handle(r);
      CHECK_MESSAGE(answer.status == 200, answer.body);
    }
  }
}
