/*
 * HIL_OtaProcessJob end to end through the POSIX port: images and job documents signed by `otarig sign` and by
 * openssl (made by test/make_fixtures.sh into the directory given as argv[1]), the FreeRTOS OTA PAL qualification
 * vectors, and the agent's error paths. Log transcripts and job-status messages are compared character for
 * character with the texts of aws/ota-for-aws-iot-embedded-sdk source/ota.c / ota_mqtt.c @477ee9a5, written out here
 * literally rather than derived from the core's format strings.
 */
#include "hil_ota.h"
#include "hil_posix_pal.h"
#include "hil_json.h"
#include "hil_test.h"

#include <unistd.h>

#define PAL_VECTORS    "../Tests/CodeSigningTests/Fixtures/freertos/"

static const char * fixtures = "build/fixtures";
static char scratch[ 256 ];

/* ---- a device run: the transcript of log lines and job-status messages ---- */

static char transcript[ 1 << 16 ];
static size_t transcriptLen;
static char statuses[ 1 << 13 ];
static size_t statusesLen;

static void appendTo( char * buffer, size_t capacity, size_t * pLen, const char * a, const char * b )
{
    const int n = snprintf( &buffer[ *pLen ], capacity - *pLen, "%s %s\n", a, b );

    if( n > 0 )
    {
        *pLen += ( size_t ) n;
    }
}

static void onLog( void * pContext, HilLogLevel_t level, const char * pLine )
{
    char tag[ 16 ];

    ( void ) pContext;
    ( void ) snprintf( tag, sizeof( tag ), "[%s]", HIL_LogLevelName( level ) );
    appendTo( transcript, sizeof( transcript ), &transcriptLen, tag, pLine );
}

static void onStatus( void * pContext, const char * pJobId, const char * pJson )
{
    ( void ) pContext;
    appendTo( statuses, sizeof( statuses ), &statusesLen, pJobId, pJson );
}

typedef struct
{
    const char * image;
    const char * certDir;
    const char * fallback;
    const char * key;                    /* NULL: sig-sha256-ecdsa */
    uint32_t version;                    /* running version */
    HilPalImageState_t platformState;    /* 0: Valid */
} Device_t;

static HilOtaContext_t context;
static HilPosixPort_t port;
static HilOtaResult_t result;
static uint32_t partitionSize;           /* the next runs' HilPal_t.partitionSize; 0: unlimited */
static uint32_t closeTrailerSize;        /* and closeTrailerSize */

static HilOtaOutcome_t runDevice( const Device_t * device, const char * json, size_t len )
{
    HilPal_t pal;
    HilOtaOutcome_t outcome;

    transcriptLen = 0U;
    transcript[ 0 ] = '\0';
    statusesLen = 0U;
    statuses[ 0 ] = '\0';
    ( void ) memset( &port, 0, sizeof( port ) );

    if( HIL_PosixPortOpen( &port, device->image, device->certDir, device->fallback ) != 0 )
    {
        fprintf( stderr, "  port: %s\n", port.error );
        return HilOtaInputError;
    }

    port.runningVersion = ( device->version != 0U ) ? device->version : 0x01000001U;

    if( device->platformState != HilPalImageStateUnknown )
    {
        port.platformState = device->platformState;
    }

    port.log = onLog;
    port.publishStatus = onStatus;
    port.partitionSize = partitionSize;
    port.closeTrailerSize = closeTrailerSize;
    HIL_PosixPortBind( &port, &pal );
    HIL_OtaInit( &context );
    outcome = HIL_OtaProcessJob( &context, &pal, json, len, device->key, &result );
    HIL_PosixPortClose( &port );
    return outcome;
}

static HilOtaOutcome_t runFile( const Device_t * device, const char * jobPath )
{
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( jobPath, &len, 0 );
    HilOtaOutcome_t outcome = HilOtaInputError;

    if( json != NULL )
    {
        outcome = runDevice( device, json, len );
        free( json );
    }

    return outcome;
}

/* The transcript holds this exact line. */
static int logged( const char * line )
{
    char needle[ 1024 ];
    const size_t lineLen = strlen( line );

    if( ( strncmp( transcript, line, lineLen ) == 0 ) && ( transcript[ lineLen ] == '\n' ) )
    {
        return 1;
    }

    ( void ) snprintf( needle, sizeof( needle ), "\n%s\n", line );
    return strstr( transcript, needle ) != NULL;
}

static int sameText( const char * actual, const char * expected )
{
    if( strcmp( actual, expected ) != 0 )
    {
        fprintf( stderr, "  --- expected\n%s  --- actual\n%s", expected, actual );
        return 0;
    }

    return 1;
}

static const char * fixture( const char * relative )
{
    static char paths[ 8 ][ 512 ];
    static unsigned next;
    char * path = paths[ next++ % 8U ];

    ( void ) snprintf( path, 512, "%s/%s", fixtures, relative );
    return path;
}

static char * certsDir( void )
{
    static char dir[ 512 ];

    ( void ) snprintf( dir, sizeof( dir ), "%s/certs", fixtures );
    return dir;
}

/* The signature value of a job document, and its first 32 characters as the agent logs them. */
static size_t signatureOf( const char * jobPath, const char * key, char * out, size_t capacity )
{
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( jobPath, &len, 0 );
    char query[ 128 ];
    const char * value = NULL;
    size_t valueLen = 0U;

    out[ 0 ] = '\0';

    if( json == NULL )
    {
        return 0U;
    }

    ( void ) snprintf( query, sizeof( query ), "execution.jobDocument.afr_ota.files[0].%s", key );

    if( ( HIL_JsonSearch( json, len, query, strlen( query ), &value, &valueLen, NULL ) == HilJsonSuccess ) && ( valueLen < capacity ) )
    {
        ( void ) memcpy( out, value, valueLen );
        out[ valueLen ] = '\0';
    }
    else
    {
        valueLen = 0U;
    }

    free( json );
    return valueLen;
}

static void writeFile( const char * path, const uint8_t * data, size_t len )
{
    FILE * file = fopen( path, "wb" );

    CHECK( file != NULL );

    if( file != NULL )
    {
        CHECK( fwrite( data, 1U, len, file ) == len );
        ( void ) fclose( file );
    }
}

