/*
 * Base64 decoding with the FreeRTOS OTA agent's rules. Behaviour reproduced from the rules and test vectors of
 * aws/ota-for-aws-iot-embedded-sdk @477ee9a5 source/ota_base64.c and test/unit-test/ota_base64_utest.c; this is our
 * own implementation.
 */
#include "hil_base64.h"

/* 0..63 for an alphabet symbol, -1 otherwise. */
static int sextetOf( uint8_t symbol )
{
    int value = -1;

    if( ( symbol >= ( uint8_t ) 'A' ) && ( symbol <= ( uint8_t ) 'Z' ) )
    {
        value = ( int ) symbol - ( int ) 'A';
    }
    else if( ( symbol >= ( uint8_t ) 'a' ) && ( symbol <= ( uint8_t ) 'z' ) )
    {
        value = ( int ) symbol - ( int ) 'a' + 26;
    }
    else if( ( symbol >= ( uint8_t ) '0' ) && ( symbol <= ( uint8_t ) '9' ) )
    {
        value = ( int ) symbol - ( int ) '0' + 52;
    }
    else if( symbol == ( uint8_t ) '+' )
    {
        value = 62;
    }
    else if( symbol == ( uint8_t ) '/' )
    {
        value = 63;
    }
    else
    {
        /* Not a base64 symbol. */
    }

    return value;
}

HilBase64Status_t HIL_Base64Decode( uint8_t * pDest,
                                    size_t destCapacity,
                                    size_t * pDecodedLen,
                                    const uint8_t * pSrc,
                                    size_t srcLen )
{
    HilBase64Status_t status = HilBase64Success;
    uint32_t quantum = 0U;      /* Up to four sextets, most significant first. */
    size_t sextets = 0U;        /* Sextets in the current quantum. */
    size_t written = 0U;
    size_t padding = 0U;
    int sawSpace = 0;
    size_t index;

    if( ( pDest == NULL ) || ( pDecodedLen == NULL ) || ( pSrc == NULL ) )
    {
        return HilBase64NullPointerInput;
    }

    if( srcLen < 2U )
    {
        return HilBase64InvalidInputSize;
    }

    for( index = 0U; ( index < srcLen ) && ( status == HilBase64Success ); index++ )
    {
        const uint8_t symbol = pSrc[ index ];
        int value;

        if( ( symbol == ( uint8_t ) '\n' ) || ( symbol == ( uint8_t ) '\r' ) )
        {
            continue;
        }

        if( symbol == ( uint8_t ) ' ' )
        {
            sawSpace = 1;
            continue;
        }

        if( symbol == ( uint8_t ) '=' )
        {
            if( sawSpace != 0 )
            {
                status = HilBase64InvalidSymbolOrdering;
            }
            else if( ++padding > 2U )
            {
                status = HilBase64InvalidPaddingSymbol;
            }
            else
            {
                /* Padding is optional and its count is not checked against the length. */
            }

            continue;
        }

        value = sextetOf( symbol );

        if( value < 0 )
        {
            status = HilBase64InvalidSymbol;
        }
        else if( ( sawSpace != 0 ) || ( padding != 0U ) )
        {
            status = HilBase64InvalidSymbolOrdering;
        }
        else
        {
            quantum = ( quantum << 6 ) | ( uint32_t ) value;

            if( ++sextets == 4U )
            {
                if( ( destCapacity - written ) < 3U )
                {
                    status = HilBase64InvalidBufferSize;
                }
                else
                {
                    pDest[ written++ ] = ( uint8_t ) ( quantum >> 16 );
                    pDest[ written++ ] = ( uint8_t ) ( quantum >> 8 );
                    pDest[ written++ ] = ( uint8_t ) quantum;
                    quantum = 0U;
                    sextets = 0U;
                }
            }
        }
    }

    if( status == HilBase64Success )
    {
        if( sextets == 1U )
        {
            status = HilBase64InvalidInputSize;
        }
        else if( sextets == 2U )
        {
            /* 12 bits: one byte, and the low 4 bits must be zero. */
            if( ( quantum & 0x0FU ) != 0U )
            {
                status = HilBase64NonZeroPadding;
            }
            else if( ( destCapacity - written ) < 1U )
            {
                status = HilBase64InvalidBufferSize;
            }
            else
            {
                pDest[ written++ ] = ( uint8_t ) ( quantum >> 4 );
            }
        }
        else if( sextets == 3U )
        {
            /* 18 bits: two bytes, and the low 2 bits must be zero. */
            if( ( quantum & 0x03U ) != 0U )
            {
                status = HilBase64NonZeroPadding;
            }
            else if( ( destCapacity - written ) < 2U )
            {
                status = HilBase64InvalidBufferSize;
            }
            else
            {
                pDest[ written++ ] = ( uint8_t ) ( quantum >> 10 );
                pDest[ written++ ] = ( uint8_t ) ( quantum >> 2 );
            }
        }
        else
        {
            /* A whole number of quanta. */
        }
    }

    if( status == HilBase64Success )
    {
        *pDecodedLen = written;
    }

    return status;
}

const char * HIL_Base64StatusName( HilBase64Status_t status )
{
    static const char * const names[] =
    {
        "Base64Success",                  "Base64InvalidSymbol", "Base64InvalidSymbolOrdering", "Base64InvalidInputSize",
        "Base64NullPointerInput",         "Base64InvalidBufferSize", "Base64NonZeroPadding", "Base64InvalidPaddingSymbol"
    };
    const unsigned index = ( unsigned ) status;

    return ( index < ( sizeof( names ) / sizeof( names[ 0 ] ) ) ) ? names[ index ] : "Base64Unknown";
}
