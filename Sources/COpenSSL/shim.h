#pragma once
// libcrypto only: every hash, MAC, cipher and random byte in Argus goes through OpenSSL.
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
