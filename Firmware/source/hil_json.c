/*
 * JSON validation and search for the device-side verifier. Our own implementation of the behaviour the FreeRTOS
 * OTA agent gets from coreJSON (FreeRTOS/coreJSON source/include/core_json.h @cffa492d, as ota.c @477ee9a5 uses it):
 * RFC 8259 values, raw (not unescaped) string results, first match for duplicate keys, and searches that only
 * need the path they walk to be well formed.
 */
#include "hil_json.h"

#include <string.h>

typedef struct
{
    const char * buf;
    size_t len;
    size_t pos;
} Cursor_t;

static int isWhitespace( char c )
{
    return ( c == ' ' ) || ( c == '\t' ) || ( c == '\n' ) || ( c == '\r' );
}

static void skipWhitespace( Cursor_t * c )
{
    while( ( c->pos < c->len ) && ( isWhitespace( c->buf[ c->pos ] ) != 0 ) )
    {
        c->pos++;
    }
}

static int isDigit( char c )
{
    return ( c >= '0' ) && ( c <= '9' );
}

static int isHex( char c )
{
    return ( isDigit( c ) != 0 ) || ( ( c >= 'a' ) && ( c <= 'f' ) ) || ( ( c >= 'A' ) && ( c <= 'F' ) );
}

/* One UTF-8 sequence starting at c->pos (the lead byte is >= 0x80); rejects overlongs, surrogates, > U+10FFFF. */
static HilJsonStatus_t skipUtf8( Cursor_t * c )
{
    const uint8_t lead = ( uint8_t ) c->buf[ c->pos ];
    size_t extra;
    uint32_t value;
    uint32_t minimum;
    size_t i;

    if( ( lead & 0xE0U ) == 0xC0U )
    {
        extra = 1U;
        value = lead & 0x1FU;
        minimum = 0x80U;
    }
    else if( ( lead & 0xF0U ) == 0xE0U )
    {
        extra = 2U;
        value = lead & 0x0FU;
        minimum = 0x800U;
    }
    else if( ( lead & 0xF8U ) == 0xF0U )
    {
        extra = 3U;
        value = lead & 0x07U;
        minimum = 0x10000U;
    }
    else
    {
        return HilJsonIllegalDocument;
    }

    for( i = 1U; i <= extra; i++ )
    {
        uint8_t next;

        if( ( c->pos + i ) >= c->len )
        {
            return HilJsonPartial;
        }

        next = ( uint8_t ) c->buf[ c->pos + i ];

        if( ( next & 0xC0U ) != 0x80U )
        {
            return HilJsonIllegalDocument;
        }

        value = ( value << 6 ) | ( next & 0x3FU );
    }

    if( ( value < minimum ) || ( value > 0x10FFFFU ) || ( ( value >= 0xD800U ) && ( value <= 0xDFFFU ) ) )
    {
        return HilJsonIllegalDocument;
    }

    c->pos += extra + 1U;
    return HilJsonSuccess;
}

