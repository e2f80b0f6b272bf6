/*
 * libFuzzer target over the parsers that see untrusted job documents: the JSON validator and search (with the
 * job-document model's keys), the base64 decoder, the number parser and the whole job-document parse. Built with
 * ASan and UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hil_base64.h"
#include "hil_jobdoc.h"
#include "hil_json.h"
#include "hil_number.h"

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

    return 0;
}
