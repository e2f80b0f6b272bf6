/* A minimal test harness: test_<API>_<Scenario> functions, one summary line "N passed, N failed". */
#ifndef HIL_TEST_H
#define HIL_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hilTestFailures = 0;
static int hilTestChecks = 0;
static int hilTestsPassed = 0;
static int hilTestsFailed = 0;

#define CHECK( condition )                                                                    \
    do {                                                                                      \
        hilTestChecks++;                                                                      \
        if( !( condition ) ) {                                                                \
            hilTestFailures++;                                                                \
            fprintf( stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #condition ); \
        }                                                                                     \
    } while( 0 )

#define RUN( test )                                                  \
    do {                                                             \
        const int before = hilTestFailures;                          \
        test();                                                      \
        if( hilTestFailures == before ) { hilTestsPassed++; }        \
        else { hilTestsFailed++; fprintf( stderr, "FAIL %s\n", #test ); } \
    } while( 0 )

static int hilTestSummary( const char * suite )
{
    printf( "%s: %d passed, %d failed (%d checks)\n", suite, hilTestsPassed, hilTestsFailed, hilTestChecks );
    return ( hilTestsFailed == 0 && hilTestChecks > 0 ) ? 0 : 1;
}

/* The whole file with a NUL appended; *pLen counts the NUL when `countNul` (PEM for mbedTLS). Free the result. */
static inline uint8_t * hilReadFile( const char * path,
                                     size_t * pLen,
                                     int countNul )
{
    FILE * file = fopen( path, "rb" );
    uint8_t * data = NULL;
    long size;

    if( file == NULL )
    {
        fprintf( stderr, "  cannot open %s\n", path );
        return NULL;
    }

    ( void ) fseek( file, 0, SEEK_END );
    size = ftell( file );
    ( void ) fseek( file, 0, SEEK_SET );
    data = malloc( ( size_t ) size + 1U );

    if( ( data != NULL ) && ( fread( data, 1, ( size_t ) size, file ) == ( size_t ) size ) )
    {
        data[ size ] = 0;
        *pLen = ( size_t ) size + ( countNul ? 1U : 0U );
    }
    else
    {
        free( data );
        data = NULL;
    }

    ( void ) fclose( file );
    return data;
}

/* JSON string content → bytes, NUL-terminated: \" \\ \/ \n \r \t and \uXXXX below 0x80, as the vector files use.
 * Returns the length without the NUL. */
static inline size_t hilUnescape( const char * in,
                                  size_t len,
                                  char * out,
                                  size_t capacity )
{
    size_t i = 0U;
    size_t o = 0U;

    while( ( i < len ) && ( ( o + 1U ) < capacity ) )
    {
        char c = in[ i++ ];

        if( ( c == '\\' ) && ( i < len ) )
        {
            const char e = in[ i++ ];
            c = ( e == 'n' ) ? '\n' : ( e == 'r' ) ? '\r' : ( e == 't' ) ? '\t' : e;

            if( ( e == 'u' ) && ( ( i + 4U ) <= len ) )
            {
                char hex[ 5 ] = { in[ i ], in[ i + 1U ], in[ i + 2U ], in[ i + 3U ], 0 };
                c = ( char ) strtol( hex, NULL, 16 );
                i += 4U;
            }
        }

        out[ o++ ] = c;
    }

    out[ o ] = '\0';
    return o;
}

#endif /* HIL_TEST_H */