/* A job document in the shape a device receives, for one file. */
static size_t jobDocument( char * out, size_t capacity, const char * jobId, const char * statusDetails, const char * protocols,
                           const char * fileFields )
{
    const int n = snprintf( out, capacity,
                            "{\"clientToken\":\"0:testclient\",\"timestamp\":1602795143,\"execution\":{\"jobId\":\"%s\",\"status\":\"IN_PROGRESS\"%s%s"
                            ",\"jobDocument\":{\"afr_ota\":{\"protocols\":%s,\"streamname\":\"AFR_OTA-XYZ\",\"files\":[{%s}]}}}}",
                            jobId, ( statusDetails != NULL ) ? ",\"statusDetails\":" : "", ( statusDetails != NULL ) ? statusDetails : "",
                            protocols, fileFields );

    return ( n > 0 ) ? ( size_t ) n : 0U;
}

/* ---- valid images from both signers ---- */

static void test_HIL_OtaProcessJob_ValidImagesFromOtarigAndOpenssl( void )
{
    static const struct
    {
        const char * job;
        const char * key;
        HilHash_t hash;
    } cases[] =
    {
        { "jobs/ecdsa-otarig-payload.json",           "sig-sha256-ecdsa", HilHashSha256 },
        { "jobs/ecdsa-openssl-payload.json",          "sig-sha256-ecdsa", HilHashSha256 },
        { "jobs/ecdsa-otarig-payload_aligned.json",   "sig-sha256-ecdsa", HilHashSha256 },
        { "jobs/ecdsa-openssl-payload_aligned.json",  "sig-sha256-ecdsa", HilHashSha256 },
        { "jobs/rsa256-otarig-payload.json",          "sig-sha256-rsa",   HilHashSha256 },
        { "jobs/rsa256-openssl-payload.json",         "sig-sha256-rsa",   HilHashSha256 },
        { "jobs/rsa1-otarig-payload.json",            "sig-sha1-rsa",     HilHashSha1   },
        { "jobs/rsa1-openssl-payload.json",           "sig-sha1-rsa",     HilHashSha1   },
        { "jobs/rsa1-otarig-payload_aligned.json",    "sig-sha1-rsa",     HilHashSha1   },
        { "jobs/rsa1-openssl-payload_aligned.json",   "sig-sha1-rsa",     HilHashSha1   }
    };
    size_t i;

    for( i = 0U; i < sizeof( cases ) / sizeof( cases[ 0 ] ); i++ )
    {
        const int aligned = strstr( cases[ i ].job, "aligned" ) != NULL;
        const Device_t device = { fixture( aligned ? "payload_aligned.bin" : "payload.bin" ), certsDir(), NULL, cases[ i ].key, 0U, 0 };
        const HilOtaOutcome_t outcome = runFile( &device, fixture( cases[ i ].job ) );

        if( outcome != HilOtaAccepted )
        {
            fprintf( stderr, "  %s: %s\n%s", cases[ i ].job, HIL_OtaOutcomeName( outcome ), transcript );
        }

        CHECK( outcome == HilOtaAccepted );
        CHECK( result.palStatus == 0U );
        CHECK( result.hash == cases[ i ].hash );
        CHECK( result.bytesReceived == ( aligned ? 8192U : 70001U ) );
        CHECK( result.imageState == HilImageStateUnknown );
        CHECK( result.ingestResult == -1 );
        CHECK( logged( "[INFO] Received entire update and validated the signature." ) );
    }
}

