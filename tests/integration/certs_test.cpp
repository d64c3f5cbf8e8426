// The emulator's throwaway PKI, checked with OpenSSL's own verifier: good chains verify for the
// names they carry, and expired, not-yet-valid, self-signed, foreign and wrong-host certificates
// fail with the error a TLS client would see.
#include "emulator/certs.hpp"

#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using gt::emulator::CertificatePem;
using gt::emulator::CertSpec;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_cert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> parse_key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  return {PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free};
}

enum class Name { kNone, kHost, kIp };

// X509_verify_cert of `leaf` with `ca` as the only trusted root, as a TLS client does: purpose
// sslserver, and the host name or IP address checked when given. Returns X509_V_OK or the error.
int verify(const std::string& leaf_pem, const std::string& ca_pem, Name kind = Name::kNone,
           const std::string& name = {}) {
  X509Ptr leaf = parse_cert(leaf_pem);
  X509Ptr ca = parse_cert(ca_pem);
  REQUIRE(leaf);
  REQUIRE(ca);
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  REQUIRE(X509_STORE_add_cert(store.get(), ca.get()) == 1);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) == 1);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (kind == Name::kHost) REQUIRE(X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0) == 1);
  if (kind == Name::kIp) REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  const int error = X509_STORE_CTX_get_error(ctx.get());
  return error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error;
}

CertificatePem ca() {
  auto made = gt::emulator::make_ca("test CA");
  REQUIRE(made.ok());
  return *made;
}

CertificatePem issue(const CertificatePem& authority, const CertSpec& spec) {
  auto made = gt::emulator::issue_certificate(authority, spec);
  REQUIRE(made.ok());
  return *made;
}

std::string error_name(int error) {
  return X509_verify_cert_error_string(error);
}

}  // namespace

