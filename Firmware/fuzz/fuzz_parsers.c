/*
 * libFuzzer target over the parsers that see untrusted job documents: the JSON validator and search (with the
 * job-document model's keys), the base64 decoder, the number parser, the whole job-document parse, and the whole
 * device run (HIL_OtaProcessJob with its log lines and status messages) against a small in-memory image and the
 * PAL vectors' ECDSA certificate, so fuzzed signatures reach mbedtls_pk_verify; and the device policy's revocation
 * list, the input taken as a list (parse, then the whole revocation check with that certificate as the list signer).
 * Built with ASan and UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hil_base64.h"
#include "hil_jobdoc.h"
#include "hil_json.h"
#include "hil_number.h"
#include "hil_ota.h"
#include "hil_policy.h"

#define CERTIFICATE    "../Tests/CodeSigningTests/Fixtures/freertos/pem/ecdsa-sha256-signer.crt.pem"

static uint8_t certificate[ 4096 ];
static size_t certificateLength;
static uint8_t image[ 5000 ];

static int32_t readBlock( void * pContext, uint32_t offset, uint8_t * pBuffer, uint32_t length )
{
    ( void ) pContext;

    if( offset >= sizeof( image ) )
    {
        return 0;
    }

    if( length > sizeof( image ) - offset )
    {
        length = ( uint32_t ) ( sizeof( image ) - offset );
    }

    memcpy( pBuffer, &image[ offset ], length );
    return ( int32_t ) length;
}

static HilCertLookup_t findCertificate( void * pContext, const char * pCertFile, uint8_t * pBuffer, size_t capacity, size_t * pLength )
{
    ( void ) pContext;

    if( ( strcmp( pCertFile, "missing" ) == 0 ) || ( certificateLength > capacity ) )
    {
        return HilCertNotFound;
    }

    memcpy( pBuffer, certificate, certificateLength );
    *pLength = certificateLength;
    return HilCertFound;
}

/* Touch every byte of every line and message: ASan reports anything formatted from outside the input. */
static volatile uint8_t touched;

static void touch( const char * p )
{
    while( *p != '\0' )
    {
        touched = ( uint8_t ) ( touched + ( uint8_t ) *p++ );
    }
}

static void onLog( void * pContext, HilLogLevel_t level, const char * pLine )
{
    ( void ) pContext;
    ( void ) level;
    touch( pLine );
}

static void onStatus( void * pContext, const char * pJobId, const char * pJson )
{
    ( void ) pContext;
    touch( pJobId );
    touch( pJson );
}

static HilPalImageState_t platformState( void * pContext )
{
    ( void ) pContext;
    return ( touched & 1U ) ? HilPalImageStatePendingCommit : HilPalImageStateValid;
}

static uint32_t running( void * pContext )
{
    ( void ) pContext;
    return 0x01000001U;
}

int LLVMFuzzerInitialize( int * argc, char *** argv );

int LLVMFuzzerInitialize( int * argc, char *** argv )
{
    FILE * file = fopen( CERTIFICATE, "rb" );
    size_t i;

    ( void ) argc;
    ( void ) argv;

    if( file == NULL )
    {
        fprintf( stderr, "fuzz_parsers: cannot open %s (run from Firmware/)\n", CERTIFICATE );
        exit( 1 );
    }

    certificateLength = fread( certificate, 1U, sizeof( certificate ) - 1U, file );
    ( void ) fclose( file );
    certificate[ certificateLength++ ] = 0U;

    for( i = 0U; i < sizeof( image ); i++ )
    {
        image[ i ] = ( uint8_t ) ( i * 31U );
    }

    return 0;
}

