#include "gt/crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gt {

namespace {

namespace json = boost::json;

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
template <class T, void (*F)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, F>>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using X509Ptr = Ptr<X509, X509_free>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;

// OpenSSL reports details on a per-thread error queue. Whatever we leave there would be mistaken
// for the cause of a later, unrelated failure (the TLS code reads the same queue), so every entry
// point drains it: into a message when we fail, into nothing when we succeed.
std::string take_openssl_error() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (out.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out = buf;
    }
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) != 1) {
    ERR_clear_error();
    return {};  // only on allocation failure; callers treat "" as such
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

// ---------------------------------------------------------------------------------------------
// PEM: the file is split into its blocks first, so that each kind of problem (no key, an
// encrypted key, an EC key, ...) gets its own message and the order of the blocks does not matter.

struct PemBlock {
  std::string name;    // "CERTIFICATE", "PRIVATE KEY", ...
  std::string header;  // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED" for legacy encrypted keys)
  std::string der;
};

Result<std::vector<PemBlock>> read_pem_blocks(std::string_view pem, std::string_view source) {
  if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Error::usage(std::string(source) + ": too large for a PEM file");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error::usage(std::string(source) + ": " + take_openssl_error());
  std::vector<PemBlock> blocks;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long size = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &size) != 1) {
      const unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the normal end: no further "-----BEGIN" line
        return blocks;
      }
      return Error::usage(std::string(source) + ": not a valid PEM file (" + take_openssl_error() +
                          ")");
    }
    PemBlock block{
        name, header,
        std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size))};
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, static_cast<std::size_t>(size));  // it may be a private key
    blocks.push_back(std::move(block));
  }
}

bool is_certificate_block(const PemBlock& b) {
  return b.name == "CERTIFICATE" || b.name == "X509 CERTIFICATE";
}

bool is_key_block(const PemBlock& b) {
  return b.name.ends_with("PRIVATE KEY");
}

Result<X509Ptr> decode_certificate(const PemBlock& block, std::string_view source) {
  const auto* p = reinterpret_cast<const unsigned char*>(block.der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(block.der.size())));
  if (!cert) {
    return Error::usage(std::string(source) + ": the certificate does not parse (" +
                        take_openssl_error() + ")");
  }
  return cert;
}

// "PRIVATE KEY" (PKCS#8) or "RSA PRIVATE KEY" (PKCS#1), unencrypted, RSA.
Result<PkeyPtr> decode_key(const PemBlock& block, std::string_view source) {
  const std::string where(source);
  if (block.name == "ENCRYPTED PRIVATE KEY" ||
      block.header.find("ENCRYPTED") != std::string::npos) {
    return Error::usage(where +
                        ": the private key is encrypted; it must be unencrypted (for example "
                        "`openssl pkey -in key.pem -out plain.pem`, then keep that file private)");
  }
  if (block.name != "PRIVATE KEY" && block.name != "RSA PRIVATE KEY") {
    return Error::usage(where + ": the private key is a \"" + block.name +
                        "\"; client assertions are signed with an RSA key (\"PRIVATE KEY\" or "
                        "\"RSA PRIVATE KEY\")");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(block.der.data());
  const long size = static_cast<long>(block.der.size());
  PkeyPtr key(block.name == "RSA PRIVATE KEY" ? d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, size)
                                              : d2i_AutoPrivateKey(nullptr, &p, size));
  if (!key) {
    return Error::usage(where + ": the private key does not parse (" + take_openssl_error() + ")");
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return Error::usage(where + ": the private key is " + (type ? type : "not RSA") +
                        "; client assertions are signed with an RSA key");
  }
  return key;
}

std::string der_of(X509* cert) {
  const int size = i2d_X509(cert, nullptr);
  if (size <= 0) return {};
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert, &p) != size) return {};
  return der;
}

// RFC 2253 order and escaping, but UTF-8 kept as is (it is shown to people).
std::string subject_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                         XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return {};
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::int64_t> epoch_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  using namespace std::chrono;
  const sys_days day = year(tm.tm_year + 1900) / month(static_cast<unsigned>(tm.tm_mon + 1)) /
                       static_cast<unsigned>(tm.tm_mday);
  return day.time_since_epoch() / seconds(1) + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

// ---------------------------------------------------------------------------------------------
// Signing.

// RS256: RSASSA-PKCS1-v1_5. PS256: RSASSA-PSS with MGF1 over the same SHA-256 and a salt as long
// as the hash (RFC 7518 3.5). OpenSSL's default PSS salt is the longest that fits, which Entra
// (and the emulator) refuse, so the salt length is set explicitly.
bool set_padding(EVP_PKEY_CTX* pctx, AssertionAlg alg) {
  if (alg == AssertionAlg::kRs256) {
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

std::optional<std::string> sign_with(EVP_PKEY* key, std::string_view input, AssertionAlg alg) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      !set_padding(pctx, alg)) {
    return std::nullopt;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) != 1) return std::nullopt;
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     input.size()) != 1) {
    return std::nullopt;
  }
  signature.resize(size);
  return signature;
}