TEST_SUITE("emulator: certs") {
  TEST_CASE("the CA is a CA that signs certificates") {
    const CertificatePem authority = ca();
    CHECK(authority.cert.starts_with("-----BEGIN CERTIFICATE-----"));
    CHECK(authority.key.starts_with("-----BEGIN PRIVATE KEY-----"));  // PKCS#8
    X509Ptr cert = parse_cert(authority.cert);
    REQUIRE(cert);
    CHECK(X509_check_ca(cert.get()) == 1);
    CHECK((X509_get_key_usage(cert.get()) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) ==
          (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    CHECK(X509_get0_subject_key_id(cert.get()) != nullptr);
    const int critical_bc = X509_EXTENSION_get_critical(
        X509_get_ext(cert.get(), X509_get_ext_by_NID(cert.get(), NID_basic_constraints, -1)));
    CHECK(critical_bc == 1);
    auto key = parse_key(authority.key);
    REQUIRE(key);
    CHECK(EVP_PKEY_is_a(key.get(), "EC"));
    CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  }

  TEST_CASE("an issued loopback certificate verifies for localhost, 127.0.0.1 and ::1") {
    const CertificatePem authority = ca();
    const CertificatePem server = issue(authority, gt::emulator::loopback_spec());
    CHECK(verify(server.cert, authority.cert) == X509_V_OK);
    CHECK(verify(server.cert, authority.cert, Name::kHost, "localhost") == X509_V_OK);
    CHECK(verify(server.cert, authority.cert, Name::kIp, "127.0.0.1") == X509_V_OK);
    CHECK(verify(server.cert, authority.cert, Name::kIp, "::1") == X509_V_OK);
  }

  TEST_CASE("an issued certificate is a server certificate tied to its CA") {
    const CertificatePem authority = ca();
    const CertificatePem server = issue(authority, gt::emulator::loopback_spec());
    X509Ptr cert = parse_cert(server.cert);
    X509Ptr ca_cert = parse_cert(authority.cert);
    REQUIRE(cert);
    CHECK(X509_check_ca(cert.get()) == 0);
    CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) != 0);
    CHECK((X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE) != 0);
    const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.get());
    REQUIRE(akid != nullptr);
    CHECK(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca_cert.get())) == 0);
    CHECK(ASN1_STRING_length(X509_get0_serialNumber(cert.get())) == 16);
    auto key = parse_key(server.key);
    REQUIRE(key);
    CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  }

  TEST_CASE("serial numbers are random") {
    const CertificatePem authority = ca();
    X509Ptr a = parse_cert(issue(authority, gt::emulator::loopback_spec()).cert);
    X509Ptr b = parse_cert(issue(authority, gt::emulator::loopback_spec()).cert);
    CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())) != 0);
  }

  TEST_CASE("a certificate for other names fails host verification") {
    const CertificatePem authority = ca();
    const CertificatePem server = issue(authority, gt::emulator::loopback_spec());
    CHECK(verify(server.cert, authority.cert, Name::kHost, "graph.microsoft.com") ==
          X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(verify(server.cert, authority.cert, Name::kIp, "10.0.0.1") ==
          X509_V_ERR_IP_ADDRESS_MISMATCH);
  }

  TEST_CASE("time-invalid certificates fail as expired or not yet valid") {
    using std::chrono::hours;
    const CertificatePem authority = ca();
    CertSpec expired = gt::emulator::loopback_spec();
    expired.not_before = -hours(48);
    expired.not_after = -hours(24);
    const int error = verify(issue(authority, expired).cert, authority.cert);
    INFO(error_name(error));
    CHECK(error == X509_V_ERR_CERT_HAS_EXPIRED);

    CertSpec future = gt::emulator::loopback_spec();
    future.not_before = hours(24);
    future.not_after = hours(48);
    CHECK(verify(issue(authority, future).cert, authority.cert) == X509_V_ERR_CERT_NOT_YET_VALID);
  }

  TEST_CASE("a self-signed certificate is reported as self-signed") {
    auto self = gt::emulator::make_self_signed(gt::emulator::loopback_spec());
    REQUIRE(self.ok());
    const int error = verify(self->cert, ca().cert, Name::kIp, "127.0.0.1");
    INFO(error_name(error));
    CHECK(error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    // Trusted explicitly, it verifies: the certificate itself is sound.
    CHECK(verify(self->cert, self->cert, Name::kHost, "localhost") == X509_V_OK);
  }

  TEST_CASE("a certificate from another CA does not verify") {
    const CertificatePem server = issue(ca(), gt::emulator::loopback_spec());
    const int error = verify(server.cert, ca().cert);
    INFO(error_name(error));
    CHECK(error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  }

  TEST_CASE("the CA is valid for the requested number of days") {
    auto made = gt::emulator::make_ca("short-lived", 2);
    REQUIRE(made.ok());
    X509Ptr cert = parse_cert(made->cert);
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())) == 1);
    CHECK(days == 2);  // plus the hour of back-dating
    CHECK(seconds == 3600);
  }

  TEST_CASE("unusable input fails as a usage error with OpenSSL's reason") {
    auto bad_ca = gt::emulator::issue_certificate({.cert = "not a PEM", .key = "nope"},
                                                  gt::emulator::loopback_spec());
    REQUIRE_FALSE(bad_ca.ok());
    CHECK(bad_ca.error().kind == gt::ErrorKind::kUsage);
    CHECK(bad_ca.error().message.find("CA certificate") != std::string::npos);

    const CertificatePem authority = ca();
    const CertificatePem other = ca();
    auto mismatched = gt::emulator::issue_certificate({.cert = authority.cert, .key = other.key},
                                                      gt::emulator::loopback_spec());
    REQUIRE_FALSE(mismatched.ok());
    CHECK(mismatched.error().message.find("does not match") != std::string::npos);

    CertSpec bad_ip = gt::emulator::loopback_spec();
    bad_ip.ip_addresses = {"localhost"};
    auto bad = gt::emulator::issue_certificate(authority, bad_ip);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("\"localhost\" is not an IP address") != std::string::npos);
  }
}
