#pragma once
// libcrypto only: every hash, MAC, cipher and random byte in Argus goes through OpenSSL.
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
// JWT (RS256 keys, PEM files, JWKS modulus/exponent) and password hashing (PKCS5_PBKDF2_HMAC).
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
