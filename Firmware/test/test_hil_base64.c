/*
 * HIL_Base64Decode against the FreeRTOS OTA agent's base64 vectors. The upstream cases are the 22 strings of
 * aws/ota-for-aws-iot-embedded-sdk test/unit-test/ota_base64_utest.c (@477ee9a5); the derived ones are not
 * upstream test data: they are the results of a Python port of source/ota_base64.c (@477ee9a5) that reproduces
 * every upstream vector, run on edge cases the unit test does not cover. Copied here with that provenance.
 */
#include "hil_base64.h"
#include "hil_test.h"

typedef struct
{
    const char * name;
    const char * encoded;
    HilBase64Status_t expected;
    const char * decoded;   /* NULL: do not check the bytes */
} Vector_t;

static const Vector_t vectors[] =
{
    { "TWO_PADDING", "Rk9PQg==", HilBase64Success, "FOOB" },
    { "ONE_PADDING", "Rk9PQkE=", HilBase64Success, "FOOBA" },
    { "ZERO_PADDING", "Rk9PQkFS", HilBase64Success, "FOOBAR" },
    { "TWO_PADDING_REMOVED", "Rk9PQg", HilBase64Success, "FOOB" },
    { "ONE_PADDING_REMOVED", "Rk9PQkE", HilBase64Success, "FOOBA" },
    { "LF", "\nZm\n9v\n", HilBase64Success, "foo" },
    { "CRLF", "\r\nRk9P\r\nQkE=\r\n", HilBase64Success, "FOOBA" },
    { "WHITESPACE", "Rk9PQkFS ", HilBase64Success, "FOOBAR" },
    { "PADDING_WHITESPACE", "Rk9PQkE= ", HilBase64Success, "FOOBA" },
    { "NINE", "Rk9PQkFSQkFa", HilBase64Success, "FOOBARBAZ" },
    { "THREE_PADDING_1", "Zg===", HilBase64InvalidPaddingSymbol, NULL },
    { "THREE_PADDING_2", "Rk9PQkE===", HilBase64InvalidPaddingSymbol, NULL },
    { "THREE_PADDING_3", "Rk9PQkFS===", HilBase64InvalidPaddingSymbol, NULL },
    { "NONZERO_PADDING_1", "TWG=", HilBase64NonZeroPadding, NULL },
    { "NONZERO_PADDING_2", "Tf==", HilBase64NonZeroPadding, NULL },
    { "LEADING_SPACE", " Rk9PQkFS", HilBase64InvalidSymbolOrdering, NULL },
    { "MIDDLE_SPACE", "Rk9P QkFS", HilBase64InvalidSymbolOrdering, NULL },
    { "SPACE_BEFORE_PAD", "Rk9PQkE =", HilBase64InvalidSymbolOrdering, NULL },
    { "ONE_CHAR", "R", HilBase64InvalidInputSize, NULL },
    { "ONE_LEFTOVER_SEXTET", "Rk9PC==", HilBase64InvalidInputSize, NULL },
    { "LEADING_PAD", "=Rk9PQkFS", HilBase64InvalidSymbolOrdering, NULL },
    { "MIDDLE_PAD", "Rk9P=QkFS", HilBase64InvalidSymbolOrdering, NULL },
    /* derived edge cases */
    { "SHORT_PAD_ACCEPTED", "QQ=", HilBase64Success, "A" },
    { "PAD_AFTER_QUANTUM", "QUJD=", HilBase64Success, "ABC" },
    { "TWO_PADS_AFTER_QUANTUM", "QUJD==", HilBase64Success, "ABC" },
    { "ONLY_PADDING", "==", HilBase64Success, "" },
    { "ONLY_SPACES", "  ", HilBase64Success, "" },
    { "ONE_SPACE", " ", HilBase64InvalidInputSize, NULL },
    { "JSON_ESCAPED_N", "Zm9v\\n", HilBase64InvalidSymbol, NULL },
    { "JSON_ESCAPED_SLASH", "Zm9v\\/", HilBase64InvalidSymbol, NULL },
    { "TAB", "Zm9v\t", HilBase64InvalidSymbol, NULL },
    { "SPACE_THEN_DATA", "QUJD QUJD", HilBase64InvalidSymbolOrdering, NULL },
    { "CRLF_INSIDE", "Zm9v\r\nYmFy", HilBase64Success, "foobar" },
    { "URL_ALPHABET", "Zm-_", HilBase64InvalidSymbol, NULL },
};