/* The whole transcript of an accepted ECDSA image, as a device console shows it. */
static void test_HIL_OtaProcessJob_AcceptedTranscript( void )
{
    char signature[ 600 ];
    char fields[ 1024 ];
    char json[ 2048 ];
    char expected[ 4096 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, 0 };

    CHECK( signatureOf( fixture( "jobs/ecdsa-openssl-payload.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 32U );
    ( void ) snprintf( fields, sizeof( fields ),
                       "\"filepath\":\"/test/demo\",\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-openssl.crt\",\"fileType\":0,\"attr\":0,"
                       "\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-testjob20", NULL, "[\"MQTT\"]", fields );

    CHECK( runDevice( &device, json, len ) == HilOtaAccepted );
    ( void ) snprintf( expected, sizeof( expected ),
                       "[INFO] Extracted parameter: [key: value]=[execution.jobId: AFR_OTA-testjob20]\n"
                       "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.streamname: AFR_OTA-XYZ]\n"
                       "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.protocols: [\"MQTT\"]]\n"
                       "[INFO] Extracted parameter: [key: value]=[filepath: /test/demo]\n"
                       "[INFO] Extracted parameter: [key: value]=[filesize: 70001]\n"
                       "[INFO] Extracted parameter: [key: value]=[fileid: 0]\n"
                       "[INFO] Extracted parameter: [key: value]=[certfile: ecdsa-openssl.crt]\n"
                       "[INFO] Extracted parameter [ sig-sha256-ecdsa: %.32s... ]\n"
                       "[INFO] Extracted parameter: [key: value]=[attr: 0]\n"
                       "[INFO] Extracted parameter: [key: value]=[fileType: 0]\n"
                       "[INFO] Job document was accepted. Attempting to begin the update.\n"
                       "[INFO] Job parsing success: OtaJobParseErr_t=OtaJobParseErrNone, Job name=AFR_OTA-testjob20\n"
                       "[INFO] Setting OTA data interface.\n"
                       "[INFO] Received final block of the update.\n"
                       "[INFO] Using cert with label: ecdsa-openssl.crt OK\n"
                       "[INFO] Received entire update and validated the signature.\n",
                       signature );
    CHECK( sameText( transcript, expected ) );
    CHECK( sameText( statuses,
                     "AFR_OTA-testjob20 {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/18\"}}\n"
                     "AFR_OTA-testjob20 {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"ready\",\"updatedBy\":\"0x01000001\"}}\n" ) );
}

/* ---- rejections of the image ---- */

static void expectSignatureFailure( const char * what )
{
    CHECK( result.outcome == HilOtaRejectedSignature );
    CHECK( result.palStatus == 0xe3000000U );
    CHECK( result.ingestResult == -2 );
    CHECK( result.imageState == HilImageStateRejected );
    CHECK( port.lastState == HilImageStateRejected );
    CHECK( logged( "[ERROR] Signature verification failed" ) );
    CHECK( logged( "[ERROR] Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3000000)" ) );
    CHECK( logged( "[ERROR] Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-2" ) );
    CHECK( strstr( statuses, " {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e3: 0x00000000\"}}\n" ) != NULL );

    if( result.outcome != HilOtaRejectedSignature )
    {
        fprintf( stderr, "  %s:\n%s", what, transcript );
    }
}

static void test_HIL_OtaProcessJob_PayloadBitFlip( void )
{
    static const char * const jobs[] = { "jobs/ecdsa-otarig-payload.json", "jobs/rsa256-openssl-payload.json", "jobs/rsa1-otarig-payload.json" };
    static const char * const keys[] = { "sig-sha256-ecdsa", "sig-sha256-rsa", "sig-sha1-rsa" };
    size_t len = 0U;
    uint8_t * image = hilReadFile( fixture( "payload.bin" ), &len, 0 );
    size_t i;

    CHECK( image != NULL && len == 70001U );

    if( image == NULL )
    {
        return;
    }

    ( void ) snprintf( scratch, sizeof( scratch ), "%s/flipped.bin", fixtures );

    for( i = 0U; i < 3U; i++ )
    {
        const size_t bit = ( i == 0U ) ? 0U : ( i == 1U ) ? ( 4096U * 8U * 9U + 3U ) : ( 70000U * 8U + 7U ); /* first, middle, last byte */
        const Device_t device = { scratch, certsDir(), NULL, keys[ i ], 0U, 0 };

        image[ bit / 8U ] ^= ( uint8_t ) ( 1U << ( bit % 8U ) );
        writeFile( scratch, image, len );
        image[ bit / 8U ] ^= ( uint8_t ) ( 1U << ( bit % 8U ) );
        CHECK( runFile( &device, fixture( jobs[ i ] ) ) == HilOtaRejectedSignature );
        expectSignatureFailure( jobs[ i ] );
    }

    free( image );
}

/* One bit of the decoded signature flipped: the base64 digit in the middle moves to its neighbour. */
static void test_HIL_OtaProcessJob_SignatureBitFlip( void )
{
    static const char * const jobs[] = { "jobs/ecdsa-openssl-payload.json", "jobs/rsa256-otarig-payload.json", "jobs/rsa1-openssl-payload.json" };
    static const char * const keys[] = { "sig-sha256-ecdsa", "sig-sha256-rsa", "sig-sha1-rsa" };
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    for( i = 0U; i < 3U; i++ )
    {
        size_t len = 0U;
        char * json = ( char * ) hilReadFile( fixture( jobs[ i ] ), &len, 0 );
        char * sig;
        const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, keys[ i ], 0U, 0 };

        CHECK( json != NULL );

        if( json == NULL )
        {
            continue;
        }

        sig = strstr( json, keys[ i ] );
        CHECK( sig != NULL );

        if( sig != NULL )
        {
            char * digit = sig + strlen( keys[ i ] ) + 3U + 20U; /* past `":"`, well inside the value */
            const size_t index = ( size_t ) ( strchr( alphabet, *digit ) - alphabet );
            *digit = alphabet[ index ^ 1U ];
            CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
            expectSignatureFailure( jobs[ i ] );
            CHECK( result.cryptoResult == HilCryptoInvalidSignature );
        }

        free( json );
    }
}

/* The server streams the file it has: a shorter file delivers a short last block, which validateDataBlock refuses. */
static void test_HIL_OtaProcessJob_TruncatedImage( void )
{
    size_t len = 0U;
    uint8_t * image = hilReadFile( fixture( "payload.bin" ), &len, 0 );
    const Device_t device = { scratch, certsDir(), NULL, NULL, 0U, 0 };

    CHECK( image != NULL );

    if( image == NULL )
    {
        return;
    }

    ( void ) snprintf( scratch, sizeof( scratch ), "%s/truncated.bin", fixtures );
    writeFile( scratch, image, 70001U - 100U );
    CHECK( runFile( &device, fixture( "jobs/ecdsa-otarig-payload.json" ) ) == HilOtaRejectedBlock );
    CHECK( result.blockIndex == 17U );
    CHECK( result.blockSize == 269U ); /* 70001 - 100 - 17 * 4096 */
    CHECK( logged( "[ERROR] Block range check failed: Received a block outside of the expected range: Block index=17, Block size=269" ) );
    CHECK( logged( "[ERROR] Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-7" ) );
    CHECK( sameText( statuses,
                     "AFR_OTA-ecdsa-otarig {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/18\"}}\n"
                     "AFR_OTA-ecdsa-otarig {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e0: 0x00000000\"}}\n" ) );
    CHECK( port.lastState == HilImageStateRejected );

    /* Cut at a block boundary: block 16 never arrives in full either. */
    writeFile( scratch, image, 16U * 4096U );
    CHECK( runFile( &device, fixture( "jobs/ecdsa-otarig-payload.json" ) ) == HilOtaRejectedBlock );
    CHECK( logged( "[ERROR] Block range check failed: Received a block outside of the expected range: Block index=16, Block size=0" ) );
    free( image );
}

/* A file larger than the partition it is written into (the ESP32 PAL: esp_ota_begin with OTA_SIZE_UNKNOWN checks
 * nothing; otaPal_WriteBlock fails for a block that ends past the partition, and the close appends an 80-byte
 * signature block after the image). payload.bin is 70001 bytes, 18 blocks. */
static void test_HIL_OtaProcessJob_PartitionTooSmall( void )
{
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };
    static const char * const job = "jobs/ecdsa-otarig-payload.json";

    closeTrailerSize = 80U;

    /* No partition size: today's behaviour, trailer or not. */
    partitionSize = 0U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaAccepted );

    /* The image and its signature block fit exactly. */
    partitionSize = 70001U + 80U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaAccepted );
    CHECK( result.palStatus == 0U );
    CHECK( result.bytesReceived == 70001U );

    /* The image fills the partition: every block is written, the signature verifies, then the signature block does
     * not fit and the close fails. */
    partitionSize = 70001U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaRejectedWrite );
    CHECK( result.palStatus == 0xee000000U );
    CHECK( result.ingestResult == -3 );
    CHECK( result.cryptoResult == HilCryptoValid );
    CHECK( port.lastState == HilImageStateRejected );
    CHECK( logged( "[INFO] Received final block of the update." ) );
    CHECK( logged( "[ERROR] Failed to close the OTA file: Error=(OtaPalFileClose:0xee000000)" ) );
    CHECK( logged( "[ERROR] Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-3" ) );
    CHECK( strstr( transcript, "Signature verification failed" ) == NULL );
    CHECK( sameText( statuses,
                     "AFR_OTA-ecdsa-otarig {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/18\"}}\n"
                     "AFR_OTA-ecdsa-otarig {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000ee: 0x00000000\"}}\n" ) );

    /* Without a trailer the same partition takes the image. */
    closeTrailerSize = 0U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaAccepted );
    closeTrailerSize = 80U;

    /* One byte over: the last block (17, offset 69632, 369 bytes) ends past the partition. */
    partitionSize = 70000U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaRejectedWrite );
    CHECK( result.blockIndex == 17U );
    CHECK( result.blockSize == 369U );
    CHECK( result.bytesReceived == 17U * 4096U );
    CHECK( result.ingestResult == -9 );
    CHECK( result.palStatus == 0xe0000000U );
    CHECK( result.imageState == HilImageStateRejected );
    CHECK( port.lastState == HilImageStateRejected );
    CHECK( logged( "[ERROR] Couldn't flash at the offset 69632" ) );
    CHECK( logged( "[ERROR] Failed to ingest received block: iBytesWritten: -1, IngestResult_t=-9" ) );
    CHECK( logged( "[ERROR] Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-9" ) );
    CHECK( strstr( transcript, "Received final block" ) == NULL );
    CHECK( strstr( transcript, "Using cert" ) == NULL );
    CHECK( sameText( statuses,
                     "AFR_OTA-ecdsa-otarig {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/18\"}}\n"
                     "AFR_OTA-ecdsa-otarig {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e0: 0x00000000\"}}\n" ) );

    /* Many blocks over: a two-block partition refuses block 2, the first that does not fit. */
    partitionSize = 8192U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaRejectedWrite );
    CHECK( result.blockIndex == 2U );
    CHECK( result.bytesReceived == 8192U );
    CHECK( logged( "[ERROR] Couldn't flash at the offset 8192" ) );
    CHECK( strcmp( HIL_OtaOutcomeName( HilOtaRejectedWrite ), "rejected-write" ) == 0 );

    /* A partition that ends inside block 0. */
    partitionSize = 100U;
    CHECK( runFile( &device, fixture( job ) ) == HilOtaRejectedWrite );
    CHECK( result.blockIndex == 0U );
    CHECK( result.bytesReceived == 0U );
    CHECK( logged( "[ERROR] Couldn't flash at the offset 0" ) );
    CHECK( sameText( statuses, "AFR_OTA-ecdsa-otarig {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e0: 0x00000000\"}}\n" ) );

    partitionSize = 0U;
    closeTrailerSize = 0U;
}

