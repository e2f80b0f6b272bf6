/*
 * HIL_JsonValidate / HIL_JsonSearch / HIL_ParseUInt32. Job documents are from the FreeRTOS OTA library's unit
 * tests (aws/ota-for-aws-iot-embedded-sdk test/unit-test/ota_utest.c @477ee9a5, C string macros expanded, as in
 * test/vectors/ota_job_documents.json); the rest are written here.
 */
#include "hil_json.h"
#include "hil_number.h"
#include "hil_test.h"

static const char JOB_DOC_A[] =
    "{\"clientToken\":\"0:testclient\",\"timestamp\":1602795143,\"execution\":{\"jobId\":\"AFR_OTA-testjob20\",\"status\":\"QUEUED\","
    "\"queuedAt\":1602795128,\"lastUpdatedAt\":1602795128,\"versionNumber\":1,\"executionNumber\":1,\"jobDocument\":{\"afr_ota\":"
    "{\"protocols\":[\"MQTT\"],\"streamname\":\"AFR_OTA-XYZ\",\"files\":[{\"filepath\":\"/test/demo\",\"filesize\":10240,\"fileid\":0,"
    "\"certfile\":\"test.crt\",\"sig-sha256-ecdsa\":\"MEQCIF2QDvww1G/kpRGZ8FYvQrok1bSZvXjXefRk7sqNcyPTAiB4dvGt8fozIY5NC0vUDJ2MY42ZERYEcrbwA4n6q7vrBg==\"}] }}}}";

static int search( const char * doc, const char * query, const char * expected, HilJsonType_t expectedType )
{
    const char * value = NULL;
    size_t valueLen = 0U;
    HilJsonType_t type = HilJsonInvalid;
    HilJsonStatus_t status = HIL_JsonSearch( doc, strlen( doc ), query, strlen( query ), &value, &valueLen, &type );

    if( expected == NULL )
    {
        return status == HilJsonNotFound;
    }

    if( ( status != HilJsonSuccess ) || ( type != expectedType ) || ( valueLen != strlen( expected ) ) || ( memcmp( value, expected, valueLen ) != 0 ) )
    {
        fprintf( stderr, "  search %s: status %d type %d value '%.*s'\n", query, ( int ) status, ( int ) type, ( int ) valueLen, value ? value : "" );
        return 0;
    }

    return 1;
}