static void test_HIL_Base64Decode_Vectors( void )
{
    size_t i;

    for( i = 0; i < sizeof( vectors ) / sizeof( vectors[ 0 ] ); i++ )
    {
        uint8_t out[ 384 ];
        size_t outLen = 9999U;
        const Vector_t * v = &vectors[ i ];
        HilBase64Status_t status = HIL_Base64Decode( out, sizeof( out ), &outLen, ( const uint8_t * ) v->encoded, strlen( v->encoded ) );

        if( status != v->expected )
        {
            fprintf( stderr, "  %s: got %s, expected %s\n", v->name, HIL_Base64StatusName( status ), HIL_Base64StatusName( v->expected ) );
        }

        CHECK( status == v->expected );

        if( ( status == HilBase64Success ) && ( v->decoded != NULL ) )
        {
            CHECK( outLen == strlen( v->decoded ) );
            CHECK( memcmp( out, v->decoded, outLen ) == 0 );
        }
    }
}

static void test_HIL_Base64Decode_BufferLimit( void )
{
    static char encoded[ 517 ];
    uint8_t out[ 384 ];
    size_t outLen = 0U;

    /* 516 'A's decode to 387 bytes: over kOTA_MaxSignatureSize (384). */
    memset( encoded, 'A', 516 );
    CHECK( HIL_Base64Decode( out, sizeof( out ), &outLen, ( const uint8_t * ) encoded, 516 ) == HilBase64InvalidBufferSize );
    /* 512 decode to exactly 384. */
    CHECK( HIL_Base64Decode( out, sizeof( out ), &outLen, ( const uint8_t * ) encoded, 512 ) == HilBase64Success );
    CHECK( outLen == 384U );
    /* A 2-byte tail that does not fit. */
    CHECK( HIL_Base64Decode( out, 1, &outLen, ( const uint8_t * ) "QUI=", 4 ) == HilBase64InvalidBufferSize );
}

static void test_HIL_Base64Decode_NullPointers( void )
{
    uint8_t out[ 4 ];
    size_t outLen;

    CHECK( HIL_Base64Decode( NULL, 4, &outLen, ( const uint8_t * ) "QUJD", 4 ) == HilBase64NullPointerInput );
    CHECK( HIL_Base64Decode( out, 4, NULL, ( const uint8_t * ) "QUJD", 4 ) == HilBase64NullPointerInput );
    CHECK( HIL_Base64Decode( out, 4, &outLen, NULL, 4 ) == HilBase64NullPointerInput );
}

static void test_HIL_Base64Decode_SignatureFromAJobDocument( void )
{
    /* The signature of the library's unit-test job documents: a 70-byte DER ECDSA signature. */
    const char * sig = "MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg==";
    uint8_t out[ 384 ];
    size_t outLen = 0U;

    CHECK( HIL_Base64Decode( out, sizeof( out ), &outLen, ( const uint8_t * ) sig, strlen( sig ) ) == HilBase64Success );
    CHECK( outLen == 70U );
    CHECK( out[ 0 ] == 0x30U && out[ 1 ] == 0x44U );
}

int main( void )
{
    RUN( test_HIL_Base64Decode_Vectors );
    RUN( test_HIL_Base64Decode_BufferLimit );
    RUN( test_HIL_Base64Decode_NullPointers );
    RUN( test_HIL_Base64Decode_SignatureFromAJobDocument );
    return hilTestSummary( "hil_base64" );
}
