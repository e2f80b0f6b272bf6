/*
 * HIL_ParseJobDocument against the FreeRTOS OTA library's unit-test job documents (test/vectors, with their
 * provenance), read with the verifier's own JSON search, plus the agent quirks otarig read in
 * aws/ota-for-aws-iot-embedded-sdk source/ota.c @477ee9a5.
 */
#include "hil_jobdoc.h"
#include "hil_json.h"
#include "hil_test.h"

#define RUNNING_VERSION    0x01000001U /* 1.0.1, as in the library's tests */

static int field( const char * text, size_t len, unsigned index, const char * name, char * out, size_t capacity )
{
    char query[ 64 ];
    const char * value;
    size_t valueLen;

    ( void ) snprintf( query, sizeof( query ), "documents[%u].%s", index, name );

    if( HIL_JsonSearch( text, len, query, strlen( query ), &value, &valueLen, NULL ) != HilJsonSuccess )
    {
        return 0;
    }

    ( void ) hilUnescape( value, valueLen, out, capacity );
    return 1;
}

static HilJobDocument_t doc;

static void test_HIL_ParseJobDocument_LibraryVectors( void )
{
    size_t len = 0U;
    char * text = ( char * ) hilReadFile( "test/vectors/ota_job_documents.json", &len, 0 );
    static char json[ 8192 ];
    char name[ 128 ];
    char expected[ 64 ];
    unsigned index;
    unsigned count = 0U;

    CHECK( text != NULL );

    if( text == NULL )
    {
        return;
    }

    for( index = 0U; field( text, len, index, "name", name, sizeof( name ) ); index++ )
    {
        HilJobParseErr_t result;
        int ok;

        CHECK( field( text, len, index, "json", json, sizeof( json ) ) );
        CHECK( field( text, len, index, "expected", expected, sizeof( expected ) ) );
        result = HIL_ParseJobDocument( json, strlen( json ), "sig-sha256-ecdsa", &doc );
        count++;

        if( strcmp( expected, "accept" ) == 0 )
        {
            ok = ( result == HilJobParseErrNone ) && ( doc.otaErr == HilOtaErrNone ) && ( HIL_CheckProtocols( &doc ) == HilOtaErrNone );
        }
        else if( strcmp( expected, "accept-selftest" ) == 0 )
        {
            ok = ( result == HilJobParseErrNone ) && doc.inSelfTest && ( HIL_CheckSelfTestVersion( &doc, RUNNING_VERSION ) == HilOtaErrNone );
        }
        else if( strcmp( expected, "reject-selftest" ) == 0 )
        {
            ok = ( result == HilJobParseErrNone ) && doc.inSelfTest && ( HIL_CheckSelfTestVersion( &doc, RUNNING_VERSION ) != HilOtaErrNone );
        }
        else if( strcmp( expected, "reject-quiet" ) == 0 )
        {
            ok = ( doc.docErr == HilDocParseErrEmptyJobDoc ) && ( doc.otaErr == HilOtaErrEmptyJobDocument ) && ( result == HilJobParseErrNoActiveJobs );
        }
        else if( strcmp( expected, "parse-ok-then-abort" ) == 0 )
        {
            ok = ( result == HilJobParseErrNone ) && ( HIL_CheckProtocols( &doc ) == HilOtaErrInvalidDataProtocol );
        }
        else
        {
            ok = ( result != HilJobParseErrNone ) || ( doc.otaErr != HilOtaErrNone );
        }

        if( !ok )
        {
            fprintf( stderr, "  %s (expected %s): %s, docErr %d, otaErr %d\n", name, expected, HIL_JobParseErrName( result ),
                     ( int ) doc.docErr, ( int ) doc.otaErr );
        }

        CHECK( ok );
    }

    CHECK( count == 22U );
    free( text );
}

static HilJobParseErr_t parse( const char * json )
{
    return HIL_ParseJobDocument( json, strlen( json ), NULL, &doc );
}

#define JOB_HEAD    "{\"execution\":{\"jobId\":\"J1\",\"jobDocument\":{\"afr_ota\":{\"protocols\":[\"MQTT\"],\"streamname\":\"S\",\"files\":[{"
#define JOB_TAIL    "}]}}}}"

static void test_HIL_ParseJobDocument_Fields( void )
{
    CHECK( parse( JOB_HEAD "\"filepath\":\"/ota/app\",\"filesize\":\"0x400\",\"fileid\":0,\"certfile\":\"c.der\",\"attr\":3,\"fileType\":\"017\","
                  "\"sig-sha256-ecdsa\":\"QUJD\"" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( strcmp( doc.jobId, "J1" ) == 0 );
    CHECK( strcmp( doc.protocols, "[\"MQTT\"]" ) == 0 );
    CHECK( strcmp( doc.filePath, "/ota/app" ) == 0 );
    CHECK( strcmp( doc.certFile, "c.der" ) == 0 );
    CHECK( doc.fileSize == 1024U );
    CHECK( doc.fileAttributes == 3U );
    CHECK( doc.signatureSize == 3U && memcmp( doc.signature, "ABC", 3 ) == 0 );
    /* strtoul base 0 reads "017" as octal 15; a bare 017 would make the files array unsearchable, as in coreJSON. */
    CHECK( doc.jsonValid == 1 );
    CHECK( doc.fileType == 15U );
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0,\"fileType\":017" JOB_TAIL ) == HilJobParseErrNoActiveJobs );
    CHECK( doc.docErr == HilDocParseErrMalformedDoc );
}

