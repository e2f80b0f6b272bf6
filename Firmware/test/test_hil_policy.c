/*
 * The opt-in device policy (hil_policy.h) end to end through HIL_OtaProcessJob and the POSIX port, on the images,
 * job documents and certificates test/make_fixtures.sh makes (argv[1]): revocation lists built and signed here with
 * mbedTLS by the list signer (or a stranger) that make_fixtures.sh made with openssl, then tampered with, cut short,
 * or holding the job's signature; and device clocks before, inside and after the signer certificate's validity.
 * Expected log lines are written out literally.
 */
#include "hil_ota.h"
#include "hil_policy.h"
#include "hil_posix_pal.h"
#include "hil_json.h"
#include "hil_base64.h"
#include "hil_test.h"

#include <time.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"

static const char * fixtures = "build/fixtures";

static char transcript[ 1 << 16 ];
static size_t transcriptLen;

static void onLog( void * pContext, HilLogLevel_t level, const char * pLine )
{
    int n;

    ( void ) pContext;
    n = snprintf( &transcript[ transcriptLen ], sizeof( transcript ) - transcriptLen, "[%s] %s\n", HIL_LogLevelName( level ), pLine );

    if( n > 0 )
    {
        transcriptLen += ( size_t ) n;
    }
}

static int logged( const char * line )
{
    char wanted[ 600 ];

    ( void ) snprintf( wanted, sizeof( wanted ), "%s\n", line );

    if( strstr( transcript, wanted ) == NULL )
    {
        fprintf( stderr, "  missing log line: %s\n  transcript:\n%s", line, transcript );
        return 0;
    }

    return 1;
}

static const char * path( const char * relative )
{
    static char buffers[ 4 ][ 512 ];
    static unsigned next;
    char * out = buffers[ next++ % 4U ];

    ( void ) snprintf( out, 512, "%s/%s", fixtures, relative );
    return out;
}

static HilOtaContext_t context;
static HilPosixPort_t port;
static HilOtaResult_t result;

typedef struct
{
    uint32_t checks;
    const uint8_t * list;
    size_t listLength;
    const uint8_t * signer;      /* NULL: the port reads certs/otarig-revocation.crt */
    size_t signerLength;
    bool hasTime;
    int64_t now;
    bool stock;                  /* no policy at all (pPolicy NULL) */
} Policy_t;

/* The ECDSA image signed by openssl, through a device with `policy`. */
static HilOtaOutcome_t runPolicy( const Policy_t * policy )
{
    HilPal_t pal;
    HilOtaOutcome_t outcome = HilOtaInputError;
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( path( "jobs/ecdsa-openssl-payload.json" ), &len, 0 );

    transcriptLen = 0U;
    transcript[ 0 ] = '\0';
    ( void ) memset( &port, 0, sizeof( port ) );

    if( ( json == NULL ) || ( HIL_PosixPortOpen( &port, path( "payload.bin" ), path( "certs" ), NULL ) != 0 ) )
    {
        fprintf( stderr, "  port: %s\n", port.error );
        free( json );
        return HilOtaInputError;
    }

    port.runningVersion = 0x01000001U;
    port.log = onLog;
    port.hasTime = policy->hasTime;
    port.unixTime = policy->now;

    if( !policy->stock && ( HIL_PosixPortSetPolicy( &port, policy->checks, policy->list, policy->listLength, policy->signer, policy->signerLength ) != 0 ) )
    {
        fprintf( stderr, "  policy: %s\n", port.error );
    }
    else
    {
        HIL_PosixPortBind( &port, &pal );
        HIL_OtaInit( &context );
        outcome = HIL_OtaProcessJob( &context, &pal, json, len, NULL, &result );
    }

    HIL_PosixPortClose( &port );
    free( json );
    return outcome;
}

