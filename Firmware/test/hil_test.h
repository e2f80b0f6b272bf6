/* A minimal test harness: test_<API>_<Scenario> functions, one summary line "N passed, N failed". */
#ifndef HIL_TEST_H
#define HIL_TEST_H

#include <stdio.h>
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

#endif /* HIL_TEST_H */
