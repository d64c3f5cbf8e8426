#include "emulator/certs.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <string_view>

namespace gt::emulator {
namespace {

// unique_ptr with the OpenSSL free function as deleter, so every early return frees everything.
template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Ptr<X509, X509_free>;
using BioPtr = Ptr<BIO, BIO_free_all>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using ExtPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using IntPtr = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using GenNamePtr = Ptr<GENERAL_NAME, GENERAL_NAME_free>;
using GenNamesPtr = Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;

// "what: <OpenSSL error queue>" as a kUsage error; drains the queue.
Error openssl_error(std::string_view what) {
  std::string message(what);
  const char* sep = ": ";
  while (unsigned long code = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    message += sep;
    message += buf.data();
    sep = "; ";
  }
  return Error::usage(std::move(message));
}

Result<PkeyPtr> generate_p256_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return openssl_error("generating a P-256 key");
  return key;
}

// A positive random 128-bit serial (RFC 5280 allows up to 20 octets; the top bit is cleared so
// the DER encoding stays 16 octets).
bool set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return false;
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, 16 octets
  BnPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn) return false;
  IntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  return serial && X509_set_serialNumber(cert, serial.get()) == 1;
}

bool set_validity(X509* cert, std::chrono::seconds not_before, std::chrono::seconds not_after) {
  return X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(not_before.count())) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(not_after.count()));
}

NamePtr make_name(const std::string& common_name) {
  NamePtr name(X509_NAME_new());
  if (!name) return nullptr;
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("graph-threads emulator"),
                                 -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    return nullptr;
  }
  return name;
}

// Adds one extension given in OpenSSL's config syntax ("critical,CA:TRUE"). `issuer` and
// `subject` feed the key-identifier extensions (they read the public keys).
bool add_ext(X509* issuer, X509* subject, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(subject, ext.get(), -1) == 1;
}

// subjectAltName built as GENERAL_NAMES rather than a config string, so that names containing
// commas or colons (IPv6) need no escaping.
Status add_subject_alt_names(X509* cert, const CertSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return ok_status();
  GenNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return openssl_error("allocating subjectAltName");
  for (const auto& dns : spec.dns_names) {
    GenNamePtr gen(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gen || !ia5 || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return openssl_error("subjectAltName DNS " + dns);
    }
    GENERAL_NAME_set0_value(gen.get(), GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0) return openssl_error("subjectAltName");
    gen.release();  // owned by `names` now
  }
  for (const auto& ip : spec.ip_addresses) {
    GenNamePtr gen(GENERAL_NAME_new());
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (!gen || !octets) {
      ASN1_OCTET_STRING_free(octets);
      return openssl_error("subjectAltName IP \"" + ip + "\" is not an IP address");
    }
    GENERAL_NAME_set0_value(gen.get(), GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0) return openssl_error("subjectAltName");
    gen.release();
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("adding subjectAltName");
  }
  return ok_status();
}

// A v3 certificate with serial, validity, subject, issuer and public key set; no extensions.
Result<X509Ptr> new_certificate(const std::string& common_name, X509_NAME* issuer_name,
                                EVP_PKEY* key, std::chrono::seconds not_before,
                                std::chrono::seconds not_after) {
  X509Ptr cert(X509_new());
  NamePtr subject = make_name(common_name);
  if (!cert || !subject) return openssl_error("creating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || !set_random_serial(cert.get()) ||
      !set_validity(cert.get(), not_before, not_after) ||
      X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name ? issuer_name : subject.get()) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return openssl_error("filling certificate fields");
  }
  return cert;
}

// Extensions of a TLS server certificate. `issuer` is the CA (or the certificate itself when
// self-signed, which then carries no authority key id).
Status add_server_extensions(X509* issuer, X509* cert, const CertSpec& spec) {
  const bool self_signed = issuer == cert;
  if (!add_ext(issuer, cert, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(issuer, cert, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(issuer, cert, NID_ext_key_usage, "serverAuth") ||
      !add_ext(issuer, cert, NID_subject_key_identifier, "hash") ||
      (!self_signed && !add_ext(issuer, cert, NID_authority_key_identifier, "keyid:always"))) {
    return openssl_error("adding certificate extensions");
  }
  return add_subject_alt_names(cert, spec);
}

Result<CertificatePem> to_pem(X509* cert, EVP_PKEY* key) {
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("writing PEM");
  }
  auto text = [](BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
  };
  return CertificatePem{.cert = text(cert_bio.get()), .key = text(key_bio.get())};
}

Result<X509Ptr> read_certificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return openssl_error("reading the CA certificate");
  return cert;
}

Result<PkeyPtr> read_private_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return openssl_error("reading the CA private key");
  return key;
}

}  // namespace

Result<CertificatePem> make_ca(const std::string& common_name, int days) {
  ERR_clear_error();
  auto key = generate_p256_key();
  if (!key) return std::move(key).error();
  auto cert = new_certificate(common_name, nullptr, key->get(), std::chrono::seconds(-3600),
                              std::chrono::hours(24) * days);
  if (!cert) return std::move(cert).error();
  X509* x = cert->get();
  if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(x, x, NID_subject_key_identifier, "hash")) {
    return openssl_error("adding CA extensions");
  }
  if (X509_sign(x, key->get(), EVP_sha256()) <= 0) return openssl_error("signing the CA");
  return to_pem(x, key->get());
}

Result<CertificatePem> issue_certificate(const CertificatePem& ca, const CertSpec& spec) {
  ERR_clear_error();
  auto ca_cert = read_certificate(ca.cert);
  if (!ca_cert) return std::move(ca_cert).error();
  auto ca_key = read_private_key(ca.key);
  if (!ca_key) return std::move(ca_key).error();
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    return openssl_error("the CA key does not match the CA certificate");
  }
  auto key = generate_p256_key();
  if (!key) return std::move(key).error();
  auto cert = new_certificate(spec.common_name, X509_get_subject_name(ca_cert->get()), key->get(),
                              spec.not_before, spec.not_after);
  if (!cert) return std::move(cert).error();
  if (auto st = add_server_extensions(ca_cert->get(), cert->get(), spec); !st) return st.error();
  if (X509_sign(cert->get(), ca_key->get(), EVP_sha256()) <= 0) {
    return openssl_error("signing the certificate");
  }
  return to_pem(cert->get(), key->get());
}

Result<CertificatePem> make_self_signed(const CertSpec& spec) {
  ERR_clear_error();
  auto key = generate_p256_key();
  if (!key) return std::move(key).error();
  auto cert =
      new_certificate(spec.common_name, nullptr, key->get(), spec.not_before, spec.not_after);
  if (!cert) return std::move(cert).error();
  if (auto st = add_server_extensions(cert->get(), cert->get(), spec); !st) return st.error();
  if (X509_sign(cert->get(), key->get(), EVP_sha256()) <= 0) {
    return openssl_error("signing the certificate");
  }
  return to_pem(cert->get(), key->get());
}

CertSpec loopback_spec() {
  return CertSpec{
      .common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1", "::1"}};
}

}  // namespace gt::emulator
