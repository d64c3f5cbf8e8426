// gt/crypto: the few cryptographic operations sign-in needs, over OpenSSL (the only gt_core file
// that includes it): hashing for cache keys, and client assertions signed with a certificate's key
// for the client-credentials grant (GRAPH-API.md 7: RS256 + x5t, or PS256 + x5t#S256).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gt/error.hpp"

namespace gt {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// base64url without padding (RFC 7515 §2).
std::string base64url_encode(std::string_view bytes);

enum class AssertionAlg { kRs256, kPs256 };

// A certificate and its RSA private key, loaded from one PEM file (as AZURE_CLIENT_CERTIFICATE_PATH
// names it: "CERTIFICATE" and "PRIVATE KEY"/"RSA PRIVATE KEY" blocks, in either order). Holds the
// key in memory only; copies share it.
class ClientCertificate {
 public:
  // Fails (kUsage, the message starting with `source`) when the PEM has no certificate, no
  // private key, more than one private key, an encrypted key ("ENCRYPTED PRIVATE KEY" or a
  // "Proc-Type: 4,ENCRYPTED" header: it must be unencrypted), a key that is not RSA ("EC PRIVATE
  // KEY", an EC or Ed25519 PKCS#8 key, ...), a block that does not parse, or no certificate that
  // the key belongs to. Other certificates (a chain) may be present; the one matching the key is
  // used. Line endings may be LF or CRLF; text outside the blocks is ignored.
  static Result<ClientCertificate> load(std::string_view pem, std::string_view source);

  const std::string& x5t() const { return x5t_; }            // base64url SHA-1 of the DER
  const std::string& x5t_s256() const { return x5t_s256_; }  // base64url SHA-256 of the DER
  // RFC 2253 order and escaping ("CN=app,O=Contoso"), UTF-8 left unescaped; for messages.
  const std::string& subject() const { return subject_; }
  std::int64_t not_after() const { return not_after_; }  // epoch seconds

  // The raw signature (not base64url) of `signing_input` with the private key: RS256 is
  // RSASSA-PKCS1-v1_5 SHA-256; PS256 is RSASSA-PSS SHA-256, MGF1 SHA-256, 32-byte salt (so PS256
  // signatures differ on every call). Fails (kUsage) only when OpenSSL does. Thread-safe.
  Result<std::string> sign(std::string_view signing_input, AssertionAlg alg) const;

  struct Key;  // wraps OpenSSL's EVP_PKEY; defined in crypto.cpp

 private:
  ClientCertificate() = default;  // only load() makes one, so a certificate always has its key

  std::shared_ptr<Key> key_;
  std::string x5t_, x5t_s256_, subject_;
  std::int64_t not_after_ = 0;
};

// How long a client assertion is valid: exp - nbf (MSAL's 10 minutes; Entra wants at most 10).
inline constexpr std::int64_t kClientAssertionLifetimeSeconds = 600;

// A signed JWT for client_assertion, in compact form (base64url header "." payload "."
// signature, no padding). Exactly these members in this order, compact JSON, strings escaped:
//   RS256: {"alg":"RS256","typ":"JWT","x5t":"<x5t()>"}
//   PS256: {"alg":"PS256","typ":"JWT","x5t#S256":"<x5t_s256()>"}
//   payload {"aud":audience (the token endpoint URL),"iss":client_id,"sub":client_id,"jti":jti,
//            "nbf":now,"iat":now,"exp":now + kClientAssertionLifetimeSeconds}
// RS256 is RSASSA-PKCS1-v1_5 SHA-256; PS256 is RSASSA-PSS SHA-256, MGF1 SHA-256, 32-byte salt
// (RFC 7518 3.5 — OpenSSL's default salt length is not what verifiers accept). The certificate's
// validity is not checked here (the token endpoint does). Fails (kUsage) only when OpenSSL does.
Result<std::string> make_client_assertion(const ClientCertificate& certificate, AssertionAlg alg,
                                          std::string_view client_id, std::string_view audience,
                                          std::int64_t now_epoch_seconds, std::string_view jti);

}  // namespace gt
