/*
 * Signature verification as FreeRTOS's iot_crypto does it over mbedTLS (the path of the ESP32 and other mbedTLS PALs;
 * aws/amazon-freertos @41244b00 libraries/freertos_plus/standard/crypto/src/iot_crypto.c): the certificate is parsed
 * with mbedtls_x509_crt_parse (PEM must count its NUL; DER works too), the key type in the certificate decides ECDSA or
 * RSA, and mbedtls_pk_verify checks the signature over the digest. No chain, date, keyUsage or EKU check, as on the
 * device.
 */
#ifndef HIL_CRYPTO_H
#define HIL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

typedef enum HilHash
{
    HilHashSha256 = 0,
    HilHashSha1 = 1
} HilHash_t;

/* Digest sizes. */
#define HIL_SHA256_LENGTH    32U
#define HIL_SHA1_LENGTH      20U

/* An incremental hash; the caller owns it. */
typedef struct HilHasher
{
    HilHash_t hash;
    uint8_t state[ 256 ]; /* room for mbedtls_sha256_context / mbedtls_sha1_context (checked in hil_crypto.c) */
} HilHasher_t;

void HIL_HashStart( HilHasher_t * pHasher,
                    HilHash_t hash );
void HIL_HashUpdate( HilHasher_t * pHasher,
                     const uint8_t * pData,
                     size_t len );
/* Writes HIL_SHA256_LENGTH or HIL_SHA1_LENGTH bytes. */
void HIL_HashFinish( HilHasher_t * pHasher,
                     uint8_t * pDigest );

typedef enum HilCryptoResult
{
    HilCryptoValid = 0,
    HilCryptoInvalidSignature,   /* mbedtls_pk_verify refused it */
    HilCryptoBadCertificate,     /* mbedtls_x509_crt_parse refused the certificate */
    HilCryptoBadInput            /* NULL or empty certificate or signature */
} HilCryptoResult_t;

/*
 * Verifies `pSignature` over `pDigest` with the public key of `pCertificate` (PEM with its NUL counted, or DER).
 * *pMbedtlsError (optional) receives mbedTLS's error code when the result is not valid.
 */
HilCryptoResult_t HIL_VerifySignature( const uint8_t * pCertificate,
                                       size_t certificateLen,
                                       HilHash_t hash,
                                       const uint8_t * pDigest,
                                       const uint8_t * pSignature,
                                       size_t signatureLen,
                                       int * pMbedtlsError );

/* mbedTLS's text for one of its error codes (mbedtls_strerror), e.g. "ECP - The signature is not valid". */
void HIL_CryptoErrorText( int mbedtlsError,
                          char * pBuffer,
                          size_t capacity );

#endif /* HIL_CRYPTO_H */
