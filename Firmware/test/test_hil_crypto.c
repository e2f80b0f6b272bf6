/*
 * HIL_VerifySignature (mbedTLS, iot_crypto semantics) against the FreeRTOS OTA PAL qualification vectors
 * (Tests/CodeSigningTests/Fixtures/freertos, with their provenance) and otarig's derived DER and certificate
 * variants (test/vectors/derived_divergence_vectors.json), which record what mbedTLS 2.28 answers.
 */
#include "hil_crypto.h"
#include "hil_json.h"
#include "hil_test.h"

#define FIXTURES    "../Tests/CodeSigningTests/Fixtures/freertos/"

static size_t fromHex( const char * hex, size_t hexLen, uint8_t * out, size_t capacity )
{
    size_t n = 0U;

    while( ( n * 2U + 1U < hexLen ) && ( n < capacity ) )
    {
        unsigned value = 0U;
        ( void ) sscanf( &hex[ n * 2U ], "%2x", &value );
        out[ n++ ] = ( uint8_t ) value;
    }

    return n;
}

static int lookup( const char * doc, size_t len, const char * query, const char ** ppValue, size_t * pValueLen )
{
    return HIL_JsonSearch( doc, len, query, strlen( query ), ppValue, pValueLen, NULL ) == HilJsonSuccess;
}

static void digestOf( const uint8_t * data, size_t len, HilHash_t hash, uint8_t * digest )
{
    HilHasher_t hasher;

    HIL_HashStart( &hasher, hash );
    HIL_HashUpdate( &hasher, data, len );
    HIL_HashFinish( &hasher, digest );
}

static uint8_t message[ 84 ];
static size_t messageLen;

static void test_HIL_VerifySignature_PalQualificationVectors( void )
{
    size_t len = 0U;
    char * doc = ( char * ) hilReadFile( FIXTURES "ota_pal_signature_vectors.json", &len, 0 );
    const char * value;
    size_t valueLen;
    unsigned index;

    CHECK( doc != NULL );

    if( doc == NULL )
    {
        return;
    }

    CHECK( lookup( doc, len, "message.hex", &value, &valueLen ) );
    messageLen = fromHex( value, valueLen, message, sizeof( message ) );
    CHECK( messageLen == 84U );

    for( index = 0U; index < 3U; index++ )
    {
        char query[ 96 ];
        char path[ 256 ];
        const char * hashName;
        size_t hashLen;
        uint8_t digest[ 32 ];
        uint8_t signature[ 512 ];
        size_t signatureLen;
        uint8_t * certificate;
        size_t certificateLen = 0U;
        HilHash_t hash;
        int error = 0;

        ( void ) snprintf( query, sizeof( query ), "vectors[%u].hash", index );
        CHECK( lookup( doc, len, query, &hashName, &hashLen ) );
        hash = ( hashLen == 5U && memcmp( hashName, "SHA-1", 5 ) == 0 ) ? HilHashSha1 : HilHashSha256;
        ( void ) snprintf( query, sizeof( query ), "vectors[%u].signer_cert_pem_file", index );
        CHECK( lookup( doc, len, query, &value, &valueLen ) );
        ( void ) snprintf( path, sizeof( path ), FIXTURES "%.*s", ( int ) valueLen, value );
        certificate = hilReadFile( path, &certificateLen, 1 );
        CHECK( certificate != NULL );

        if( certificate == NULL )
        {
            continue;
        }

        digestOf( message, messageLen, hash, digest );
        ( void ) snprintf( query, sizeof( query ), "vectors[%u].valid_signature.hex", index );
        CHECK( lookup( doc, len, query, &value, &valueLen ) );
        signatureLen = fromHex( value, valueLen, signature, sizeof( signature ) );
        CHECK( HIL_VerifySignature( certificate, certificateLen, hash, digest, signature, signatureLen, &error ) == HilCryptoValid );

        ( void ) snprintf( query, sizeof( query ), "vectors[%u].invalid_signature.hex", index );
        CHECK( lookup( doc, len, query, &value, &valueLen ) );
        signatureLen = fromHex( value, valueLen, signature, sizeof( signature ) );
        CHECK( HIL_VerifySignature( certificate, certificateLen, hash, digest, signature, signatureLen, &error ) == HilCryptoInvalidSignature );
        CHECK( error != 0 );

        /* PEM must count its NUL, as the device's compiled-in certificate does: without it mbedTLS reads DER and fails. */
        CHECK( HIL_VerifySignature( certificate, certificateLen - 1U, hash, digest, signature, signatureLen, &error ) == HilCryptoBadCertificate );
        free( certificate );
    }

    free( doc );
}

static void test_HIL_VerifySignature_LaserPayloadRsaSha256( void )
{
    size_t payloadLen = 0U;
    size_t certificateLen = 0U;
    size_t docLen = 0U;
    uint8_t * payload = hilReadFile( FIXTURES "payload.bin", &payloadLen, 0 );
    uint8_t * certificate = hilReadFile( FIXTURES "pem/rsasigner.crt.pem", &certificateLen, 1 );
    char * doc = ( char * ) hilReadFile( FIXTURES "afr_agent_laser_rsa_sha256.json", &docLen, 0 );
    const char * hex;
    size_t hexLen;
    uint8_t signature[ 256 ];
    uint8_t digest[ 32 ];

    CHECK( ( payload != NULL ) && ( certificate != NULL ) && ( doc != NULL ) );

    if( ( payload != NULL ) && ( certificate != NULL ) && ( doc != NULL ) && lookup( doc, docLen, "signature_hex", &hex, &hexLen ) )
    {
        const size_t signatureLen = fromHex( hex, hexLen, signature, sizeof( signature ) );

        CHECK( payloadLen == 90860U );
        digestOf( payload, payloadLen, HilHashSha256, digest );
        CHECK( HIL_VerifySignature( certificate, certificateLen, HilHashSha256, digest, signature, signatureLen, NULL ) == HilCryptoValid );
        digestOf( payload, payloadLen, HilHashSha1, digest );
        CHECK( HIL_VerifySignature( certificate, certificateLen, HilHashSha1, digest, signature, signatureLen, NULL ) == HilCryptoInvalidSignature );
        /* One byte short or long: mbedTLS refuses an RSA signature that is not the modulus length. */
        digestOf( payload, payloadLen, HilHashSha256, digest );
        CHECK( HIL_VerifySignature( certificate, certificateLen, HilHashSha256, digest, signature, signatureLen - 1U, NULL ) == HilCryptoInvalidSignature );
    }

    free( payload );
    free( certificate );
    free( doc );
}

