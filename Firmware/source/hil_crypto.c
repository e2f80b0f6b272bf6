/*
 * mbedTLS verification with iot_crypto's semantics (aws/amazon-freertos @41244b00
 * libraries/freertos_plus/standard/crypto/src/iot_crypto.c), written for otarig against Debian's mbedTLS 2.28.
 */
#include "hil_crypto.h"

#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

_Static_assert( sizeof( mbedtls_sha256_context ) <= sizeof( ( ( HilHasher_t * ) 0 )->state ), "HilHasher_t.state is too small for SHA-256" );
_Static_assert( sizeof( mbedtls_sha1_context ) <= sizeof( ( ( HilHasher_t * ) 0 )->state ), "HilHasher_t.state is too small for SHA-1" );

void HIL_HashStart( HilHasher_t * pHasher,
                    HilHash_t hash )
{
    pHasher->hash = hash;

    if( hash == HilHashSha1 )
    {
        mbedtls_sha1_context * pContext = ( mbedtls_sha1_context * ) ( void * ) pHasher->state;
        mbedtls_sha1_init( pContext );
        ( void ) mbedtls_sha1_starts_ret( pContext );
    }
    else
    {
        mbedtls_sha256_context * pContext = ( mbedtls_sha256_context * ) ( void * ) pHasher->state;
        mbedtls_sha256_init( pContext );
        ( void ) mbedtls_sha256_starts_ret( pContext, 0 );
    }
}

void HIL_HashUpdate( HilHasher_t * pHasher,
                     const uint8_t * pData,
                     size_t len )
{
    if( pHasher->hash == HilHashSha1 )
    {
        ( void ) mbedtls_sha1_update_ret( ( mbedtls_sha1_context * ) ( void * ) pHasher->state, pData, len );
    }
    else
    {
        ( void ) mbedtls_sha256_update_ret( ( mbedtls_sha256_context * ) ( void * ) pHasher->state, pData, len );
    }
}

void HIL_HashFinish( HilHasher_t * pHasher,
                     uint8_t * pDigest )
{
    if( pHasher->hash == HilHashSha1 )
    {
        mbedtls_sha1_context * pContext = ( mbedtls_sha1_context * ) ( void * ) pHasher->state;
        ( void ) mbedtls_sha1_finish_ret( pContext, pDigest );
        mbedtls_sha1_free( pContext );
    }
    else
    {
        mbedtls_sha256_context * pContext = ( mbedtls_sha256_context * ) ( void * ) pHasher->state;
        ( void ) mbedtls_sha256_finish_ret( pContext, pDigest );
        mbedtls_sha256_free( pContext );
    }
}

HilCryptoResult_t HIL_VerifySignature( const uint8_t * pCertificate,
                                       size_t certificateLen,
                                       HilHash_t hash,
                                       const uint8_t * pDigest,
                                       const uint8_t * pSignature,
                                       size_t signatureLen,
                                       int * pMbedtlsError )
{
    mbedtls_x509_crt certificate;
    HilCryptoResult_t result = HilCryptoValid;
    int error = 0;

    if( ( pCertificate == NULL ) || ( certificateLen == 0U ) || ( pDigest == NULL ) || ( pSignature == NULL ) || ( signatureLen == 0U ) )
    {
        return HilCryptoBadInput;
    }

    mbedtls_x509_crt_init( &certificate );
    error = mbedtls_x509_crt_parse( &certificate, pCertificate, certificateLen );

    if( error != 0 )
    {
        result = HilCryptoBadCertificate;
    }
    else
    {
        const mbedtls_md_type_t md = ( hash == HilHashSha1 ) ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;
        const size_t digestLen = ( hash == HilHashSha1 ) ? HIL_SHA1_LENGTH : HIL_SHA256_LENGTH;

        error = mbedtls_pk_verify( &certificate.pk, md, pDigest, digestLen, pSignature, signatureLen );

        if( error != 0 )
        {
            result = HilCryptoInvalidSignature;
        }
    }

    mbedtls_x509_crt_free( &certificate );

    if( pMbedtlsError != NULL )
    {
        *pMbedtlsError = error;
    }

    return result;
}

void HIL_CryptoErrorText( int mbedtlsError,
                          char * pBuffer,
                          size_t capacity )
{
    if( ( pBuffer != NULL ) && ( capacity > 0U ) )
    {
        mbedtls_strerror( mbedtlsError, pBuffer, capacity );
    }
}
