/*
 * strtoul(…, 0) semantics over a length-delimited value, for an unsigned long of hilconfigULONG_BITS bits: C11
 * §7.22.1.4 (leading white space, optional sign, base prefix, ERANGE on overflow, negation of the magnitude).
 */
#include "hil_number.h"

static int digitValue( char c )
{
    if( ( c >= '0' ) && ( c <= '9' ) )
    {
        return c - '0';
    }

    if( ( c >= 'a' ) && ( c <= 'z' ) )
    {
        return c - 'a' + 10;
    }

    if( ( c >= 'A' ) && ( c <= 'Z' ) )
    {
        return c - 'A' + 10;
    }

    return 99;
}

int HIL_ParseUInt32( const char * pText,
                     size_t len,
                     uint32_t * pValue )
{
    const uint64_t limit = ( hilconfigULONG_BITS >= 64U ) ? UINT64_MAX : ( ( ( uint64_t ) 1U << hilconfigULONG_BITS ) - 1U );
    size_t i = 0U;
    size_t firstDigit;
    unsigned base = 10U;
    int negative = 0;
    uint64_t value = 0U;
    int overflow = 0;
    size_t end;

    if( ( pText == NULL ) || ( pValue == NULL ) )
    {
        return -1;
    }

    while( ( i < len ) && ( ( pText[ i ] == ' ' ) || ( ( pText[ i ] >= '\t' ) && ( pText[ i ] <= '\r' ) ) ) )
    {
        i++;
    }

    if( ( i < len ) && ( ( pText[ i ] == '+' ) || ( pText[ i ] == '-' ) ) )
    {
        negative = ( pText[ i ] == '-' ) ? 1 : 0;
        i++;
    }

    if( ( i < len ) && ( pText[ i ] == '0' ) )
    {
        if( ( ( i + 2U ) < len ) && ( ( pText[ i + 1U ] == 'x' ) || ( pText[ i + 1U ] == 'X' ) ) && ( digitValue( pText[ i + 2U ] ) < 16 ) )
        {
            base = 16U;
            i += 2U;
        }
        else
        {
            base = 8U;
        }
    }

    firstDigit = i;

    while( ( i < len ) && ( ( unsigned ) digitValue( pText[ i ] ) < base ) )
    {
        const uint64_t digit = ( uint64_t ) digitValue( pText[ i ] );

        if( ( overflow == 0 ) && ( value > ( ( limit - digit ) / base ) ) )
        {
            overflow = 1;
        }
        else if( overflow == 0 )
        {
            value = ( value * base ) + digit;
        }
        else
        {
            /* Keep consuming digits, as strtoul does, so `end` lands after them. */
        }

        i++;
    }

    /* No digits at all: strtoul sets end to the start of the text. */
    end = ( i == firstDigit ) ? 0U : i;

    if( ( overflow != 0 ) || ( end != len ) )
    {
        return -1;
    }

    if( negative != 0 )
    {
        value = ( ( ~value ) + 1U ) & limit;
    }

    *pValue = ( uint32_t ) value;
    return 0;
}