/* A string starting at its opening quote; leaves the cursor after the closing quote. */
static HilJsonStatus_t skipString( Cursor_t * c )
{
    if( ( c->pos >= c->len ) || ( c->buf[ c->pos ] != '"' ) )
    {
        return HilJsonIllegalDocument;
    }

    c->pos++;

    while( c->pos < c->len )
    {
        const char ch = c->buf[ c->pos ];

        if( ch == '"' )
        {
            c->pos++;
            return HilJsonSuccess;
        }
        else if( ch == '\\' )
        {
            char escaped;

            if( ( c->pos + 1U ) >= c->len )
            {
                return HilJsonPartial;
            }

            escaped = c->buf[ c->pos + 1U ];

            if( escaped == 'u' )
            {
                size_t i;

                for( i = 2U; i < 6U; i++ )
                {
                    if( ( c->pos + i ) >= c->len )
                    {
                        return HilJsonPartial;
                    }

                    if( isHex( c->buf[ c->pos + i ] ) == 0 )
                    {
                        return HilJsonIllegalDocument;
                    }
                }

                c->pos += 6U;
            }
            else if( ( escaped == '"' ) || ( escaped == '\\' ) || ( escaped == '/' ) || ( escaped == 'b' ) ||
                     ( escaped == 'f' ) || ( escaped == 'n' ) || ( escaped == 'r' ) || ( escaped == 't' ) )
            {
                c->pos += 2U;
            }
            else
            {
                return HilJsonIllegalDocument;
            }
        }
        else if( ( uint8_t ) ch < 0x20U )
        {
            return HilJsonIllegalDocument;
        }
        else if( ( uint8_t ) ch >= 0x80U )
        {
            HilJsonStatus_t status = skipUtf8( c );

            if( status != HilJsonSuccess )
            {
                return status;
            }
        }
        else
        {
            c->pos++;
        }
    }

    return HilJsonPartial;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static HilJsonStatus_t skipNumber( Cursor_t * c )
{
    size_t digits;

    if( ( c->pos < c->len ) && ( c->buf[ c->pos ] == '-' ) )
    {
        c->pos++;
    }

    if( c->pos >= c->len )
    {
        return HilJsonPartial;
    }

    if( c->buf[ c->pos ] == '0' )
    {
        c->pos++;
    }
    else if( isDigit( c->buf[ c->pos ] ) != 0 )
    {
        while( ( c->pos < c->len ) && ( isDigit( c->buf[ c->pos ] ) != 0 ) )
        {
            c->pos++;
        }
    }
    else
    {
        return HilJsonIllegalDocument;
    }

    if( ( c->pos < c->len ) && ( c->buf[ c->pos ] == '.' ) )
    {
        c->pos++;

        for( digits = 0U; ( c->pos < c->len ) && ( isDigit( c->buf[ c->pos ] ) != 0 ); digits++ )
        {
            c->pos++;
        }

        if( digits == 0U )
        {
            return ( c->pos >= c->len ) ? HilJsonPartial : HilJsonIllegalDocument;
        }
    }

    if( ( c->pos < c->len ) && ( ( c->buf[ c->pos ] == 'e' ) || ( c->buf[ c->pos ] == 'E' ) ) )
    {
        c->pos++;

        if( ( c->pos < c->len ) && ( ( c->buf[ c->pos ] == '+' ) || ( c->buf[ c->pos ] == '-' ) ) )
        {
            c->pos++;
        }

        for( digits = 0U; ( c->pos < c->len ) && ( isDigit( c->buf[ c->pos ] ) != 0 ); digits++ )
        {
            c->pos++;
        }

        if( digits == 0U )
        {
            return ( c->pos >= c->len ) ? HilJsonPartial : HilJsonIllegalDocument;
        }
    }

    return HilJsonSuccess;
}

static HilJsonStatus_t skipLiteral( Cursor_t * c,
                                    const char * literal )
{
    const size_t length = strlen( literal );
    const size_t available = c->len - c->pos;

    if( available < length )
    {
        return ( memcmp( &c->buf[ c->pos ], literal, available ) == 0 ) ? HilJsonPartial : HilJsonIllegalDocument;
    }

    if( memcmp( &c->buf[ c->pos ], literal, length ) != 0 )
    {
        return HilJsonIllegalDocument;
    }

    c->pos += length;
    return HilJsonSuccess;
}

static HilJsonStatus_t skipValue( Cursor_t * c,
                                  size_t depth );

/* An object or array starting at its opening bracket. */
static HilJsonStatus_t skipCollection( Cursor_t * c,
                                       size_t depth )
{
    const char open = c->buf[ c->pos ];
    const char close = ( open == '{' ) ? '}' : ']';
    HilJsonStatus_t status = HilJsonSuccess;
    int first = 1;

    if( depth >= hilconfigJSON_MAX_DEPTH )
    {
        return HilJsonMaxDepthExceeded;
    }

    c->pos++;
    skipWhitespace( c );

    if( ( c->pos < c->len ) && ( c->buf[ c->pos ] == close ) )
    {
        c->pos++;
        return HilJsonSuccess;
    }

    while( status == HilJsonSuccess )
    {
        if( first == 0 )
        {
            skipWhitespace( c );

            if( c->pos >= c->len )
            {
                return HilJsonPartial;
            }

            if( c->buf[ c->pos ] == close )
            {
                c->pos++;
                return HilJsonSuccess;
            }

            if( c->buf[ c->pos ] != ',' )
            {
                return HilJsonIllegalDocument;
            }

            c->pos++;
        }

        first = 0;
        skipWhitespace( c );

        if( open == '{' )
        {
            status = skipString( c );

            if( status == HilJsonSuccess )
            {
                skipWhitespace( c );

                if( c->pos >= c->len )
                {
                    status = HilJsonPartial;
                }
                else if( c->buf[ c->pos ] != ':' )
                {
                    status = HilJsonIllegalDocument;
                }
                else
                {
                    c->pos++;
                    skipWhitespace( c );
                }
            }
        }

        if( status == HilJsonSuccess )
        {
            status = skipValue( c, depth + 1U );
        }
    }

    return status;
}

static HilJsonStatus_t skipValue( Cursor_t * c,
                                  size_t depth )
{
    char ch;

    if( c->pos >= c->len )
    {
        return HilJsonPartial;
    }

    ch = c->buf[ c->pos ];

    switch( ch )
    {
        case '{':
        case '[':
            return skipCollection( c, depth );

        case '"':
            return skipString( c );

        case 't':
            return skipLiteral( c, "true" );

        case 'f':
            return skipLiteral( c, "false" );

        case 'n':
            return skipLiteral( c, "null" );

        default:
            return ( ( ch == '-' ) || ( isDigit( ch ) != 0 ) ) ? skipNumber( c ) : HilJsonIllegalDocument;
    }
}

HilJsonStatus_t HIL_JsonValidate( const char * pBuf,
                                  size_t len )
{
    Cursor_t c = { pBuf, len, 0U };
    HilJsonStatus_t status;

    if( pBuf == NULL )
    {
        return HilJsonNullParameter;
    }

    skipWhitespace( &c );
    status = skipValue( &c, 0U );

    if( status == HilJsonSuccess )
    {
        skipWhitespace( &c );

        if( c.pos != c.len )
        {
            status = HilJsonIllegalDocument;
        }
    }

    return status;
}

static HilJsonType_t typeAt( char ch )
{
    switch( ch )
    {
        case '{': return HilJsonObject;
        case '[': return HilJsonArray;
        case '"': return HilJsonString;
        case 't': return HilJsonTrue;
        case 'f': return HilJsonFalse;
        case 'n': return HilJsonNull;
        default: return HilJsonNumber;
    }
}

/* Within the object at c->pos, finds member `key` (raw bytes, not unescaped); leaves the cursor on its value. */
static HilJsonStatus_t findMember( Cursor_t * c,
                                   const char * key,
                                   size_t keyLen )
{
    HilJsonStatus_t status = HilJsonSuccess;

    c->pos++; /* '{' */

    while( status == HilJsonSuccess )
    {
        size_t keyStart;
        size_t keyEnd;

        skipWhitespace( c );

        if( c->pos >= c->len )
        {
            return HilJsonNotFound;
        }

        if( c->buf[ c->pos ] == '}' )
        {
            return HilJsonNotFound;
        }

        keyStart = c->pos + 1U;
        status = skipString( c );

        if( status != HilJsonSuccess )
        {
            return HilJsonNotFound;
        }

        keyEnd = c->pos - 1U;
        skipWhitespace( c );

        if( ( c->pos >= c->len ) || ( c->buf[ c->pos ] != ':' ) )
        {
            return HilJsonNotFound;
        }

        c->pos++;
        skipWhitespace( c );

        if( ( ( keyEnd - keyStart ) == keyLen ) && ( memcmp( &c->buf[ keyStart ], key, keyLen ) == 0 ) )
        {
            return ( c->pos < c->len ) ? HilJsonSuccess : HilJsonNotFound;
        }

        status = skipValue( c, 1U );

        if( status != HilJsonSuccess )
        {
            return HilJsonNotFound;
        }

        skipWhitespace( c );

        if( ( c->pos < c->len ) && ( c->buf[ c->pos ] == ',' ) )
        {
            c->pos++;
        }
        else
        {
            return HilJsonNotFound;
        }
    }

    return HilJsonNotFound;
}

/* Within the array at c->pos, finds element `index`; leaves the cursor on it. */
static HilJsonStatus_t findElement( Cursor_t * c,
                                    size_t index )
{
    size_t current = 0U;

    c->pos++; /* '[' */

    for( ; ; )
    {
        skipWhitespace( c );

        if( ( c->pos >= c->len ) || ( c->buf[ c->pos ] == ']' ) )
        {
            return HilJsonNotFound;
        }

        if( current == index )
        {
            return HilJsonSuccess;
        }

        if( skipValue( c, 1U ) != HilJsonSuccess )
        {
            return HilJsonNotFound;
        }

        skipWhitespace( c );

        if( ( c->pos < c->len ) && ( c->buf[ c->pos ] == ',' ) )
        {
            c->pos++;
            current++;
        }
        else
        {
            return HilJsonNotFound;
        }
    }
}

/* A query is keys separated by '.', each optionally followed by [n] indices; it may start with [n]. */
static int isValidQuery( const char * pQuery,
                         size_t queryLen )
{
    size_t q = 0U;
    int expectKey = ( queryLen > 0U ) && ( pQuery[ 0 ] != '[' );

    if( queryLen == 0U )
    {
        return 0;
    }

    while( q < queryLen )
    {
        if( expectKey != 0 )
        {
            const size_t start = q;

            while( ( q < queryLen ) && ( pQuery[ q ] != '.' ) && ( pQuery[ q ] != '[' ) && ( pQuery[ q ] != ']' ) )
            {
                q++;
            }

            if( q == start )
            {
                return 0;
            }
        }

        while( ( q < queryLen ) && ( pQuery[ q ] == '[' ) )
        {
            const size_t start = ++q;

            while( ( q < queryLen ) && ( isDigit( pQuery[ q ] ) != 0 ) )
            {
                q++;
            }

            if( ( q == start ) || ( ( q - start ) > 9U ) || ( q >= queryLen ) || ( pQuery[ q ] != ']' ) )
            {
                return 0;
            }

            q++;
        }

        if( q < queryLen )
        {
            if( ( pQuery[ q ] != '.' ) || ( ( q + 1U ) >= queryLen ) )
            {
                return 0;
            }

            q++;
        }

        expectKey = 1;
    }

    return 1;
}

HilJsonStatus_t HIL_JsonSearch( const char * pBuf,
                                size_t len,
                                const char * pQuery,
                                size_t queryLen,
                                const char ** ppValue,
                                size_t * pValueLen,
                                HilJsonType_t * pType )
{
    Cursor_t c = { pBuf, len, 0U };
    size_t q = 0U;
    size_t start;
    HilJsonType_t type;

    if( ( pBuf == NULL ) || ( pQuery == NULL ) || ( ppValue == NULL ) || ( pValueLen == NULL ) )
    {
        return HilJsonNullParameter;
    }

    if( isValidQuery( pQuery, queryLen ) == 0 )
    {
        return HilJsonBadParameter;
    }

    skipWhitespace( &c );

    while( q < queryLen )
    {
        if( c.pos >= c.len )
        {
            return HilJsonNotFound;
        }

        if( pQuery[ q ] == '[' )
        {
            size_t index = 0U;
            size_t digits = 0U;

            q++;

            while( ( q < queryLen ) && ( isDigit( pQuery[ q ] ) != 0 ) )
            {
                index = ( index * 10U ) + ( size_t ) ( pQuery[ q ] - '0' );
                q++;
                digits++;

                if( digits > 9U )
                {
                    return HilJsonBadParameter;
                }
            }

            if( ( digits == 0U ) || ( q >= queryLen ) || ( pQuery[ q ] != ']' ) )
            {
                return HilJsonBadParameter;
            }

            q++;

            if( c.buf[ c.pos ] != '[' )
            {
                return HilJsonNotFound;
            }

            if( findElement( &c, index ) != HilJsonSuccess )
            {
                return HilJsonNotFound;
            }
        }
        else
        {
            size_t keyStart = q;

            while( ( q < queryLen ) && ( pQuery[ q ] != '.' ) && ( pQuery[ q ] != '[' ) )
            {
                q++;
            }

            if( q == keyStart )
            {
                return HilJsonBadParameter;
            }

            if( c.buf[ c.pos ] != '{' )
            {
                return HilJsonNotFound;
            }

            if( findMember( &c, &pQuery[ keyStart ], q - keyStart ) != HilJsonSuccess )
            {
                return HilJsonNotFound;
            }
        }

        if( ( q < queryLen ) && ( pQuery[ q ] == '.' ) )
        {
            q++;

            if( q >= queryLen )
            {
                return HilJsonBadParameter;
            }
        }
    }

    /* The cursor is on the value: measure it. */
    start = c.pos;
    type = typeAt( c.buf[ c.pos ] );

    if( skipValue( &c, 0U ) != HilJsonSuccess )
    {
        return HilJsonNotFound;
    }

    if( type == HilJsonString )
    {
        *ppValue = &c.buf[ start + 1U ];
        *pValueLen = ( c.pos - start ) - 2U;
    }
    else
    {
        *ppValue = &c.buf[ start ];
        *pValueLen = c.pos - start;
    }

    if( pType != NULL )
    {
        *pType = type;
    }

    return HilJsonSuccess;
}

int HIL_JsonCoreStatus( HilJsonStatus_t status )
{
    /* core_json.h: JSONPartial 0, JSONSuccess 1, JSONIllegalDocument 2, JSONMaxDepthExceeded 3, JSONNotFound 4,
     * JSONNullParameter 5, JSONBadParameter 6. */
    switch( status )
    {
        case HilJsonPartial: return 0;
        case HilJsonSuccess: return 1;
        case HilJsonIllegalDocument: return 2;
        case HilJsonMaxDepthExceeded: return 3;
        case HilJsonNotFound: return 4;
        case HilJsonNullParameter: return 5;
        default: return 6;
    }
}