/* The raw signature bytes of the fixture job (decoded from the document's base64). */
static size_t jobSignature( uint8_t * out, size_t capacity )
{
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( path( "jobs/ecdsa-openssl-payload.json" ), &len, 0 );
    const char * query = "execution.jobDocument.afr_ota.files[0].sig-sha256-ecdsa";
    const char * value = NULL;
    size_t valueLen = 0U;
    size_t decoded = 0U;

    if( ( json != NULL ) && ( HIL_JsonSearch( json, len, query, strlen( query ), &value, &valueLen, NULL ) == HilJsonSuccess ) )
    {
        if( HIL_Base64Decode( out, capacity, &decoded, ( const uint8_t * ) value, valueLen ) != HilBase64Success )
        {
            decoded = 0U;
        }
    }

    free( json );
    return decoded;
}

/* ---- building lists: header, entries, then the signer's DER signature ---- */

static uint8_t list[ 4096 ];
static size_t listLength;

static void putBigEndian( uint8_t * p, uint64_t value, size_t count )
{
    size_t i;

    for( i = 0U; i < count; i++ )
    {
        p[ i ] = ( uint8_t ) ( value >> ( 8U * ( count - 1U - i ) ) );
    }
}

static void listStart( uint64_t issuedAt )
{
    ( void ) memcpy( list, "OTRL", 4U );
    list[ 4 ] = 1U;
    putBigEndian( &list[ 5 ], issuedAt, 8U );
    putBigEndian( &list[ 13 ], 0U, 4U );
    listLength = HIL_REVOCATION_HEADER_LENGTH;
}

static void listAdd( const uint8_t * pSignature, size_t signatureLength, uint8_t reason, uint64_t when )
{
    uint32_t count = ( uint32_t ) ( ( listLength - HIL_REVOCATION_HEADER_LENGTH ) / HIL_REVOCATION_ENTRY_LENGTH );

    ( void ) mbedtls_sha256_ret( pSignature, signatureLength, &list[ listLength ], 0 );
    list[ listLength + 32U ] = reason;
    putBigEndian( &list[ listLength + 33U ], when, 8U );
    listLength += HIL_REVOCATION_ENTRY_LENGTH;
    putBigEndian( &list[ 13 ], count + 1U, 4U );
}

/* Appends the length-prefixed signature of `keyFile` over the list so far. */
static int listSign( const char * keyFile )
{
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    uint8_t digest[ 32 ];
    uint8_t signature[ MBEDTLS_PK_SIGNATURE_MAX_SIZE ];
    size_t signatureLength = 0U;
    int error;

    mbedtls_pk_init( &key );
    mbedtls_entropy_init( &entropy );
    mbedtls_ctr_drbg_init( &drbg );
    error = mbedtls_ctr_drbg_seed( &drbg, mbedtls_entropy_func, &entropy, NULL, 0U );

    if( error == 0 )
    {
        error = mbedtls_pk_parse_keyfile( &key, keyFile, NULL );
    }

    if( error == 0 )
    {
        ( void ) mbedtls_sha256_ret( list, listLength, digest, 0 );
        error = mbedtls_pk_sign( &key, MBEDTLS_MD_SHA256, digest, sizeof( digest ), signature, &signatureLength, mbedtls_ctr_drbg_random, &drbg );
    }

    if( error == 0 )
    {
        putBigEndian( &list[ listLength ], signatureLength, 2U );
        ( void ) memcpy( &list[ listLength + 2U ], signature, signatureLength );
        listLength += 2U + signatureLength;
    }
    else
    {
        fprintf( stderr, "  cannot sign the list with %s: -0x%04x\n", keyFile, ( unsigned ) -error );
    }

    mbedtls_pk_free( &key );
    mbedtls_ctr_drbg_free( &drbg );
    mbedtls_entropy_free( &entropy );
    return error;
}

/* A list signed by the provisioned signer holding one unrelated entry, or the job's own signature with `reason`. */
static void makeList( int revokeJob, uint8_t reason )
{
    uint8_t signature[ 512 ];
    const size_t signatureLength = jobSignature( signature, sizeof( signature ) );
    static const uint8_t other[] = { 1, 2, 3, 4 };

    CHECK( signatureLength > 0U );
    listStart( 1767225600U );                            /* 2026-01-01T00:00:00Z */
    listAdd( other, sizeof( other ), 1U, 1767225600U );

    if( revokeJob )
    {
        listAdd( signature, signatureLength, reason, 1767312000U );   /* 2026-01-02T00:00:00Z */
    }

    CHECK( listSign( path( "revocation/list-signer.key" ) ) == 0 );
}