static void test_HIL_ParseJobDocument_Quirks( void )
{
    /* A missing signature keeps the previous document's signature (the agent's static buffer). */
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0,\"sig-sha256-ecdsa\":\"Rk9P\"" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( doc.signatureSize == 3U && memcmp( doc.signature, "FOO", 3 ) == 0 );
    /* "==" decodes to nothing: the document parses and the signature is empty. */
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0,\"sig-sha256-ecdsa\":\"==\"" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( doc.signatureSize == 0U );
    /* JSON escapes are not undone, so an escaped slash breaks the signature's base64. */
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0,\"sig-sha256-ecdsa\":\"Zm9v\\/\"" JOB_TAIL ) == HilJobParseErrNonConformingJobDoc );
    CHECK( doc.docErr == HilDocParseErrBase64Decode && doc.base64Status == HilBase64InvalidSymbol );
    CHECK( strcmp( doc.jobId, "J1" ) == 0 );
    /* A top-level key wins over the one in files. */
    CHECK( parse( "{\"filesize\":7,\"execution\":{\"jobId\":\"J1\",\"jobDocument\":{\"afr_ota\":{\"protocols\":[\"MQTT\"],\"files\":[{"
                  "\"filesize\":10,\"fileid\":0" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( doc.fileSize == 7U );
    /* Trailing garbage fails validation, but the stored jobId resets the error and the job is accepted. */
    CHECK( parse( JOB_HEAD "\"filesize\":10,\"fileid\":0" JOB_TAIL " garbage" ) == HilJobParseErrNone );
    CHECK( doc.jsonValid == 0 );
    /* Protocols text of 20 characters does not fit the agent's 20-byte buffer (19 and a NUL). */
    CHECK( parse( "{\"execution\":{\"jobId\":\"J\",\"jobDocument\":{\"afr_ota\":{\"protocols\":[\"MQTT\",\"HTTP\",\"XY\"],\"files\":[{\"filesize\":1,\"fileid\":0}]}}}}" )
           == HilJobParseErrNonConformingJobDoc );
    CHECK( doc.docErr == HilDocParseErrUserBufferInsufficient );
    /* A zero file size and a file too large for the block bitmap (4 MiB by default). */
    CHECK( parse( JOB_HEAD "\"filesize\":0,\"fileid\":0" JOB_TAIL ) == HilJobParseErrZeroFileSize );
    CHECK( parse( JOB_HEAD "\"filesize\":4194304,\"fileid\":0" JOB_TAIL ) == HilJobParseErrNone );
    CHECK( parse( JOB_HEAD "\"filesize\":4194305,\"fileid\":0" JOB_TAIL ) == HilJobParseErrBadModelInitParams );
    /* "files" that is not an array is not checked: its value without first and last byte is searched. */
    CHECK( parse( "{\"execution\":{\"jobId\":\"J\",\"jobDocument\":{\"afr_ota\":{\"protocols\":[\"MQTT\"],\"files\":1}}}}" ) == HilJobParseErrNonConformingJobDoc );
    CHECK( doc.docErr == HilDocParseErrMalformedDoc );
}

static void test_HIL_CheckSelfTestVersion_Rules( void )
{
    HilJobDocument_t self = { 0 };

    self.inSelfTest = true;
    self.updatedBy = 0x01000000U;
    CHECK( HIL_CheckSelfTestVersion( &self, RUNNING_VERSION ) == HilOtaErrNone );
    self.updatedBy = RUNNING_VERSION;
    CHECK( HIL_CheckSelfTestVersion( &self, RUNNING_VERSION ) == HilOtaErrSameFirmwareVersion );
    self.updatedBy = 0x02000000U;
    CHECK( HIL_CheckSelfTestVersion( &self, RUNNING_VERSION ) == HilOtaErrDowngradeNotAllowed );
    self.fileId = 1U;
    CHECK( HIL_CheckSelfTestVersion( &self, RUNNING_VERSION ) == HilOtaErrNone );
    self.fileId = 0U;
    self.fileType = 255U;
    CHECK( HIL_CheckSelfTestVersion( &self, RUNNING_VERSION ) == HilOtaErrNone );
}

int main( void )
{
    RUN( test_HIL_ParseJobDocument_LibraryVectors );
    RUN( test_HIL_ParseJobDocument_Fields );
    RUN( test_HIL_ParseJobDocument_Quirks );
    RUN( test_HIL_CheckSelfTestVersion_Rules );
    return hilTestSummary( "hil_jobdoc" );
}