static void test_HIL_JsonValidate_Documents( void )
{
    CHECK( HIL_JsonValidate( JOB_DOC_A, strlen( JOB_DOC_A ) ) == HilJsonSuccess );
    CHECK( HIL_JsonValidate( "{\"a\":[1,-2.5e+3,true,false,null,{}]}", strlen( "{\"a\":[1,-2.5e+3,true,false,null,{}]}" ) ) == HilJsonSuccess );
    CHECK( HIL_JsonValidate( "  \"x\"  ", strlen( "  \"x\"  " ) ) == HilJsonSuccess );
    CHECK( HIL_JsonValidate( "{\"a\":1} x", strlen( "{\"a\":1} x" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":01}", strlen( "{\"a\":01}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":1.}", strlen( "{\"a\":1.}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":\"\\q\"}", strlen( "{\"a\":\"\\q\"}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":\"\x01\"}", strlen( "{\"a\":\"\x01\"}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":\"\xc0\xaf\"}", strlen( "{\"a\":\"\xc0\xaf\"}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":\"\xe2\x82\xac\"}", strlen( "{\"a\":\"\xe2\x82\xac\"}" ) ) == HilJsonSuccess );
    CHECK( HIL_JsonValidate( "{\"a\":1,}", strlen( "{\"a\":1,}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\" 1}", strlen( "{\"a\" 1}" ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( "{\"a\":tru", strlen( "{\"a\":tru" ) ) == HilJsonPartial );
    CHECK( HIL_JsonValidate( "{\"a\":[1,2", strlen( "{\"a\":[1,2" ) ) == HilJsonPartial );
    CHECK( HIL_JsonValidate( "This is not a JSON document.", strlen( "This is not a JSON document." ) ) == HilJsonIllegalDocument );
    CHECK( HIL_JsonValidate( NULL, 0 ) == HilJsonNullParameter );
    CHECK( HIL_JsonValidate( "", strlen( "" ) ) == HilJsonPartial );
}

static void test_HIL_JsonValidate_DepthLimit( void )
{
    char deep[ 80 ];
    size_t i;

    for( i = 0; i < 32; i++ )
    {
        deep[ i ] = '[';
        deep[ 64 - 1 - i ] = ']';
    }

    CHECK( HIL_JsonValidate( deep, 64 ) == HilJsonSuccess );
    deep[ 0 ] = ' ';
    deep[ 63 ] = ' ';
    CHECK( HIL_JsonValidate( deep, 64 ) == HilJsonSuccess );

    for( i = 0; i < 33; i++ )
    {
        deep[ i ] = '[';
        deep[ 66 - 1 - i ] = ']';
    }

    CHECK( HIL_JsonValidate( deep, 66 ) == HilJsonMaxDepthExceeded );
    CHECK( HIL_JsonCoreStatus( HilJsonMaxDepthExceeded ) == 3 );
}

static void test_HIL_JsonSearch_JobDocumentModelKeys( void )
{
    CHECK( search( JOB_DOC_A, "clientToken", "0:testclient", HilJsonString ) );
    CHECK( search( JOB_DOC_A, "timestamp", "1602795143", HilJsonNumber ) );
    CHECK( search( JOB_DOC_A, "execution.jobId", "AFR_OTA-testjob20", HilJsonString ) );
    CHECK( search( JOB_DOC_A, "execution.jobDocument.afr_ota.protocols", "[\"MQTT\"]", HilJsonArray ) );
    CHECK( search( JOB_DOC_A, "execution.jobDocument.afr_ota.streamname", "AFR_OTA-XYZ", HilJsonString ) );
    CHECK( search( JOB_DOC_A, "execution.jobDocument.afr_ota.files[0].filesize", "10240", HilJsonNumber ) );
    CHECK( search( JOB_DOC_A, "execution.jobDocument.afr_ota.files[0].certfile", "test.crt", HilJsonString ) );
    CHECK( search( JOB_DOC_A, "execution.statusDetails", NULL, HilJsonInvalid ) );
    CHECK( search( JOB_DOC_A, "execution.jobDocument.afr_ota.files[1]", NULL, HilJsonInvalid ) );
    CHECK( search( JOB_DOC_A, "filesize", NULL, HilJsonInvalid ) );
}

static void test_HIL_JsonSearch_Quirks( void )
{
    /* Strings come back raw: escapes are not undone. */
    CHECK( search( "{\"sig\":\"Zm9v\\/\"}", "sig", "Zm9v\\/", HilJsonString ) );
    /* The first of duplicate keys wins. */
    CHECK( search( "{\"a\":1,\"a\":2}", "a", "1", HilJsonNumber ) );
    /* Garbage after the path does not stop the search (the agent parses documents that fail validation). */
    CHECK( search( "{\"a\":{\"b\":7}} trailing garbage", "a.b", "7", HilJsonNumber ) );
    CHECK( search( "{\"a\":{\"b\":7,,,", "a.b", "7", HilJsonNumber ) );
    /* Keys are compared byte for byte, so an escaped key does not match its unescaped form. */
    CHECK( search( "{\"k\\u0065y\":1}", "key", NULL, HilJsonInvalid ) );
    CHECK( search( "{\"x\":{\"y\":[10,{\"z\":\"w\"}]}}", "x.y[1].z", "w", HilJsonString ) );
    CHECK( search( "[1,2,3]", "[2]", "3", HilJsonNumber ) );
}

static void test_HIL_JsonSearch_BadQueries( void )
{
    const char * value;
    size_t len;

    CHECK( HIL_JsonSearch( "{}", 2, "", 0, &value, &len, NULL ) == HilJsonBadParameter );
    CHECK( HIL_JsonSearch( "{}", 2, "a.", 2, &value, &len, NULL ) == HilJsonBadParameter );
    CHECK( HIL_JsonSearch( "{}", 2, "a[x]", 4, &value, &len, NULL ) == HilJsonBadParameter );
    CHECK( HIL_JsonSearch( NULL, 2, "a", 1, &value, &len, NULL ) == HilJsonNullParameter );
}

static int parses( const char * text, uint32_t expected )
{
    uint32_t value = 0xDEADBEEFU;
    return ( HIL_ParseUInt32( text, strlen( text ), &value ) == 0 ) && ( value == expected );
}

static int refused( const char * text )
{
    uint32_t value;
    return HIL_ParseUInt32( text, strlen( text ), &value ) == -1;
}

static void test_HIL_ParseUInt32_StrtoulBaseZero( void )
{
    CHECK( parses( "10240", 10240U ) );
    CHECK( parses( "1024", 1024U ) );            /* a quoted "1024" arrives without its quotes */
    CHECK( parses( "0x1000000", 0x1000000U ) );
    CHECK( parses( "0X1f", 31U ) );
    CHECK( parses( "017", 15U ) );               /* octal */
    CHECK( parses( "0", 0U ) );
    CHECK( parses( "-1", 0xFFFFFFFFU ) );
    CHECK( parses( "4294967295", 0xFFFFFFFFU ) );
    CHECK( parses( " 7", 7U ) );
    CHECK( refused( "4294967296" ) );            /* ERANGE on a 32-bit unsigned long (ESP32, CC3220SF) */
    CHECK( refused( "19223372036854775808" ) );  /* JOB_DOC_INVALID_NUMBER_VAL */
    CHECK( refused( "NaN" ) );                   /* JOB_DOC_INVALID_NUMBER_NAN */
    CHECK( refused( "08" ) );                    /* '8' is not octal: the text is not consumed */
    CHECK( refused( "10240.0" ) );
    CHECK( refused( "0x" ) );
    CHECK( refused( "-" ) );
    CHECK( refused( "7 " ) );
}

int main( void )
{
    RUN( test_HIL_JsonValidate_Documents );
    RUN( test_HIL_JsonValidate_DepthLimit );
    RUN( test_HIL_JsonSearch_JobDocumentModelKeys );
    RUN( test_HIL_JsonSearch_Quirks );
    RUN( test_HIL_JsonSearch_BadQueries );
    RUN( test_HIL_ParseUInt32_StrtoulBaseZero );
    return hilTestSummary( "hil_json" );
}