#define REJECTED_WITH( sub ) \
    ( ( result.outcome == HilOtaRejectedSignature ) && ( result.palStatus == HIL_PAL_COMBINE( HilPalSignatureCheckFailed, ( sub ) ) ) )

/* ---- the tests ---- */

static void test_HIL_PolicyCheck_StockDeviceIgnoresPolicyInputs( void )
{
    /* No policy: an expired certificate and a revoking list change nothing (the stock PAL checks neither). */
    Policy_t policy = { 0 };

    makeList( 1, 1U );
    policy.stock = true;
    policy.hasTime = true;
    policy.now = INT64_C( 4102444800 );
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( strstr( transcript, "Device policy" ) == NULL );

    /* A policy with no checks enabled is the stock device too. */
    policy.stock = false;
    policy.list = list;
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( strstr( transcript, "Device policy" ) == NULL );
}

static void test_HIL_PolicyCheck_ValidListAndMiss( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };

    makeList( 0, 0U );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( logged( "[INFO] Device policy: revocation list issued 2026-01-01T00:00:00Z with 1 entries verified." ) );
    CHECK( logged( "[INFO] Device policy: the signature is not on the revocation list." ) );
    CHECK( logged( "[INFO] Received entire update and validated the signature." ) );
}

static void test_HIL_PolicyCheck_RevokedHit( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };

    makeList( 1, 1U );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature );
    CHECK( REJECTED_WITH( HIL_POLICY_SUB_SIGNATURE_REVOKED ) );
    CHECK( logged( "[ERROR] Device policy: the signature is revoked (its signing job was revoked at 2026-01-02T00:00:00Z)." ) );
    CHECK( logged( "[ERROR] Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3005201)" ) );
    CHECK( result.ingestResult == -2 );

    makeList( 1, 2U );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature );
    CHECK( REJECTED_WITH( HIL_POLICY_SUB_PROFILE_REVOKED ) );
    CHECK( logged( "[ERROR] Device policy: the signature is revoked (its signing profile version was revoked effective 2026-01-02T00:00:00Z)." ) );
}

static void test_HIL_PolicyCheck_TamperedList( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };

    /* The job's entry dropped from a signed list by flipping one bit of its hash: the signature no longer covers it. */
    makeList( 1, 1U );
    list[ HIL_REVOCATION_HEADER_LENGTH + HIL_REVOCATION_ENTRY_LENGTH + 5U ] ^= 0x01U;
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature );
    CHECK( REJECTED_WITH( HIL_POLICY_SUB_LIST_SIGNATURE_INVALID ) );
    CHECK( logged( "[ERROR] Device policy: the revocation list's signature does not verify with otarig-revocation.crt." ) );
}

static void test_HIL_PolicyCheck_TruncatedAndMalformedLists( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };
    size_t full;
    size_t cut;

    makeList( 1, 1U );
    full = listLength;

    /* Every shorter prefix is refused as malformed, never accepted and never read past its end. */
    for( cut = 1U; cut < full; cut++ )
    {
        policy.listLength = cut;
        CHECK( runPolicy( &policy ) == HilOtaRejectedSignature );
        CHECK( REJECTED_WITH( HIL_POLICY_SUB_LIST_MALFORMED ) );
    }

    policy.listLength = 10U;
    ( void ) runPolicy( &policy );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: truncated header." ) );
    policy.listLength = HIL_REVOCATION_HEADER_LENGTH + 50U;
    ( void ) runPolicy( &policy );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: truncated entries." ) );
    policy.listLength = full - 1U;
    ( void ) runPolicy( &policy );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: truncated signature." ) );

    /* A byte after the signature. */
    list[ full ] = 0U;
    policy.listLength = full + 1U;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: trailing bytes after the signature." ) );

    /* Bad magic, another version, an unknown reason. */
    policy.listLength = full;
    list[ 0 ] = 'X';
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_MALFORMED ) );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: bad magic." ) );
    list[ 0 ] = 'O';
    list[ 4 ] = 2U;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_VERSION ) );
    CHECK( logged( "[ERROR] Device policy: the revocation list has format version 2; this device reads version 1." ) );
    list[ 4 ] = 1U;
    list[ HIL_REVOCATION_HEADER_LENGTH + 32U ] = 7U;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_MALFORMED ) );
    CHECK( logged( "[ERROR] Device policy: the revocation list is malformed: an entry has an unknown reason." ) );
}