/* filesize in the job disagrees with the file. */
static void test_HIL_OtaProcessJob_FileSizeMismatch( void )
{
    char signature[ 600 ];
    char fields[ 1024 ];
    char json[ 2048 ];
    size_t len;
    const Device_t device = { fixture( "payload_aligned.bin" ), certsDir(), NULL, NULL, 0U, 0 };

    CHECK( signatureOf( fixture( "jobs/ecdsa-otarig-payload_aligned.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 0U );

    /* One byte less: the stream's last block is a byte too long. */
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":8191,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-size", NULL, "[\"MQTT\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedBlock );
    CHECK( logged( "[ERROR] Block range check failed: Received a block outside of the expected range: Block index=1, Block size=4096" ) );

    /* One block less: the device receives and hashes only [0, 4096), so the signature over 8192 bytes fails. */
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":4096,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-size", NULL, "[\"MQTT\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
    CHECK( result.bytesReceived == 4096U );
    expectSignatureFailure( "filesize 4096" );

    /* A file longer than filesize, which ends on a block boundary: the bytes after it are never requested, so the
     * device hashes [0, 8192) of the 70001-byte file, which is not what was signed. */
    {
        const Device_t longer = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };
        CHECK( runFile( &longer, fixture( "jobs/ecdsa-otarig-payload_aligned.json" ) ) == HilOtaRejectedSignature );
        CHECK( result.bytesReceived == 8192U );
    }
}

static void test_HIL_OtaProcessJob_WrongCertificate( void )
{
    size_t len = 0U;
    char * json = ( char * ) hilReadFile( fixture( "jobs/ecdsa-otarig-payload.json" ), &len, 0 );
    char * name;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };

    CHECK( json != NULL );

    if( json == NULL )
    {
        return;
    }

    /* ecdsa-otarig.crt -> ecdsa-openssl.crt would change the length; point at the other signer's file instead. */
    name = strstr( json, "\"certfile\":\"ecdsa-otarig.crt\"" );
    CHECK( name != NULL );

    if( name != NULL )
    {
        char patched[ 4096 ];
        const size_t head = ( size_t ) ( name - json );
        const int n = snprintf( patched, sizeof( patched ), "%.*s\"certfile\":\"ecdsa-openssl.crt\"%s", ( int ) head, json,
                                name + strlen( "\"certfile\":\"ecdsa-otarig.crt\"" ) );

        CHECK( runDevice( &device, patched, ( size_t ) n ) == HilOtaRejectedSignature );
        expectSignatureFailure( "wrong certificate" );
        CHECK( logged( "[INFO] Using cert with label: ecdsa-openssl.crt OK" ) );

        /* An RSA certificate for an ECDSA signature: mbedtls_pk_verify refuses it too. */
        ( void ) snprintf( patched, sizeof( patched ), "%.*s\"certfile\":\"rsa256-otarig.crt\"%s", ( int ) head, json,
                           name + strlen( "\"certfile\":\"ecdsa-otarig.crt\"" ) );
        CHECK( runDevice( &device, patched, strlen( patched ) ) == HilOtaRejectedSignature );
        expectSignatureFailure( "RSA certificate" );
    }

    free( json );
}

static void test_HIL_OtaProcessJob_MissingCertificate( void )
{
    char signature[ 600 ];
    char fields[ 1024 ];
    char json[ 2048 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };
    char fallback[ 512 ];

    CHECK( signatureOf( fixture( "jobs/ecdsa-otarig-payload.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 0U );
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":0,\"certfile\":\"nonexistingfile.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-nocert", NULL, "[\"MQTT\"]", fields );

    CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
    CHECK( result.palStatus == 0xe7000000U );
    CHECK( result.ingestResult == -3 );
    CHECK( result.certLookup == HilCertNotFound );
    CHECK( logged( "[ERROR] Cert read failed" ) );
    CHECK( logged( "[ERROR] Failed to close the OTA file: Error=(OtaPalBadSignerCert:0xe7000000)" ) );
    CHECK( logged( "[ERROR] Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=-3" ) );
    CHECK( strstr( statuses, "AFR_OTA-nocert {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e7: 0x00000000\"}}\n" ) != NULL );

    /* With a certificate compiled in, the ESP32 PAL falls back to it. */
    ( void ) snprintf( fallback, sizeof( fallback ), "%s/certs/ecdsa-otarig.crt", fixtures );
    {
        const Device_t withFallback = { fixture( "payload.bin" ), certsDir(), fallback, NULL, 0U, 0 };
        CHECK( runDevice( &withFallback, json, len ) == HilOtaAccepted );
        CHECK( result.usedFallbackCertificate );
        CHECK( logged( "[INFO] No such certificate file: nonexistingfile.crt. Using certificate in ota_demo_config.h." ) );
    }

    /* A certfile that climbs out of the certificate directory finds nothing. */
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":0,\"certfile\":\"../certs/ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-climb", NULL, "[\"MQTT\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
    CHECK( result.palStatus == 0xe7000000U );

    /* An empty certificate file is unreadable: BadSignerCert too. */
    ( void ) snprintf( scratch, sizeof( scratch ), "%s/certs/empty.crt", fixtures );
    writeFile( scratch, ( const uint8_t * ) "", 0U );
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":0,\"certfile\":\"empty.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-empty", NULL, "[\"MQTT\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
    CHECK( result.palStatus == 0xe7000000U );
    CHECK( result.certLookup == HilCertUnreadable );
    ( void ) unlink( scratch );

    /* A DER certificate works as PEM does (the openssl signer's certificate, as DER). */
    CHECK( signatureOf( fixture( "jobs/ecdsa-openssl-payload.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 0U );
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-openssl.der\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-der", NULL, "[\"MQTT\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaAccepted );
}

/* "==" decodes to nothing; a job without the signature key keeps the empty boot-time buffer. Both fail the check. */
static void test_HIL_OtaProcessJob_ZeroLengthSignature( void )
{
    char json[ 2048 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };
    const HilOtaOutcome_t outcome = runDevice( &device, json,
                                               jobDocument( json, sizeof( json ), "AFR_OTA-eq", NULL, "[\"MQTT\"]",
                                                            "\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"==\"" ) );

    /* The agent's decoder takes padding alone as 0 bytes; iot_crypto refuses an empty signature. The log line shows the
     * agent's 32-byte strncpy running past the value into the rest of the document. */
    CHECK( outcome == HilOtaRejectedSignature );
    CHECK( result.cryptoResult == HilCryptoBadInput );
    CHECK( logged( "[INFO] Extracted parameter [ sig-sha256-ecdsa: ==\"}]}}}}... ]" ) );
    expectSignatureFailure( "==" );

    /* No signature key at all: the boot-time buffer holds 0 bytes, which iot_crypto refuses. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-nosig", NULL, "[\"MQTT\"]", "\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\"" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedSignature );
    CHECK( result.cryptoResult == HilCryptoBadInput );
    expectSignatureFailure( "no signature" );
}

/* ---- the job document's error paths ---- */

static void test_HIL_OtaProcessJob_DocParseErrors( void )
{
    static const struct
    {
        const char * fields;
        HilDocParseErr_t docErr;
        const char * line;
    } cases[] =
    {
        { "\"filesize\":\"12ab\",\"fileid\":0",                     HilDocParseErrInvalidNumChar,           NULL },
        { "\"filesize\":70001,\"fileid\":0,\"sig-sha256-ecdsa\":\"MEQ*\"", HilDocParseErrBase64Decode,      "[ERROR] Failed to decode Base64 data: base64Decode returned error: error=1" },
        { "\"filesize\":70001",                                     HilDocParseErrMalformedDoc,             NULL },
        { "\"filesize\":70001,\"fileid\":0,\"certfile\":\"" "0123456789012345678901234567890123456789012345678901234567890123456789"
          "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
          "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"",
          HilDocParseErrUserBufferInsufficient, "[ERROR] Insufficient user memory: [key: valueLength]=[certfile: 270]" }
    };
    size_t i;
    char json[ 2048 ];
    char line[ 128 ];
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };

    for( i = 0U; i < sizeof( cases ) / sizeof( cases[ 0 ] ); i++ )
    {
        const size_t len = jobDocument( json, sizeof( json ), "AFR_OTA-doc", NULL, "[\"MQTT\"]", cases[ i ].fields );

        CHECK( runDevice( &device, json, len ) == HilOtaRejectedJobDocument );
        CHECK( result.docErr == cases[ i ].docErr );
        CHECK( result.jobErr == HilJobParseErrNonConformingJobDoc );
        CHECK( result.otaErr == HilOtaErrJobParserError );
        ( void ) snprintf( line, sizeof( line ), "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=%d", ( int ) cases[ i ].docErr );
        CHECK( logged( line ) );
        CHECK( ( cases[ i ].line == NULL ) || logged( cases[ i ].line ) );
        CHECK( sameText( statuses, "AFR_OTA-doc {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x0000000c: 0x00000004\"}}\n" ) );
        CHECK( port.lastState == HilImageStateUnknown );
    }

    /* Not JSON at all and no keys to find: InvalidJSONBuffer survives, and there is no job to report on. */
    CHECK( runDevice( &device, "{\"execution\":", 13U ) == HilOtaNoActiveJob );
    CHECK( result.docErr == HilDocParseErrInvalidJSONBuffer );
    CHECK( sameText( transcript,
                     "[ERROR] Invalid JSON document: JSON_Validate returned error: JSONStatus_t=0\n"
                     "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=8\n"
                     "[INFO] No active job available in received job document: OtaJobParseErr_t=OtaJobParseErrNoActiveJobs\n" ) );
    CHECK( statusesLen == 0U );

    /* Trailing garbage fails validation, but the agent overwrites that error with the first stored value's. */
    {
        char signature[ 600 ];
        char fields[ 1024 ];
        size_t len;

        CHECK( signatureOf( fixture( "jobs/ecdsa-otarig-payload.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 0U );
        ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
        len = jobDocument( json, sizeof( json ), "AFR_OTA-trailing", NULL, "[\"MQTT\"]", fields );
        ( void ) memcpy( &json[ len ], " trailing", 10U );
        CHECK( runDevice( &device, json, len + 9U ) == HilOtaAccepted );
        CHECK( logged( "[ERROR] Invalid JSON document: JSON_Validate returned error: JSONStatus_t=2" ) );
    }
}

static void test_HIL_OtaProcessJob_JobParseErrors( void )
{
    char json[ 2048 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };

    /* ZeroFileSize: the job id is parsed but not yet active, so nothing is published. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-zero", NULL, "[\"MQTT\"]", "\"filesize\":0,\"fileid\":0" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedJobDocument );
    CHECK( result.jobErr == HilJobParseErrZeroFileSize );
    CHECK( logged( "[ERROR] Parameter check failed: pFileContext->fileSize is 0: File size should be > 0." ) );
    CHECK( logged( "[ERROR] Failed to parse the job document after parsing the job name: OtaJobParseErr_t=OtaJobParseErrZeroFileSize, Job name=AFR_OTA-zero" ) );
    CHECK( statusesLen == 0U );

    /* BadModelInitParams: more than 1024 blocks of 4 KiB. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-big", NULL, "[\"MQTT\"]", "\"filesize\":4194305,\"fileid\":0" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedJobDocument );
    CHECK( result.jobErr == HilJobParseErrBadModelInitParams );
    CHECK( sameText( transcript,
                     "[INFO] Extracted parameter: [key: value]=[execution.jobId: AFR_OTA-big]\n"
                     "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.streamname: AFR_OTA-XYZ]\n"
                     "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.protocols: [\"MQTT\"]]\n"
                     "[INFO] Extracted parameter: [key: value]=[filesize: 4194305]\n"
                     "[INFO] Extracted parameter: [key: value]=[fileid: 0]\n"
                     "[ERROR] Parameter check failed: pFileContext->fileSize (4194305) greater than can be tracked.\n"
                     "[WARN] Largest trackable size: OTA_MAX_BLOCK_BITMAP_SIZE (128) * BITS_PER_BYTE (8) = 1024\n"
                     "[INFO] Unable to initialize Job Parsing: OtaJobParseErr_t=OtaJobParseErrBadModelInitParams\n" ) );

    /* NoActiveJobs: an empty job document ({} from $next/get with no job queued). */
    CHECK( runDevice( &device, "{\"clientToken\":\"0:x\",\"timestamp\":1}", 35U ) == HilOtaNoActiveJob );
    CHECK( result.docErr == HilDocParseErrEmptyJobDoc );
    CHECK( result.otaErr == HilOtaErrEmptyJobDocument );
    CHECK( sameText( transcript,
                     "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=16\n"
                     "[INFO] No active job available in received job document: OtaJobParseErr_t=OtaJobParseErrNoActiveJobs\n"
                     "[INFO] Emtpy job document found\n" ) );

    /* A custom job (no afr_ota) with a job id: NonConforming, reported on that job. */
    len = ( size_t ) snprintf( json, sizeof( json ), "{\"execution\":{\"jobId\":\"custom-1\",\"jobDocument\":{\"operation\":\"reboot\"}}}" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedJobDocument );
    CHECK( result.jobErr == HilJobParseErrNonConformingJobDoc );
    CHECK( logged( "[WARN] Failed to parse JSON document as AFR_OTA job: DocParseErr_t=7" ) );
    CHECK( sameText( statuses, "custom-1 {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x0000000c: 0x00000004\"}}\n" ) );

    /* A job id of 73 characters is too long to keep: nothing can be reported. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-01234567890123456789012345678901234567890123456789012345678901234", NULL, "[\"MQTT\"]",
                       "\"filesize\":70001,\"fileid\":0" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedJobDocument );
    CHECK( logged( "[ERROR] Insufficient user memory: [key: valueLength]=[execution.jobId: 73]" ) );
    CHECK( statusesLen == 0U );

    /* Neither MQTT nor HTTP: the update is aborted. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-proto", NULL, "[\"CoAP\"]", "\"filesize\":70001,\"fileid\":0" );
    CHECK( runDevice( &device, json, len ) == HilOtaRejectedProtocol );
    CHECK( logged( "[ERROR] Failed to set OTA data interface: OtaErr_t=OtaErrInvalidDataProtocol, aborting current update." ) );
    CHECK( sameText( statuses, "AFR_OTA-proto {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"aborted: 0x0000000d\"}}\n" ) );
    CHECK( port.lastState == HilImageStateAborted );
}

/* ---- self test and anti-rollback (running version 1.0.1, as the library's unit tests use) ---- */

static size_t selfTestJob( char * json, size_t capacity, const char * updatedBy, const char * extra )
{
    char details[ 128 ];
    char fields[ 256 ];

    ( void ) snprintf( details, sizeof( details ), "{\"self_test\":\"ready\",\"updatedBy\":\"%s\"}", updatedBy );
    ( void ) snprintf( fields, sizeof( fields ), "\"filepath\":\"/test/demo\",\"filesize\":10240,\"fileid\":0,\"certfile\":\"test.crt\"%s", extra );
    return jobDocument( json, capacity, "AFR_OTA-testjob20", details, "[\"MQTT\"]", fields );
}

static void test_HIL_OtaProcessJob_SelfTestNewerVersion( void )
{
    char json[ 1024 ];
    const size_t len = selfTestJob( json, sizeof( json ), "0x1000000", "" );
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStatePendingCommit };

    CHECK( runDevice( &device, json, len ) == HilOtaSelfTestStarted );
    CHECK( result.imageState == HilImageStateTesting );
    CHECK( sameText( transcript,
                     "[INFO] Extracted parameter: [key: value]=[execution.jobId: AFR_OTA-testjob20]\n"
                     "[INFO] Extracted parameter: [key: value]=[execution.statusDetails.updatedBy: 16777216]\n"
                     "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.streamname: AFR_OTA-XYZ]\n"
                     "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.protocols: [\"MQTT\"]]\n"
                     "[INFO] Extracted parameter: [key: value]=[filepath: /test/demo]\n"
                     "[INFO] Extracted parameter: [key: value]=[filesize: 10240]\n"
                     "[INFO] Extracted parameter: [key: value]=[fileid: 0]\n"
                     "[INFO] Extracted parameter: [key: value]=[certfile: test.crt]\n"
                     "[INFO] In self test mode.\n"
                     "[INFO] New image has a higher version number than the current image: New image version=1.0.1, Previous image version=1.0.0\n"
                     "[INFO] Image version is valid: Begin testing file: File ID=0\n"
                     "[INFO] Job parsing success: OtaJobParseErr_t=OtaJobParseErrNone, Job name=AFR_OTA-testjob20\n"
                     "[INFO] Beginning self-test.\n" ) );
    CHECK( sameText( statuses, "AFR_OTA-testjob20 {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"active\",\"updatedBy\":\"0x01000001\"}}\n" ) );
    CHECK( port.resetCount == 0U );
}

static void test_HIL_OtaProcessJob_SelfTestSameVersion( void )
{
    char json[ 1024 ];
    const size_t len = selfTestJob( json, sizeof( json ), "0x1000001", "" );
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStatePendingCommit };

    CHECK( runDevice( &device, json, len ) == HilOtaRejectedVersion );
    CHECK( result.otaErr == HilOtaErrSameFirmwareVersion );
    CHECK( logged( "[INFO] In self test mode." ) );
    CHECK( logged( "[WARN] Application version of the new image is identical to the current image: New images are expected to have a higher version number: " ) );
    CHECK( logged( "[WARN] New image is being rejected: Application version of the new image is invalid: OtaErr_t=OtaErrSameFirmwareVersion" ) );
    CHECK( !logged( "[INFO] Job parsing success: OtaJobParseErr_t=OtaJobParseErrNone, Job name=AFR_OTA-testjob20" ) ); /* the device reset */
    CHECK( sameText( statuses, "AFR_OTA-testjob20 {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"rejected: 0x00000010\"}}\n" ) );
    CHECK( port.lastState == HilImageStateRejected );
    CHECK( port.resetCount == 1U );
}

static void test_HIL_OtaProcessJob_SelfTestDowngrade( void )
{
    char json[ 1024 ];
    const size_t len = selfTestJob( json, sizeof( json ), "0x2000000", "" );
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStatePendingCommit };

    CHECK( runDevice( &device, json, len ) == HilOtaRejectedVersion );
    CHECK( result.otaErr == HilOtaErrDowngradeNotAllowed );
    CHECK( logged( "[WARN] Application version of the new image is lower than the current image: New images are expected to have a higher version number." ) );
    CHECK( logged( "[WARN] New image is being rejected: Application version of the new image is invalid: OtaErr_t=OtaErrDowngradeNotAllowed" ) );
    CHECK( sameText( statuses, "AFR_OTA-testjob20 {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"rejected: 0x0000000f\"}}\n" ) );
    CHECK( port.resetCount == 1U );
}

static void test_HIL_OtaProcessJob_SelfTestVersionCheckSkipped( void )
{
    char json[ 1024 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStatePendingCommit };

    /* Only fileid 0 with the firmware file type is checked. */
    len = selfTestJob( json, sizeof( json ), "0x2000000", ",\"fileType\":255" );
    CHECK( runDevice( &device, json, len ) == HilOtaSelfTestStarted );
    CHECK( !logged( "[INFO] New image has a higher version number than the current image: New image version=1.0.1, Previous image version=2.0.0" ) );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-testjob20", "{\"self_test\":\"ready\",\"updatedBy\":\"0x2000000\"}", "[\"MQTT\"]",
                       "\"filesize\":10240,\"fileid\":1" );
    CHECK( runDevice( &device, json, len ) == HilOtaSelfTestStarted );
}

static void test_HIL_OtaProcessJob_SelfTestImageStateMismatch( void )
{
    char json[ 1024 ];
    size_t len = selfTestJob( json, sizeof( json ), "0x1000000", "" );
    const Device_t valid = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStateValid };
    const Device_t pending = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0x01000001U, HilPalImageStatePendingCommit };

    /* The job is in self test, the platform is not. */
    CHECK( runDevice( &valid, json, len ) == HilOtaRejectedImageState );
    CHECK( logged( "[WARN] Rejecting new image and rebooting:The job is in the self-test state while the platform is not." ) );
    CHECK( sameText( statuses,
                     "AFR_OTA-testjob20 {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"active\",\"updatedBy\":\"0x01000001\"}}\n"
                     "AFR_OTA-testjob20 {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"rejected: 0x00000011\"}}\n" ) );
    CHECK( port.resetCount == 1U );

    /* The platform is in self test, the job is not. */
    len = jobDocument( json, sizeof( json ), "AFR_OTA-testjob21", NULL, "[\"MQTT\"]", "\"filesize\":10240,\"fileid\":0" );
    CHECK( runDevice( &pending, json, len ) == HilOtaRejectedImageState );
    CHECK( logged( "[WARN] Rejecting new image and rebooting:The platform is in the self-test state while the job is not." ) );
    CHECK( port.resetCount == 1U );
}

/* A PAL that cannot set the state fails the update with its own status as the reason. */
static void test_HIL_OtaProcessJob_FailingSetImageState( void )
{
    char json[ 1024 ];
    const size_t len = selfTestJob( json, sizeof( json ), "0x1000000", "" );
    HilPal_t pal;

    transcriptLen = 0U;
    statusesLen = 0U;
    statuses[ 0 ] = '\0';
    ( void ) memset( &port, 0, sizeof( port ) );
    CHECK( HIL_PosixPortOpen( &port, fixture( "payload.bin" ), certsDir(), NULL ) == 0 );
    port.runningVersion = 0x01000001U;
    port.platformState = HilPalImageStatePendingCommit;
    port.setStateStatus = HIL_PAL_COMBINE( HilPalBadImageState, 0x42U );
    port.publishStatus = onStatus;
    HIL_PosixPortBind( &port, &pal );
    HIL_OtaInit( &context );
    ( void ) HIL_OtaProcessJob( &context, &pal, json, len, NULL, &result );
    HIL_PosixPortClose( &port );
    CHECK( result.imageState == HilImageStateRejected );
    CHECK( sameText( statuses, "AFR_OTA-testjob20 {\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"rejected: 0xe8000042\"}}\n" ) );
}

/* A file that is not firmware completes the job at once. */
static void test_HIL_OtaProcessJob_NonFirmwareFileType( void )
{
    char signature[ 600 ];
    char fields[ 1024 ];
    char json[ 2048 ];
    size_t len;
    const Device_t device = { fixture( "payload.bin" ), certsDir(), NULL, NULL, 0U, 0 };

    CHECK( signatureOf( fixture( "jobs/ecdsa-otarig-payload.json" ), "sig-sha256-ecdsa", signature, sizeof( signature ) ) > 0U );
    ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":70001,\"fileid\":1,\"fileType\":2,\"certfile\":\"ecdsa-otarig.crt\",\"sig-sha256-ecdsa\":\"%s\"", signature );
    len = jobDocument( json, sizeof( json ), "AFR_OTA-cfg", "{\"updatedBy\":\"0x10002\"}", "[\"HTTP\"]", fields );
    CHECK( runDevice( &device, json, len ) == HilOtaAccepted );
    CHECK( sameText( statuses,
                     "AFR_OTA-cfg {\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"1/18\"}}\n"
                     "AFR_OTA-cfg {\"status\":\"SUCCEEDED\",\"statusDetails\":{\"reason\":\"accepted  v0.0.2\",\"updatedBy\":\"  v0.1.2\"}}\n" ) );
}

/* ---- the FreeRTOS OTA PAL qualification vectors through the whole path ---- */

static void test_HIL_OtaProcessJob_PalQualificationVectors( void )
{
    static const struct
    {
        const char * id;
        const char * key;
        const char * cert;
    } vectors[] =
    {
        { "lit-ecdsa_sha256", "sig-sha256-ecdsa", "ecdsa-sha256-signer.crt.pem" },
        { "lit-rsa_sha1",     "sig-sha1-rsa",     "rsa-sha1-signer.crt.pem"     },
        { "lit-rsa_sha256",   "sig-sha256-rsa",   "rsa-sha256-signer.crt.pem"   }
    };
    size_t docLen = 0U;
    char * doc = ( char * ) hilReadFile( PAL_VECTORS "ota_pal_signature_vectors.json", &docLen, 0 );
    const char * value;
    size_t valueLen;
    uint8_t message[ 84 ];
    size_t i;

    CHECK( doc != NULL );

    if( doc == NULL )
    {
        return;
    }

    CHECK( HIL_JsonSearch( doc, docLen, "message.hex", 11U, &value, &valueLen, NULL ) == HilJsonSuccess );
    CHECK( valueLen == 168U );

    for( i = 0U; i < 84U; i++ )
    {
        unsigned byte = 0U;
        ( void ) sscanf( &value[ i * 2U ], "%2x", &byte );
        message[ i ] = ( uint8_t ) byte;
    }

    ( void ) snprintf( scratch, sizeof( scratch ), "%s/ucDummyData.bin", fixtures );
    writeFile( scratch, message, sizeof( message ) );

    for( i = 0U; i < 3U; i++ )
    {
        int which;

        for( which = 0; which < 3; which++ )
        {
            /* 0: valid signature, 1: invalid signature, 2: valid signature and nonexistingfile.crt */
            char query[ 96 ];
            char signature[ 600 ];
            char fields[ 1024 ];
            char json[ 2048 ];
            size_t len;
            const Device_t device = { scratch, PAL_VECTORS "pem", NULL, vectors[ i ].key, 0U, 0 };
            HilOtaOutcome_t outcome;

            ( void ) snprintf( query, sizeof( query ), "vectors[%u].%s.base64", ( unsigned ) i, ( which == 1 ) ? "invalid_signature" : "valid_signature" );
            CHECK( HIL_JsonSearch( doc, docLen, query, strlen( query ), &value, &valueLen, NULL ) == HilJsonSuccess );
            ( void ) snprintf( signature, sizeof( signature ), "%.*s", ( int ) valueLen, value );
            ( void ) snprintf( fields, sizeof( fields ), "\"filesize\":84,\"fileid\":0,\"certfile\":\"%s\",\"%s\":\"%s\"",
                               ( which == 2 ) ? "nonexistingfile.crt" : vectors[ i ].cert, vectors[ i ].key, signature );
            len = jobDocument( json, sizeof( json ), vectors[ i ].id, NULL, "[\"MQTT\"]", fields );
            outcome = runDevice( &device, json, len );

            if( which == 0 )
            {
                /* otaPal_CloseFile_ValidSignature: the certificates expired in 2018/2019 and still pass. */
                CHECK( outcome == HilOtaAccepted );
            }
            else if( which == 1 )
            {
                CHECK( outcome == HilOtaRejectedSignature );
                CHECK( result.palStatus == 0xe3000000U );
            }
            else
            {
                /* otaPal_CloseFile_NonexistingCodeSignerCertificate */
                CHECK( outcome == HilOtaRejectedSignature );
                CHECK( result.palStatus == 0xe7000000U );
            }
        }
    }

    ( void ) unlink( scratch );
    free( doc );
}

/* A context reused for a second job keeps the first job's signature when the second has none, as the agent's
 * static buffer does: the second job then verifies with the first one's signature. */
static void test_HIL_OtaProcessJob_SignatureBufferPersists( void )
{
    size_t len = 0U;
    char * first = ( char * ) hilReadFile( fixture( "jobs/ecdsa-otarig-payload.json" ), &len, 0 );
    char second[ 1024 ];
    size_t secondLen;
    HilPal_t pal;

    CHECK( first != NULL );

    if( first == NULL )
    {
        return;
    }

    secondLen = jobDocument( second, sizeof( second ), "AFR_OTA-second", NULL, "[\"MQTT\"]",
                             "\"filesize\":70001,\"fileid\":0,\"certfile\":\"ecdsa-otarig.crt\"" );
    ( void ) memset( &port, 0, sizeof( port ) );
    CHECK( HIL_PosixPortOpen( &port, fixture( "payload.bin" ), certsDir(), NULL ) == 0 );
    HIL_PosixPortBind( &port, &pal );
    HIL_OtaInit( &context );
    CHECK( HIL_OtaProcessJob( &context, &pal, first, len, NULL, &result ) == HilOtaAccepted );
    CHECK( HIL_OtaProcessJob( &context, &pal, second, secondLen, NULL, &result ) == HilOtaAccepted );
    HIL_PosixPortClose( &port );
    free( first );
}

static void test_HIL_PosixPortOpen_BadInput( void )
{
    HilPosixPort_t bad;

    ( void ) memset( &bad, 0, sizeof( bad ) );
    CHECK( HIL_PosixPortOpen( &bad, "/nonexistent/image.bin", certsDir(), NULL ) == -1 );
    CHECK( strstr( bad.error, "/nonexistent/image.bin: No such file or directory" ) != NULL );
    ( void ) memset( &bad, 0, sizeof( bad ) );
    CHECK( HIL_PosixPortOpen( &bad, fixture( "payload.bin" ), certsDir(), "/nonexistent/fallback.pem" ) == -1 );
    CHECK( strstr( bad.error, "/nonexistent/fallback.pem: no such file" ) != NULL );
}

int main( int argc, char ** argv )
{
    if( argc > 1 )
    {
        fixtures = argv[ 1 ];
    }

    RUN( test_HIL_OtaProcessJob_ValidImagesFromOtarigAndOpenssl );
    RUN( test_HIL_OtaProcessJob_AcceptedTranscript );
    RUN( test_HIL_OtaProcessJob_PayloadBitFlip );
    RUN( test_HIL_OtaProcessJob_SignatureBitFlip );
    RUN( test_HIL_OtaProcessJob_TruncatedImage );
    RUN( test_HIL_OtaProcessJob_FileSizeMismatch );
    RUN( test_HIL_OtaProcessJob_PartitionTooSmall );
    RUN( test_HIL_OtaProcessJob_WrongCertificate );
    RUN( test_HIL_OtaProcessJob_MissingCertificate );
    RUN( test_HIL_OtaProcessJob_ZeroLengthSignature );
    RUN( test_HIL_OtaProcessJob_DocParseErrors );
    RUN( test_HIL_OtaProcessJob_JobParseErrors );
    RUN( test_HIL_OtaProcessJob_SelfTestNewerVersion );
    RUN( test_HIL_OtaProcessJob_SelfTestSameVersion );
    RUN( test_HIL_OtaProcessJob_SelfTestDowngrade );
    RUN( test_HIL_OtaProcessJob_SelfTestVersionCheckSkipped );
    RUN( test_HIL_OtaProcessJob_SelfTestImageStateMismatch );
    RUN( test_HIL_OtaProcessJob_FailingSetImageState );
    RUN( test_HIL_OtaProcessJob_NonFirmwareFileType );
    RUN( test_HIL_OtaProcessJob_PalQualificationVectors );
    RUN( test_HIL_OtaProcessJob_SignatureBufferPersists );
    RUN( test_HIL_PosixPortOpen_BadInput );
    return hilTestSummary( "hil_ota" );
}