static void test_HIL_VerifySignature_MbedtlsDivergences( void )
{
    size_t len = 0U;
    size_t certificateLen = 0U;
    char * doc = ( char * ) hilReadFile( "test/vectors/derived_divergence_vectors.json", &len, 0 );
    uint8_t * certificate = hilReadFile( FIXTURES "pem/ecdsa-sha256-signer.crt.pem", &certificateLen, 1 );
    const char * value;
    size_t valueLen;
    uint8_t digest[ 32 ];
    unsigned index;
    unsigned cases = 0U;

    CHECK( ( doc != NULL ) && ( certificate != NULL ) && ( messageLen == 84U ) );

    if( ( doc == NULL ) || ( certificate == NULL ) )
    {
        free( doc );
        free( certificate );
        return;
    }

    digestOf( message, messageLen, HilHashSha256, digest );

    /* A: DER encodings of the published ECDSA signature. */
    for( index = 0U; ; index++ )
    {
        char query[ 96 ];
        uint8_t signature[ 128 ];
        size_t signatureLen;
        int expectPass;

        ( void ) snprintf( query, sizeof( query ), "A_signature_encoding_variants.cases[%u].sig_hex", index );

        if( !lookup( doc, len, query, &value, &valueLen ) )
        {
            break;
        }

        signatureLen = fromHex( value, valueLen, signature, sizeof( signature ) );
        ( void ) snprintf( query, sizeof( query ), "A_signature_encoding_variants.cases[%u].mbedtls", index );
        CHECK( lookup( doc, len, query, &value, &valueLen ) );
        expectPass = ( valueLen >= 4U ) && ( memcmp( value, "PASS", 4 ) == 0 );
        CHECK( ( HIL_VerifySignature( certificate, certificateLen, HilHashSha256, digest, signature, signatureLen, NULL ) == HilCryptoValid ) == expectPass );
        cases++;
    }

    /* B: one signature, the same key in certificates with different extensions and dates. */
    {
        uint8_t signature[ 128 ];
        size_t signatureLen;

        CHECK( lookup( doc, len, "B_certificate_variants.signature_der_hex", &value, &valueLen ) );
        signatureLen = fromHex( value, valueLen, signature, sizeof( signature ) );

        for( index = 0U; ; index++ )
        {
            char query[ 96 ];
            static uint8_t pem[ 4096 ];
            size_t pemLen;
            int expectPass;
            HilCryptoResult_t result;

            ( void ) snprintf( query, sizeof( query ), "B_certificate_variants.cases[%u].cert_pem", index );

            if( !lookup( doc, len, query, &value, &valueLen ) )
            {
                ( void ) snprintf( query, sizeof( query ), "B_certificate_variants.cases[%u].mbedtls", index );

                if( lookup( doc, len, query, &value, &valueLen ) )
                {
                    continue;
                }

                break;
            }

            pemLen = hilUnescape( value, valueLen, ( char * ) pem, sizeof( pem ) ) + 1U; /* PEM counts its NUL */
            ( void ) snprintf( query, sizeof( query ), "B_certificate_variants.cases[%u].mbedtls", index );
            CHECK( lookup( doc, len, query, &value, &valueLen ) );
            expectPass = ( valueLen >= 4U ) && ( memcmp( value, "PASS", 4 ) == 0 );
            result = HIL_VerifySignature( pem, pemLen, HilHashSha256, digest, signature, signatureLen, NULL );
            CHECK( ( result == HilCryptoValid ) == expectPass );

            if( !expectPass )
            {
                CHECK( result == HilCryptoBadCertificate ); /* an unknown critical extension fails the parse */
            }

            cases++;
        }
    }

    CHECK( cases == 8U );
    free( doc );
    free( certificate );
}

static void test_HIL_VerifySignature_RejectsEmptyInputs( void )
{
    uint8_t digest[ 32 ] = { 0 };
    const uint8_t certificate[] = "not a certificate";

    CHECK( HIL_VerifySignature( NULL, 10, HilHashSha256, digest, digest, 4, NULL ) == HilCryptoBadInput );
    CHECK( HIL_VerifySignature( certificate, sizeof( certificate ), HilHashSha256, digest, digest, 0, NULL ) == HilCryptoBadInput );
    CHECK( HIL_VerifySignature( certificate, sizeof( certificate ), HilHashSha256, digest, digest, 4, NULL ) == HilCryptoBadCertificate );
}

int main( void )
{
    RUN( test_HIL_VerifySignature_PalQualificationVectors );
    RUN( test_HIL_VerifySignature_LaserPayloadRsaSha256 );
    RUN( test_HIL_VerifySignature_MbedtlsDivergences );
    RUN( test_HIL_VerifySignature_RejectsEmptyInputs );
    return hilTestSummary( "hil_crypto" );
}
