// Test support: RSA certificates and JWS-signed client assertions (RS256 / PS256), built with the
// OpenSSL 3 EVP API, for testing the identity stand-in the way a confidential client signs in.
// Header-only: the unit test binary gets libcrypto through gt::emulator.
//
// Deliberately independent of emulator/identity_service: thumbprints and signatures are computed
// here from scratch, so a test fails if the service computes them differently.
#pragma once

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "support/jwt.hpp"

namespace gt::test {

struct RsaCredential {
  std::string cert_pem;           // PEM "CERTIFICATE"
  std::shared_ptr<EVP_PKEY> key;  // the private key
  std::string der;                // the certificate, DER
};

namespace rsa_detail {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

inline std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(out), size);
}

}  // namespace rsa_detail

// A self-signed RSA-2048 certificate for `common_name`, valid from `not_before` to `not_after`
// (absolute times, so tests with a fake clock can place it around their "now").
inline RsaCredential make_rsa_credential(const std::string& common_name,
                                         std::chrono::system_clock::time_point not_before,
                                         std::chrono::system_clock::time_point not_after) {
  using namespace rsa_detail;
  Ptr<EVP_PKEY, EVP_PKEY_free> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  REQUIRE(key);
  Ptr<X509, X509_free> cert(X509_new());
  REQUIRE(cert);
  REQUIRE(X509_set_version(cert.get(), 2) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1);
  REQUIRE(ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                        std::chrono::system_clock::to_time_t(not_before)));
  REQUIRE(ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                        std::chrono::system_clock::to_time_t(not_after)));
  X509_NAME* name = X509_get_subject_name(cert.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                     -1, -1, 0) == 1);
  REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
  REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

  Ptr<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(bio.get(), cert.get()) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  RsaCredential out;
  out.cert_pem.assign(data, static_cast<std::size_t>(size));
  const int der_size = i2d_X509(cert.get(), nullptr);
  REQUIRE(der_size > 0);
  out.der.resize(static_cast<std::size_t>(der_size));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  REQUIRE(i2d_X509(cert.get(), &p) == der_size);
  out.key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
  return out;
}

// "x5t": base64url SHA-1 of the certificate's DER.
inline std::string x5t(const RsaCredential& c) {
  return base64url(rsa_detail::digest(EVP_sha1(), c.der));
}

// "x5t#S256": base64url SHA-256 of the certificate's DER.
inline std::string x5t_s256(const RsaCredential& c) {
  return base64url(rsa_detail::digest(EVP_sha256(), c.der));
}

// The upper-case hex SHA-1 thumbprint (what Entra's messages print).
inline std::string thumbprint_hex(const RsaCredential& c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char b : rsa_detail::digest(EVP_sha1(), c.der)) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A compact JWS over base64url(header_json).base64url(payload_json). alg "RS256" signs
// RSASSA-PKCS1-v1_5 SHA-256; "PS256" RSASSA-PSS SHA-256 with MGF1-SHA-256 and `pss_salt_length`
// (RSA_PSS_SALTLEN_DIGEST = 32 bytes, what RFC 7518 requires; RSA_PSS_SALTLEN_MAX is what OpenSSL
// does when not told).
inline std::string sign_jws(std::string_view header_json, std::string_view payload_json,
                            EVP_PKEY* key, std::string_view alg,
                            int pss_salt_length = RSA_PSS_SALTLEN_DIGEST) {
  using namespace rsa_detail;
  const std::string input = base64url(header_json) + "." + base64url(payload_json);
  Ptr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  REQUIRE(ctx);
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) == 1);
  if (alg == "PS256") {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt_length) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1);
  }
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) == 1);
  std::string signature(size, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                         input.size()) == 1);
  signature.resize(size);
  return input + "." + base64url(signature);
}

}  // namespace gt::test