static void test_HIL_PolicyCheck_WrongSignerAndMissingPieces( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };
    size_t certLength = 0U;
    uint8_t * otherCert = hilReadFile( path( "revocation/other-signer.crt" ), &certLength, 0 );

    /* A list signed by a key other than the provisioned signer's. */
    listStart( 1767225600U );
    CHECK( listSign( path( "revocation/other-signer.key" ) ) == 0 );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_SIGNATURE_INVALID ) );

    /* The same list with the stranger's certificate given as the signer (PEM without its NUL: the port adds it). */
    CHECK( otherCert != NULL );
    policy.signer = otherCert;
    policy.signerLength = certLength;
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( logged( "[INFO] Device policy: revocation list issued 2026-01-01T00:00:00Z with 0 entries verified." ) );

    /* A signer certificate mbedTLS cannot parse. */
    policy.signer = ( const uint8_t * ) "not a certificate";
    policy.signerLength = 17U;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_SIGNER_UNREADABLE ) );
    CHECK( logged( "[ERROR] Device policy: the revocation list signer certificate (otarig-revocation.crt) is missing or unreadable." ) );

    /* No list provisioned: fail closed. */
    policy.list = NULL;
    policy.listLength = 0U;
    policy.signer = otherCert;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_LIST_MISSING ) );
    CHECK( logged( "[ERROR] Device policy: revocation checking is on but no revocation list is provisioned." ) );
    free( otherCert );
}

static void test_HIL_PolicyCheck_CertificateValidity( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_CERTIFICATE_VALIDITY, NULL, 0U, NULL, 0U, true, 0, false };

    /* Inside the validity period (the fixture certificate is made today for 365 days). */
    policy.now = ( int64_t ) time( NULL ) + 3600;
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( strstr( transcript, "[INFO] Device policy: the signer certificate is valid from " ) != NULL );

    /* A clock at 1970: not yet valid. */
    policy.now = 0;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_CERT_NOT_YET_VALID ) );
    CHECK( strstr( transcript, "[ERROR] Device policy: the signer certificate is not valid before " ) != NULL );
    CHECK( strstr( transcript, " (device time 1970-01-01T00:00:00Z).\n" ) != NULL );
    CHECK( logged( "[ERROR] Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3005001)" ) );

    /* 2100-01-01: expired. */
    policy.now = INT64_C( 4102444800 );
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_CERT_EXPIRED ) );
    CHECK( strstr( transcript, " (device time 2100-01-01T00:00:00Z).\n" ) != NULL );
    CHECK( strstr( transcript, "[ERROR] Device policy: the signer certificate expired at " ) != NULL );
}

static void test_HIL_PolicyCheck_NoTrustedTimeSkips( void )
{
    Policy_t policy = { HIL_POLICY_CHECK_CERTIFICATE_VALIDITY | HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };

    makeList( 0, 0U );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaAccepted );
    CHECK( logged( "[WARN] Device policy: no trusted time; skipping the certificate validity check." ) );
    CHECK( logged( "[INFO] Device policy: the signature is not on the revocation list." ) );

    /* Validity refuses first: revocation is not consulted after a refusal. */
    policy.hasTime = true;
    policy.now = INT64_C( 4102444800 );
    makeList( 1, 1U );
    policy.listLength = listLength;
    CHECK( runPolicy( &policy ) == HilOtaRejectedSignature && REJECTED_WITH( HIL_POLICY_SUB_CERT_EXPIRED ) );
    CHECK( strstr( transcript, "revocation list" ) == NULL );
}