static const char * const keys[] =
{
    "clientToken", "timestamp", "execution", "execution.jobId", "execution.statusDetails", "execution.statusDetails.self_test",
    "execution.statusDetails.updatedBy", "execution.jobDocument", "execution.jobDocument.afr_ota",
    "execution.jobDocument.afr_ota.streamname", "execution.jobDocument.afr_ota.protocols", "execution.jobDocument.afr_ota.files",
    "execution.jobDocument.afr_ota.files[0].filesize", "execution.jobDocument.afr_ota.files[0].sig-sha256-ecdsa", "a[3].b"
};

int LLVMFuzzerTestOneInput( const uint8_t * data,
                            size_t size );

int LLVMFuzzerTestOneInput( const uint8_t * data,
                            size_t size )
{
    const char * text = ( const char * ) data;
    uint8_t decoded[ 384 ];
    size_t decodedLen;
    uint32_t number;
    size_t i;

    ( void ) HIL_JsonValidate( text, size );

    for( i = 0; i < sizeof( keys ) / sizeof( keys[ 0 ] ); i++ )
    {
        const char * value = NULL;
        size_t valueLen = 0U;
        HilJsonType_t type;

        if( HIL_JsonSearch( text, size, keys[ i ], strlen( keys[ i ] ), &value, &valueLen, &type ) == HilJsonSuccess )
        {
            /* Touch every byte of the result: ASan reports any value that points outside the input. */
            volatile uint8_t sum = 0U;
            size_t j;

            for( j = 0; j < valueLen; j++ )
            {
                sum = ( uint8_t ) ( sum + ( uint8_t ) value[ j ] );
            }

            ( void ) sum;
            ( void ) HIL_ParseUInt32( value, valueLen, &number );
            ( void ) HIL_Base64Decode( decoded, sizeof( decoded ), &decodedLen, ( const uint8_t * ) value, valueLen );
        }
    }

    ( void ) HIL_Base64Decode( decoded, sizeof( decoded ), &decodedLen, data, size );
    ( void ) HIL_ParseUInt32( text, size, &number );

    {
        static HilJobDocument_t doc;

        if( HIL_ParseJobDocument( text, size, NULL, &doc ) == HilJobParseErrNone )
        {
            ( void ) HIL_CheckProtocols( &doc );
            ( void ) HIL_CheckSelfTestVersion( &doc, 0x01000001U );
        }
    }

    {
        static HilOtaContext_t context;
        static HilOtaResult_t result;
        HilPal_t pal;

        memset( &pal, 0, sizeof( pal ) );
        pal.readBlock = readBlock;
        pal.findCertificate = findCertificate;
        pal.log = onLog;
        pal.publishStatus = onStatus;
        pal.getImageState = platformState;
        pal.runningVersion = running;
        /* Half the runs write into a partition that may end inside the file, with the ESP32 PAL's close trailer. */
        pal.partitionSize = ( ( size & 2U ) != 0U ) ? ( uint32_t ) ( size * 16U ) : 0U;
        pal.closeTrailerSize = 80U;
        ( void ) HIL_OtaProcessJob( &context, &pal, text, size, ( size & 1U ) ? "sig-sha1-rsa" : NULL, &result );
    }

    {
        HilRevocationList_t list;
        HilPolicyConfig_t policy = { HIL_POLICY_CHECK_REVOCATION, data, size, certificate, certificateLength };
        HilLogger_t logger;
        const char * why = NULL;

        memset( &logger, 0, sizeof( logger ) );

        if( HIL_RevocationListParse( data, size, &list, &why ) == HilRevocationParseOk )
        {
            volatile uint8_t sum = 0U;
            size_t j;

            for( j = 0; j < ( size_t ) list.entryCount * HIL_REVOCATION_ENTRY_LENGTH; j++ )
            {
                sum = ( uint8_t ) ( sum + list.pEntries[ j ] );
            }

            for( j = 0; j < list.signatureLength; j++ )
            {
                sum = ( uint8_t ) ( sum + list.pSignature[ j ] );
            }

            ( void ) sum;
        }

        ( void ) HIL_PolicyCheck( &policy, NULL, 0U, data, size, false, 0, &logger );
    }

    return 0;
}