std::string header_json(const ClientCertificate& certificate, AssertionAlg alg) {
  json::object h;
  if (alg == AssertionAlg::kRs256) {
    h["alg"] = "RS256";
    h["typ"] = "JWT";
    h["x5t"] = certificate.x5t();
  } else {
    h["alg"] = "PS256";
    h["typ"] = "JWT";
    h["x5t#S256"] = certificate.x5t_s256();
  }
  return json::serialize(h);
}

std::string payload_json(std::string_view client_id, std::string_view audience, std::int64_t now,
                         std::string_view jti) {
  json::object p;
  p["aud"] = json::string_view(audience.data(), audience.size());
  p["iss"] = json::string_view(client_id.data(), client_id.size());
  p["sub"] = json::string_view(client_id.data(), client_id.size());
  p["jti"] = json::string_view(jti.data(), jti.size());
  p["nbf"] = now;
  p["iat"] = now;
  p["exp"] = now + kClientAssertionLifetimeSeconds;
  return json::serialize(p);
}

}  // namespace

// The private key, shared by copies of a ClientCertificate.
struct ClientCertificate::Key {
  PkeyPtr pkey;
};

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : digest(EVP_sha256(), data)) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

Result<ClientCertificate> ClientCertificate::load(std::string_view pem, std::string_view source) {
  const std::string where(source);
  auto blocks = read_pem_blocks(pem, source);
  if (!blocks) return std::move(blocks).error();

  const PemBlock* key_block = nullptr;
  std::vector<const PemBlock*> cert_blocks;
  for (const auto& b : *blocks) {
    if (is_certificate_block(b)) cert_blocks.push_back(&b);
    if (!is_key_block(b)) continue;
    if (key_block) return Error::usage(where + ": holds more than one private key");
    key_block = &b;
  }
  if (cert_blocks.empty()) {
    return Error::usage(where + ": no certificate (a \"-----BEGIN CERTIFICATE-----\" block)");
  }
  if (!key_block) {
    return Error::usage(where +
                        ": no private key (a \"-----BEGIN PRIVATE KEY-----\" block; the file must "
                        "hold the certificate and its unencrypted key)");
  }
  auto key = decode_key(*key_block, source);
  for (auto& b : *blocks) {
    if (is_key_block(b)) OPENSSL_cleanse(b.der.data(), b.der.size());  // the key lives on in `key`
  }
  if (!key) return std::move(key).error();

  // A file may carry the chain too; the certificate is the one the key belongs to.
  X509Ptr cert;
  for (const PemBlock* b : cert_blocks) {
    auto c = decode_certificate(*b, source);
    if (!c) return std::move(c).error();
    const EVP_PKEY* public_key = X509_get0_pubkey(c->get());
    if (public_key && EVP_PKEY_eq(public_key, key->get()) == 1) {
      cert = std::move(c).value();
      break;
    }
  }
  ERR_clear_error();  // EVP_PKEY_eq queues an error for a mismatch
  if (!cert) {
    return Error::usage(where + ": the private key does not belong to the certificate");
  }

  const std::string der = der_of(cert.get());
  const auto not_after = epoch_of(X509_get0_notAfter(cert.get()));
  if (der.empty() || !not_after) {
    return Error::usage(where + ": the certificate cannot be read (" + take_openssl_error() + ")");
  }
  ClientCertificate out;
  out.key_ = std::make_shared<Key>();
  out.key_->pkey.reset(key->release());
  out.x5t_ = base64url_encode(digest(EVP_sha1(), der));
  out.x5t_s256_ = base64url_encode(digest(EVP_sha256(), der));
  out.subject_ = subject_of(cert.get());
  out.not_after_ = *not_after;
  ERR_clear_error();
  return out;
}

Result<std::string> ClientCertificate::sign(std::string_view signing_input,
                                            AssertionAlg alg) const {
  if (!key_ || !key_->pkey) return Error::usage("signing failed: no private key loaded");
  auto signature = sign_with(key_->pkey.get(), signing_input, alg);
  if (!signature) {
    return Error::usage("signing with the key of " + subject_ + " failed (" + take_openssl_error() +
                        ")");
  }
  ERR_clear_error();
  return std::move(*signature);
}

Result<std::string> make_client_assertion(const ClientCertificate& certificate, AssertionAlg alg,
                                          std::string_view client_id, std::string_view audience,
                                          std::int64_t now_epoch_seconds, std::string_view jti) {
  const std::string input =
      base64url_encode(header_json(certificate, alg)) + "." +
      base64url_encode(payload_json(client_id, audience, now_epoch_seconds, jti));
  auto signature = certificate.sign(input, alg);
  if (!signature) return std::move(signature).error();
  return input + "." + base64url_encode(*signature);
}

}  // namespace gt