static void test_HIL_PolicyCheck_BadSignatureStaysStock( void )
{
    /* A signature that does not verify is refused before the policy runs, with the stock sub-code 0. */
    Policy_t policy = { HIL_POLICY_CHECK_REVOCATION, list, 0U, NULL, 0U, false, 0, false };
    HilPal_t pal;
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( path( "jobs/ecdsa-openssl-payload_aligned.json" ), &len, 0 );

    makeList( 0, 0U );
    policy.listLength = listLength;
    transcriptLen = 0U;
    transcript[ 0 ] = '\0';
    ( void ) memset( &port, 0, sizeof( port ) );
    CHECK( json != NULL );
    CHECK( HIL_PosixPortOpen( &port, path( "payload.bin" ), path( "certs" ), NULL ) == 0 );
    port.log = onLog;
    CHECK( HIL_PosixPortSetPolicy( &port, policy.checks, policy.list, policy.listLength, NULL, 0U ) == 0 );
    HIL_PosixPortBind( &port, &pal );
    HIL_OtaInit( &context );
    /* The aligned payload's job over the longer payload: the digest differs. */
    CHECK( HIL_OtaProcessJob( &context, &pal, json, len, NULL, &result ) == HilOtaRejectedSignature );
    CHECK( result.palStatus == HIL_PAL_COMBINE( HilPalSignatureCheckFailed, 0U ) );
    CHECK( strstr( transcript, "Device policy" ) == NULL );
    HIL_PosixPortClose( &port );
    free( json );
}

static void test_HIL_RevocationListParse_Bounds( void )
{
    HilRevocationList_t parsed;
    const char * why = NULL;
    uint8_t header[ 17 ] = { 'O', 'T', 'R', 'L', 1U, 0, 0, 0, 0, 0, 0, 0, 1, 0xFFU, 0xFFU, 0xFFU, 0xFFU };

    /* An entry count that would overflow a 32-bit multiply is refused by division, not read. */
    CHECK( HIL_RevocationListParse( header, sizeof( header ), &parsed, &why ) == HilRevocationParseMalformed );
    CHECK( why != NULL && strcmp( why, "truncated entries" ) == 0 );
    CHECK( HIL_RevocationListParse( NULL, 0U, &parsed, &why ) == HilRevocationParseMalformed );

    {
        char text[ 32 ];
        HIL_PolicyFormatTime( INT64_C( 253402300799 ), text, sizeof( text ) );
        CHECK( strcmp( text, "9999-12-31T23:59:59Z" ) == 0 );
        HIL_PolicyFormatTime( INT64_C( 253402300800 ), text, sizeof( text ) );
        CHECK( strcmp( text, "unix 253402300800" ) == 0 );
        HIL_PolicyFormatTime( -1, text, sizeof( text ) );
        CHECK( strcmp( text, "unix -1" ) == 0 );
        HIL_PolicyFormatTime( INT64_C( 951782400 ), text, sizeof( text ) );
        CHECK( strcmp( text, "2000-02-29T00:00:00Z" ) == 0 );
    }
}

int main( int argc, char ** argv )
{
    if( argc > 1 )
    {
        fixtures = argv[ 1 ];
    }

    RUN( test_HIL_PolicyCheck_StockDeviceIgnoresPolicyInputs );
    RUN( test_HIL_PolicyCheck_ValidListAndMiss );
    RUN( test_HIL_PolicyCheck_RevokedHit );
    RUN( test_HIL_PolicyCheck_TamperedList );
    RUN( test_HIL_PolicyCheck_TruncatedAndMalformedLists );
    RUN( test_HIL_PolicyCheck_WrongSignerAndMissingPieces );
    RUN( test_HIL_PolicyCheck_CertificateValidity );
    RUN( test_HIL_PolicyCheck_NoTrustedTimeSkips );
    RUN( test_HIL_PolicyCheck_BadSignatureStaysStock );
    RUN( test_HIL_RevocationListParse_Bounds );
    return hilTestSummary( "hil_policy" );
}
