/*
 * HIL_SlFsClose, the CC3220SF network processor model, one test per row of the spec's order of checks
 * (/work/spec/simplelink-close.md), the lock after 15 security alerts, the PAL mapping of otaPal_CloseFile, and the
 * agent through the CC3220SF POSIX port. Certificates, signatures, fingerprints and openssl's own verdicts come from
 * test/make_fixtures.sh (argv[1]/simplelink); the expected codes are the spec's and TI's errors.h values, written out
 * literally here.
 */
#include "hil_cc3220_pal.h"
#include "hil_simplelink.h"
#include "hil_test.h"

static const char * fixtures = "build/fixtures";
static char path[ 1024 ];

static const char * fixture( const char * name )
{
    ( void ) snprintf( path, sizeof( path ), "%s/simplelink/%s", fixtures, name );
    return path;
}

/* The first line of a fixture text file ("ok" / "fail"). */
static int openSslSays( const char * name,
                        const char * verdict )
{
    size_t length = 0U;
    uint8_t * pText = hilReadFile( fixture( name ), &length, 0 );
    int same = 0;

    if( pText != NULL )
    {
        same = ( strncmp( ( const char * ) pText, verdict, strlen( verdict ) ) == 0 ) && ( pText[ strlen( verdict ) ] == '\n' );
        free( pText );
    }

    return same;
}

/* ---- a file system of named entries: a fixture file or inline bytes ---- */

typedef struct
{
    const char * name;
    const char * file;           /* a fixture under simplelink/, or NULL ... */
    const uint8_t * pData;       /* ... for these bytes */
    size_t length;
} Entry_t;

typedef struct
{
    const Entry_t * pEntries;
    size_t count;
    unsigned lookups;
} MapFs_t;

static HilSlLookup_t mapLookup( void * pContext,
                                const char * pName,
                                uint8_t * pBuffer,
                                size_t capacity,
                                size_t * pLength )
{
    MapFs_t * pFs = pContext;
    size_t i;

    pFs->lookups++;
    *pLength = 0U;

    for( i = 0U; i < pFs->count; i++ )
    {
        const Entry_t * pEntry = &pFs->pEntries[ i ];

        if( strcmp( pEntry->name, pName ) == 0 )
        {
            size_t length = pEntry->length;
            uint8_t * pData = NULL;
            const uint8_t * pBytes = pEntry->pData;

            if( pEntry->file != NULL )
            {
                pData = hilReadFile( fixture( pEntry->file ), &length, 0 );
                pBytes = pData;

                if( pData == NULL )
                {
                    return HilSlFileNotFound;
                }
            }

            if( length > capacity )
            {
                free( pData );
                return HilSlFileTooLarge;
            }

            ( void ) memcpy( pBuffer, pBytes, length );
            *pLength = length;
            free( pData );
            return HilSlFileFound;
        }
    }

    return HilSlFileNotFound;
}

/* ---- one close ---- */

static uint8_t payload[ 80000 ];
static size_t payloadLength;
static HilSlBuffer_t * pRoots;
static size_t rootCount;
static HilSlBuffer_t * pEcRoots;
static size_t ecRootCount;
static HilSlWorkspace_t workspace;
static HilSlEvidence_t evidence;
static HilSlNwp_t nwp;
static MapFs_t fs;

typedef struct
{
    const Entry_t * pEntries;
    size_t count;
    const char * certName;
    const char * signatureFile;          /* a .sig fixture */
    const uint8_t * pSignature;          /* or these bytes */
    size_t signatureLength;
    bool tamper;                         /* flip one byte of the file first */
    bool ecCatalog;                      /* the EC root's catalog instead of dummy-root-ca-cert's */
    bool emptyCatalog;
    const char * revokedFile;            /* a revoked-*.txt fixture */
} Close_t;

static int32_t runClose( const Close_t * pClose )
{
    HilSlFileSystem_t fileSystem = { &fs, mapLookup };
    HilSlFingerprint_t revoked[ 4 ];
    HilSlCatalog_t catalog = { pRoots, rootCount, NULL, 0U };
    HilSlClose_t request;
    HilHasher_t hasher;
    uint8_t * pSignature = NULL;
    size_t signatureLength = pClose->signatureLength;
    int32_t code;

    fs.pEntries = pClose->pEntries;
    fs.count = pClose->count;
    fs.lookups = 0U;

    if( pClose->ecCatalog )
    {
        catalog.pRoots = pEcRoots;
        catalog.rootCount = ecRootCount;
    }

    if( pClose->emptyCatalog )
    {
        catalog.pRoots = NULL;
        catalog.rootCount = 0U;
    }

    if( pClose->revokedFile != NULL )
    {
        size_t length = 0U;
        uint8_t * pText = hilReadFile( fixture( pClose->revokedFile ), &length, 0 );
        size_t count = 0U;

        CHECK( pText != NULL );

        if( pText != NULL )
        {
            CHECK( HIL_SlParseRevocationList( ( const char * ) pText, length, revoked, 4U, &count ) == 0U );
            CHECK( count == 1U );
            free( pText );
        }

        catalog.pRevoked = revoked;
        catalog.revokedCount = count;
    }

    ( void ) memset( &request, 0, sizeof( request ) );
    request.pCertName = pClose->certName;

    if( pClose->signatureFile != NULL )
    {
        pSignature = hilReadFile( fixture( pClose->signatureFile ), &signatureLength, 0 );
        CHECK( pSignature != NULL );
        request.pSignature = pSignature;
    }
    else
    {
        request.pSignature = pClose->pSignature;
    }

    request.signatureLength = signatureLength;

    if( pClose->tamper )
    {
        payload[ 1000 ] ^= 0x01U;
    }

    HIL_HashStart( &hasher, HilHashSha1 );
    HIL_HashUpdate( &hasher, payload, payloadLength );
    HIL_HashFinish( &hasher, request.fileSha1 );

    if( pClose->tamper )
    {
        payload[ 1000 ] ^= 0x01U;
    }

    code = HIL_SlFsClose( &nwp, &fileSystem, &catalog, &request, &workspace, &evidence );
    CHECK( evidence.code == code );
    free( pSignature );
    return code;
}

#define COUNT( array )    ( sizeof( array ) / sizeof( ( array )[ 0 ] ) )

/* The good file system: the signer under any name, issuers under their "Issued To" names. */
static const Entry_t goodFs[] =
{
    { "dummy-trusted-cert", "signer2048.der", NULL, 0U },
    { "signer-int.der", "signer-int.der", NULL, 0U },
    { "dummy-trusted-ca-cert", "int.der", NULL, 0U },
    { "signer1024.der", "signer1024.der", NULL, 0U },
    { "signer4096.der", "signer4096.der", NULL, 0U },
    { "signer-ec.der", "signer-ec.der", NULL, 0U },
    { "signer-ecroot.der", "signer-ecroot.der", NULL, 0U },
    { "signer-int3.der", "signer-int3.der", NULL, 0U },
    { "signer-int4.der", "signer-int4.der", NULL, 0U },
    { "sl-int-2", "int2.der", NULL, 0U },
    { "sl-int-3", "int3.der", NULL, 0U },
    { "sl-int-4", "int4.der", NULL, 0U },
    { "signer.pem", "signer2048.pem", NULL, 0U },
    { "signer-impostor.der", "signer-impostor.der", NULL, 0U },
    { "signer-nocn.der", "signer-nocn.der", NULL, 0U },
    { "signer-unknown.der", "signer-unknown.der", NULL, 0U },
    { "signer-mismatch.der", "signer-mismatch.der", NULL, 0U },
    { "sl-mismatch-ca", "mismatch-file.der", NULL, 0U },
    { "signer-wrongkey.der", "signer-wrongkey.der", NULL, 0U },
    { "sl-wrongkey-ca", "wrongkey-file.der", NULL, 0U },
};

static void freshDevice( void )
{
    HIL_SlNwpInit( &nwp );
}

/* ---- 10: success ---- */

static void test_HIL_SlFsClose_AcceptsASha1CertificateIssuedByTheCatalogRoot( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    /* openssl agrees: the chain verifies and so does the signature. */
    CHECK( openSslSays( "verify-signer2048.txt", "ok" ) );
    CHECK( openSslSays( "sigverify-signer2048.txt", "ok" ) );
    CHECK( runClose( &close ) == 0 );
    CHECK( evidence.rootIndex == 0 );
    CHECK( evidence.chainLength == 2U );
    CHECK( strcmp( evidence.chain[ 0 ].subject, "CN=dummy-trusted-cert" ) == 0 );
    CHECK( strcmp( evidence.chain[ 0 ].file, "dummy-trusted-cert" ) == 0 );
    CHECK( strcmp( evidence.chain[ 1 ].subject, "CN=dummy-root-ca-cert" ) == 0 );
    CHECK( evidence.signerKeyBits == 2048U );
    CHECK( !evidence.securityAlert && ( nwp.securityAlerts == 0U ) );
}

static void test_HIL_SlFsClose_FollowsAnIssuerFileStoredUnderItsIssuedToName( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( openSslSays( "verify-signer-int.txt", "ok" ) );
    CHECK( runClose( &close ) == 0 );
    CHECK( evidence.chainLength == 3U );
    CHECK( strcmp( evidence.chain[ 1 ].file, "dummy-trusted-ca-cert" ) == 0 );
    CHECK( strcmp( evidence.chain[ 1 ].subject, "CN=dummy-trusted-ca-cert" ) == 0 );
    CHECK( evidence.rootIndex == 0 );
}

static void test_HIL_SlFsClose_IgnoresOneLeadingSlash( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "/signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == 0 );
}

static void test_HIL_SlFsClose_AcceptsAnRsa1024SignerAnd128ByteSignature( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer1024.der", "signer1024.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( openSslSays( "verify-signer1024.txt", "ok" ) );
    CHECK( runClose( &close ) == 0 );
    CHECK( evidence.signerKeyBits == 1024U );
}

static void test_HIL_SlFsClose_AcceptsThreeIssuerFiles( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-int3.der", "signer-int3.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( openSslSays( "verify-signer-int3.txt", "ok" ) );
    CHECK( runClose( &close ) == 0 );
    CHECK( evidence.chainLength == 5U );
}

static void test_HIL_SlFsClose_AcceptsAnEcdsaSignedCertificateUnderAnEcRoot( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-ecroot.der", "signer-ecroot.sig", NULL, 0U, false, true, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == 0 );
}

/* ---- 0: a locked device ---- */

static void test_HIL_SlFsClose_LockedDeviceChecksNothingAndCountsNothing( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    nwp.securityAlerts = 15U;
    CHECK( runClose( &close ) == -28674 );
    CHECK( nwp.securityAlerts == 15U );
    CHECK( fs.lookups == 0U );
    CHECK( evidence.locked );
}

/* ---- 1: the certificate name ---- */

static void test_HIL_SlFsClose_RefusesAnEmptyCertificateName( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10290 );
    CHECK( fs.lookups == 0U );
}

static void test_HIL_SlFsClose_RefusesACertificateNameOver180Bytes( void )
{
    char name[ 200 ];
    Close_t close = { goodFs, COUNT( goodFs ), name, "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    ( void ) memset( name, 'a', 181U );
    name[ 181 ] = '\0';
    CHECK( runClose( &close ) == -10290 );
    /* 180 bytes is a name: it is looked up, and there is no such file. */
    name[ 180 ] = '\0';
    CHECK( runClose( &close ) == -10372 );
}

/* ---- 2: the signature's length ---- */

static void test_HIL_SlFsClose_RefusesAnEmptySignature( void )
{
    static const uint8_t none[ 1 ] = { 0 };
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", NULL, none, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10290 );
}

static void test_HIL_SlFsClose_RefusesA512ByteSignatureFromAnRsa4096Signer( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer4096.der", "signer4096.sig", NULL, 0U, false, false, false, NULL };
    static uint8_t long257[ 257 ];
    const Close_t close257 = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", NULL, long257, sizeof( long257 ), false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10290 );
    CHECK( strstr( evidence.detail, "512 bytes" ) != NULL );
    CHECK( runClose( &close257 ) == -10290 );
    CHECK( nwp.securityAlerts == 0U );
}

/* ---- 3: the certificate file ---- */

static void test_HIL_SlFsClose_RefusesAMissingCertificateFile( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "no-such.der", "signer2048.sig", NULL, 0U, false, false, false, NULL };
    const Close_t climb = { goodFs, COUNT( goodFs ), "../dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10372 );
    CHECK( evidence.certFileLookedUp && ( evidence.certFileLookup == HilSlFileNotFound ) );
    CHECK( runClose( &climb ) == -10372 );
    CHECK( nwp.securityAlerts == 0U );
}

/* ---- 4: the catalog ---- */

static void test_HIL_SlFsClose_RefusesWithAnEmptyCatalog( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, true, NULL };
    const Close_t missing = { goodFs, COUNT( goodFs ), "no-such.der", "signer2048.sig", NULL, 0U, false, false, true, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10242 );
    /* The certificate file is looked for first. */
    CHECK( runClose( &missing ) == -10372 );
}

/* ---- 5: one DER certificate with an RSA key ---- */

static void test_HIL_SlFsClose_RefusesAPemCertificateFile( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer.pem", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
    CHECK( nwp.securityAlerts == 1U );
}

static void test_HIL_SlFsClose_RefusesTrailingBytesAndGarbage( void )
{
    static uint8_t trailing[ 4096 ];
    static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    size_t length = 0U;
    uint8_t * pDer = hilReadFile( fixture( "signer2048.der" ), &length, 0 );
    Entry_t entries[] = { { "trailing", NULL, trailing, 0U }, { "exact", NULL, trailing, 0U }, { "garbage", NULL, garbage, sizeof( garbage ) } };
    const Close_t withTrailing = { entries, COUNT( entries ), "trailing", "signer2048.sig", NULL, 0U, false, false, false, NULL };
    const Close_t exact = { entries, COUNT( entries ), "exact", "signer2048.sig", NULL, 0U, false, false, false, NULL };
    const Close_t junk = { entries, COUNT( entries ), "garbage", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    CHECK( ( pDer != NULL ) && ( length + 1U <= sizeof( trailing ) ) );

    if( ( pDer == NULL ) || ( length + 1U > sizeof( trailing ) ) )
    {
        free( pDer );
        return;
    }

    ( void ) memcpy( trailing, pDer, length );
    trailing[ length ] = 0x00U;
    entries[ 0 ].length = length + 1U;
    entries[ 1 ].length = length;
    free( pDer );

    freshDevice();
    CHECK( runClose( &withTrailing ) == -10292 );
    CHECK( runClose( &junk ) == -10292 );
    /* The same bytes without the extra one are the certificate. */
    CHECK( runClose( &exact ) == 0 );
}

static void test_HIL_SlFsClose_RefusesAnEcSigner( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-ec.der", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
    CHECK( strstr( evidence.detail, "EC key" ) != NULL );
}

/* ---- 6: the chain ---- */

static void test_HIL_SlFsClose_RefusesACatalogNameWithAnotherKey( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-impostor.der", "signer-impostor.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( openSslSays( "verify-signer-impostor.txt", "fail" ) );
    CHECK( runClose( &close ) == -10292 );
}

static void test_HIL_SlFsClose_RefusesAnIssuerWithoutCommonNameAsUnknownRoot( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-nocn.der", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10287 );
    CHECK( nwp.securityAlerts == 0U );
}

static void test_HIL_SlFsClose_RefusesAMissingIssuerFileAsUnknownRoot( void )
{
    const Entry_t entries[] = { { "signer-int.der", "signer-int.der", NULL, 0U } };
    const Close_t close = { entries, COUNT( entries ), "signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10287 );
    CHECK( strstr( evidence.detail, "dummy-trusted-ca-cert" ) != NULL );
}

static void test_HIL_SlFsClose_RefusesAnIssuerFileThatIsNotDer( void )
{
    const Entry_t entries[] = { { "signer-int.der", "signer-int.der", NULL, 0U }, { "dummy-trusted-ca-cert", "int.pem", NULL, 0U } };
    const Close_t close = { entries, COUNT( entries ), "signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
}

static void test_HIL_SlFsClose_RefusesAnIssuerFileWithAnotherSubject( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-mismatch.der", "signer-mismatch.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
    CHECK( strstr( evidence.detail, "subject" ) != NULL );
}

static void test_HIL_SlFsClose_RefusesAnIssuerFileWhoseKeyDoesNotVerify( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-wrongkey.der", "signer-wrongkey.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
    CHECK( strstr( evidence.detail, "does not verify" ) != NULL );
}

static void test_HIL_SlFsClose_RefusesASelfSignedRootOutsideTheCatalog( void )
{
    const Entry_t entries[] = { { "signer-unknown.der", "signer-unknown.der", NULL, 0U }, { "unknown-root-ca", "unknown-root.der", NULL, 0U } };
    const Close_t stored = { entries, COUNT( entries ), "signer-unknown.der", "signer-unknown.sig", NULL, 0U, false, false, false, NULL };
    const Close_t notStored = { entries, 1U, "signer-unknown.der", "signer-unknown.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( openSslSays( "verify-signer-unknown.txt", "fail" ) );
    CHECK( runClose( &stored ) == -10287 );
    CHECK( runClose( &notStored ) == -10287 );
    CHECK( nwp.securityAlerts == 0U );
}

static void test_HIL_SlFsClose_RefusesMoreThanThreeIssuerFiles( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "signer-int4.der", "signer-int4.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10292 );
    CHECK( evidence.chainLength == 5U );
}

/* ---- 7: revocation ---- */

static void test_HIL_SlFsClose_RefusesARevokedSignerIssuerOrRoot( void )
{
    const Close_t signer = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, "revoked-signer2048-sha1.txt" };
    const Close_t signer256 = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, "revoked-signer2048-sha256.txt" };
    const Close_t issuer = { goodFs, COUNT( goodFs ), "signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, "revoked-int-sha256.txt" };
    const Close_t root = { goodFs, COUNT( goodFs ), "signer-int.der", "signer-int.sig", NULL, 0U, false, false, false, "revoked-root-sha1.txt" };
    const Close_t other = { goodFs, COUNT( goodFs ), "signer1024.der", "signer1024.sig", NULL, 0U, false, false, false, "revoked-int-sha1.txt" };

    freshDevice();
    CHECK( runClose( &signer ) == -10273 );
    CHECK( runClose( &signer256 ) == -10273 );
    CHECK( runClose( &issuer ) == -10273 );
    CHECK( strstr( evidence.detail, "issuer file 'dummy-trusted-ca-cert'" ) != NULL );
    CHECK( runClose( &root ) == -10273 );
    CHECK( strstr( evidence.detail, "catalog root" ) != NULL );
    /* A revoked certificate outside the chain changes nothing. */
    CHECK( runClose( &other ) == 0 );
    CHECK( nwp.securityAlerts == 4U );
}

/* ---- 8: the signature's length against the key ---- */

static void test_HIL_SlFsClose_RefusesASignatureShorterThanTheKey( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer1024.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10363 );
    CHECK( nwp.securityAlerts == 0U );
}

/* ---- 9: the signature ---- */

static void test_HIL_SlFsClose_RefusesATamperedFile( void )
{
    const Close_t close = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, true, false, false, NULL };

    freshDevice();
    CHECK( runClose( &close ) == -10289 );
    CHECK( evidence.securityAlert && ( nwp.securityAlerts == 1U ) );
}

/* ---- the lock ---- */

static void test_HIL_SlFsClose_LocksTheDeviceAtTheFifteenthAlert( void )
{
    const Close_t bad = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, true, false, false, NULL };
    const Close_t good = { goodFs, COUNT( goodFs ), "dummy-trusted-cert", "signer2048.sig", NULL, 0U, false, false, false, NULL };
    unsigned i;

    freshDevice();
    CHECK( nwp.alertThreshold == 15U );

    for( i = 1U; i <= 14U; i++ )
    {
        CHECK( runClose( &bad ) == -10289 );
        CHECK( !evidence.locked );
    }

    /* The fifteenth returns its own code and locks the device. */
    CHECK( runClose( &bad ) == -10289 );
    CHECK( evidence.locked && ( nwp.securityAlerts == 15U ) );
    CHECK( runClose( &good ) == -28674 );
    CHECK( runClose( &bad ) == -28674 );
    CHECK( nwp.securityAlerts == 15U );
    /* A return to factory clears the count. */
    freshDevice();
    CHECK( runClose( &good ) == 0 );
}

static void test_HIL_SlFsClose_LocksAtAThresholdTheCallerSets( void )
{
    const Close_t bad = { goodFs, COUNT( goodFs ), "signer.pem", "signer2048.sig", NULL, 0U, false, false, false, NULL };
    const Close_t notAnAlert = { goodFs, COUNT( goodFs ), "no-such.der", "signer2048.sig", NULL, 0U, false, false, false, NULL };

    freshDevice();
    nwp.alertThreshold = 2U;
    CHECK( runClose( &notAnAlert ) == -10372 );
    CHECK( runClose( &bad ) == -10292 );
    CHECK( runClose( &notAnAlert ) == -10372 );
    CHECK( runClose( &bad ) == -10292 );
    CHECK( runClose( &notAnAlert ) == -28674 );
}

/* ---- names, the PAL mapping, revoked.txt ---- */

static void test_HIL_SlPalStatusForClose_MapsTheTenCodesToSignatureCheckFailed( void )
{
    static const int32_t ten[] = { -10289, -10290, -10273, -10274, -10287, -10292, -10341, -10363, -10372, -10242 };
    size_t i;

    for( i = 0U; i < COUNT( ten ); i++ )
    {
        const HilPalStatus_t status = HIL_SlPalStatusForClose( ten[ i ] );

        CHECK( HIL_PAL_MAIN( status ) == 0xE3U );
        CHECK( HIL_PAL_SUB( status ) == ( ( uint32_t ) ten[ i ] & 0xFFFFFFU ) );
    }

    /* The reference document's hex: -10289 is 0xFFFFD7CF, so 0xE3FFD7CF. */
    CHECK( HIL_SlPalStatusForClose( -10289 ) == 0xE3FFD7CFU );
    CHECK( HIL_SlPalStatusForClose( -10372 ) == 0xE3FFD77CU );
    CHECK( HIL_SlPalStatusForClose( 0 ) == 0U );
    /* Anything else is FileClose: the lock, an unknown code. */
    CHECK( HIL_SlPalStatusForClose( -28674 ) == 0xEEFF8FFEU );
    CHECK( HIL_SlPalStatusForClose( -10310 ) == ( 0xEE000000U | ( ( uint32_t ) -10310 & 0xFFFFFFU ) ) );
    CHECK( HIL_PAL_MAIN( HIL_SlPalStatusForClose( 1 ) ) == 0xEEU );
}

static void test_HIL_SlErrorName_NamesTheCodesAsErrorsH( void )
{
    CHECK( strcmp( HIL_SlErrorName( -10287 ), "SL_ERROR_FS_ROOT_CA_IS_UNKOWN" ) == 0 );
    CHECK( strcmp( HIL_SlErrorName( -10290 ), "SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH" ) == 0 );
    CHECK( strcmp( HIL_SlErrorName( -28674 ), "SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT" ) == 0 );
    CHECK( strcmp( HIL_SlErrorName( 0 ), "SL_RET_CODE_OK" ) == 0 );
    CHECK( strcmp( HIL_SlErrorName( -1 ), "SL_ERROR_UNKNOWN" ) == 0 );
    CHECK( HIL_SlIsSecurityAlert( -10289 ) && HIL_SlIsSecurityAlert( -10292 ) && HIL_SlIsSecurityAlert( -10273 ) );
    CHECK( !HIL_SlIsSecurityAlert( -10287 ) && !HIL_SlIsSecurityAlert( -28674 ) && !HIL_SlIsSecurityAlert( -10290 ) );
}

static void test_HIL_SlParseRevocationList_ReadsHexWithColonsAndComments( void )
{
    static const char text[] =
        "# revoked\n"
        "\n"
        "  AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01  # a SHA-1\r\n"
        "e6804ded0ebdda6865746d1530abf94bf1733342f83e967ef7178a32b5a340af\n";
    static const char bad[] = "abcd\n";
    static const char split[] = "abcdef0123456789abcdef0123456789ab cdef01\n";
    HilSlFingerprint_t fingerprints[ 2 ];
    size_t count = 0U;

    CHECK( HIL_SlParseRevocationList( text, strlen( text ), fingerprints, 2U, &count ) == 0U );
    CHECK( count == 2U );
    CHECK( ( fingerprints[ 0 ].length == 20U ) && ( fingerprints[ 0 ].bytes[ 0 ] == 0xABU ) && ( fingerprints[ 0 ].bytes[ 19 ] == 0x01U ) );
    CHECK( ( fingerprints[ 1 ].length == 32U ) && ( fingerprints[ 1 ].bytes[ 0 ] == 0xE6U ) && ( fingerprints[ 1 ].bytes[ 31 ] == 0xAFU ) );
    CHECK( HIL_SlParseRevocationList( bad, strlen( bad ), NULL, 0U, &count ) == 1U );
    CHECK( HIL_SlParseRevocationList( split, strlen( split ), NULL, 0U, &count ) == 1U );
}

/* ---- the agent through the CC3220SF POSIX port ---- */

static char transcript[ 1 << 15 ];
static size_t transcriptLength;
static char lastStatus[ 256 ];

static void onLog( void * pContext,
                   HilLogLevel_t level,
                   const char * pLine )
{
    const int n = snprintf( &transcript[ transcriptLength ], sizeof( transcript ) - transcriptLength, "[%s] %s\n",
                            HIL_LogLevelName( level ), pLine );

    ( void ) pContext;

    if( n > 0 )
    {
        transcriptLength += ( size_t ) n;
    }
}

static void onStatus( void * pContext,
                      const char * pJobId,
                      const char * pJson )
{
    ( void ) pContext;
    ( void ) pJobId;
    ( void ) snprintf( lastStatus, sizeof( lastStatus ), "%s", pJson );
}

static size_t base64( const uint8_t * pIn,
                      size_t length,
                      char * pOut )
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0U;
    size_t i;

    for( i = 0U; i < length; i += 3U )
    {
        const uint32_t a = pIn[ i ];
        const uint32_t b = ( i + 1U < length ) ? pIn[ i + 1U ] : 0U;
        const uint32_t c = ( i + 2U < length ) ? pIn[ i + 2U ] : 0U;
        const uint32_t word = ( a << 16 ) | ( b << 8 ) | c;

        pOut[ o++ ] = alphabet[ ( word >> 18 ) & 63U ];
        pOut[ o++ ] = alphabet[ ( word >> 12 ) & 63U ];
        pOut[ o++ ] = ( i + 1U < length ) ? alphabet[ ( word >> 6 ) & 63U ] : '=';
        pOut[ o++ ] = ( i + 2U < length ) ? alphabet[ word & 63U ] : '=';
    }

    pOut[ o ] = '\0';
    return o;
}

static HilCc3220Port_t cc3220;
static HilOtaContext_t otaContext;
static HilOtaResult_t otaResult;

static HilOtaOutcome_t runAgent( const char * image,
                                 uint32_t fileSize,
                                 const char * certFile,
                                 const char * signatureFile )
{
    static char json[ 4096 ];
    char encoded[ 1024 ];
    char imagePath[ 1024 ];
    size_t signatureLength = 0U;
    uint8_t * pSignature;
    HilPal_t pal;
    HilOtaOutcome_t outcome;

    pSignature = hilReadFile( fixture( signatureFile ), &signatureLength, 0 );
    CHECK( ( pSignature != NULL ) && ( signatureLength <= 700U ) );

    if( ( pSignature == NULL ) || ( signatureLength > 700U ) )
    {
        free( pSignature );
        return HilOtaInputError;
    }

    ( void ) base64( pSignature, signatureLength, encoded );
    free( pSignature );
    ( void ) snprintf( json, sizeof( json ),
                       "{\"clientToken\":\"0:otarig-hil\",\"timestamp\":1700000000,\"execution\":{\"jobId\":\"AFR_OTA-cc3220\","
                       "\"status\":\"QUEUED\",\"jobDocument\":{\"afr_ota\":{\"protocols\":[\"MQTT\"],\"streamname\":\"AFR_OTA-s\","
                       "\"files\":[{\"filepath\":\"/sys/mcuflashimg.bin\",\"filesize\":%u,\"fileid\":0,\"certfile\":\"%s\","
                       "\"sig-sha1-rsa\":\"%s\"}]}}}}",
                       ( unsigned ) fileSize, certFile, encoded );

    transcriptLength = 0U;
    transcript[ 0 ] = '\0';
    lastStatus[ 0 ] = '\0';
    ( void ) memset( &cc3220, 0, sizeof( cc3220 ) );
    ( void ) snprintf( imagePath, sizeof( imagePath ), "%s", image );
    ( void ) snprintf( path, sizeof( path ), "%s/simplelink/catalog", fixtures );
    {
        char fileSystem[ 1024 ];

        ( void ) snprintf( fileSystem, sizeof( fileSystem ), "%s/simplelink", fixtures );

        if( HIL_Cc3220PortOpen( &cc3220, imagePath, fileSystem, path ) != 0 )
        {
            fprintf( stderr, "  port: %s\n", cc3220.posix.error );
            HIL_Cc3220PortClose( &cc3220 );
            CHECK( 0 );
            return HilOtaInputError;
        }
    }

    cc3220.posix.log = onLog;
    cc3220.posix.publishStatus = onStatus;
    HIL_Cc3220PortBind( &cc3220, &pal );
    HIL_OtaInit( &otaContext );
    outcome = HIL_OtaProcessJob( &otaContext, &pal, json, strlen( json ), "sig-sha1-rsa", &otaResult );
    HIL_Cc3220PortClose( &cc3220 );
    return outcome;
}

static int logged( const char * line )
{
    return strstr( transcript, line ) != NULL;
}

static void test_HIL_OtaProcessJob_Cc3220AcceptsThroughTheNetworkProcessor( void )
{
    char image[ 1024 ];

    ( void ) snprintf( image, sizeof( image ), "%s/payload.bin", fixtures );
    CHECK( runAgent( image, ( uint32_t ) payloadLength, "signer2048.der", "signer2048.sig" ) == HilOtaAccepted );
    CHECK( cc3220.closed && ( cc3220.evidence.code == 0 ) );
    CHECK( logged( "[INFO] Receive file created. Token: 1952007250\n" ) );
    CHECK( logged( "[INFO] Received final block of the update.\n[INFO] Authenticating and closing file.\n"
                   "[INFO] Received entire update and validated the signature.\n" ) );
    CHECK( strcmp( lastStatus, "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"ready\",\"updatedBy\":\"0x00000000\"}}" ) == 0 );
}

static void test_HIL_OtaProcessJob_Cc3220ReportsTheSimpleLinkCodeAsPalSub( void )
{
    char image[ 1024 ];

    ( void ) snprintf( image, sizeof( image ), "%s/payload.bin", fixtures );
    /* The RSA-2048 certificate with the RSA-1024 signature: ILLEGAL_SIGNATURE. */
    CHECK( runAgent( image, ( uint32_t ) payloadLength, "signer2048.der", "signer1024.sig" ) == HilOtaRejectedSignature );
    CHECK( cc3220.evidence.code == -10363 );
    CHECK( otaResult.palStatus == 0xE3FFD785U );
    CHECK( logged( "[INFO] Authenticating and closing file.\n"
                   "[ERROR] Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3ffd785)\n" ) );
    CHECK( logged( "[WARN] Image was rejected and bundle files rolled back.\n" ) );
    CHECK( strcmp( lastStatus, "{\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x000000e3: 0x00ffd785\"}}" ) == 0 );
}

static void test_HIL_OtaProcessJob_Cc3220RefusesAFileOver512KiBAtCreate( void )
{
    static uint8_t big[ 512U * 1024U + 1U ];
    char image[ 1024 ];
    FILE * file;

    ( void ) snprintf( image, sizeof( image ), "%s/simplelink-big.bin", fixtures );
    file = fopen( image, "wb" );
    CHECK( file != NULL );

    if( file == NULL )
    {
        return;
    }

    CHECK( fwrite( big, 1U, sizeof( big ), file ) == sizeof( big ) );
    ( void ) fclose( file );

    CHECK( runAgent( image, ( uint32_t ) sizeof( big ), "signer2048.der", "signer2048.sig" ) == HilOtaRejectedFileCreate );
    CHECK( otaResult.palStatus == 0xE5080000U );
    CHECK( otaResult.otaErr == HilOtaErrJobParserError );
    CHECK( otaResult.bytesReceived == 0U );
    CHECK( !cc3220.closed );
    CHECK( logged( "[ERROR] Error (-10310) trying to create receive file.\n[WARN] Agent aborted and bundle files rolled back.\n" ) );
    CHECK( !logged( "Setting OTA data interface." ) );
    CHECK( strcmp( lastStatus, "{\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"aborted: 0xe5080000\"}}" ) == 0 );
    CHECK( strcmp( HIL_OtaOutcomeName( HilOtaRejectedFileCreate ), "rejected-file-create" ) == 0 );
    /* Exactly 512 KiB is created. */
    CHECK( runAgent( image, 512U * 1024U, "signer2048.der", "signer2048.sig" ) != HilOtaRejectedFileCreate );
    ( void ) remove( image );
}

int main( int argc,
          char ** argv )
{
    size_t length = 0U;
    uint8_t * pPayload;
    HilSlFingerprint_t * pRevoked = NULL;
    size_t revokedCount = 0U;
    char error[ 512 ];
    char catalogDir[ 1024 ];

    if( argc > 1 )
    {
        fixtures = argv[ 1 ];
    }

    pPayload = hilReadFile( ( snprintf( path, sizeof( path ), "%s/payload.bin", fixtures ), path ), &length, 0 );

    if( ( pPayload == NULL ) || ( length > sizeof( payload ) ) )
    {
        fprintf( stderr, "test_hil_simplelink: no fixtures in %s (run test/make_fixtures.sh)\n", fixtures );
        free( pPayload );
        return 1;
    }

    ( void ) memcpy( payload, pPayload, length );
    payloadLength = length;
    free( pPayload );

    /* The catalogs, read by the port's loader: the RSA root as PEM, the EC root as DER. */
    ( void ) snprintf( catalogDir, sizeof( catalogDir ), "%s/simplelink/catalog", fixtures );

    if( HIL_Cc3220LoadCatalog( catalogDir, &pRoots, &rootCount, &pRevoked, &revokedCount, error, sizeof( error ) ) != 0 )
    {
        fprintf( stderr, "test_hil_simplelink: %s\n", error );
        return 1;
    }

    HIL_Cc3220FreeCatalog( NULL, 0U, pRevoked );
    ( void ) snprintf( catalogDir, sizeof( catalogDir ), "%s/simplelink/catalog-ec", fixtures );

    if( HIL_Cc3220LoadCatalog( catalogDir, &pEcRoots, &ecRootCount, &pRevoked, &revokedCount, error, sizeof( error ) ) != 0 )
    {
        fprintf( stderr, "test_hil_simplelink: %s\n", error );
        return 1;
    }

    HIL_Cc3220FreeCatalog( NULL, 0U, pRevoked );

    RUN( test_HIL_SlFsClose_AcceptsASha1CertificateIssuedByTheCatalogRoot );
    RUN( test_HIL_SlFsClose_FollowsAnIssuerFileStoredUnderItsIssuedToName );
    RUN( test_HIL_SlFsClose_IgnoresOneLeadingSlash );
    RUN( test_HIL_SlFsClose_AcceptsAnRsa1024SignerAnd128ByteSignature );
    RUN( test_HIL_SlFsClose_AcceptsThreeIssuerFiles );
    RUN( test_HIL_SlFsClose_AcceptsAnEcdsaSignedCertificateUnderAnEcRoot );
    RUN( test_HIL_SlFsClose_LockedDeviceChecksNothingAndCountsNothing );
    RUN( test_HIL_SlFsClose_RefusesAnEmptyCertificateName );
    RUN( test_HIL_SlFsClose_RefusesACertificateNameOver180Bytes );
    RUN( test_HIL_SlFsClose_RefusesAnEmptySignature );
    RUN( test_HIL_SlFsClose_RefusesA512ByteSignatureFromAnRsa4096Signer );
    RUN( test_HIL_SlFsClose_RefusesAMissingCertificateFile );
    RUN( test_HIL_SlFsClose_RefusesWithAnEmptyCatalog );
    RUN( test_HIL_SlFsClose_RefusesAPemCertificateFile );
    RUN( test_HIL_SlFsClose_RefusesTrailingBytesAndGarbage );
    RUN( test_HIL_SlFsClose_RefusesAnEcSigner );
    RUN( test_HIL_SlFsClose_RefusesACatalogNameWithAnotherKey );
    RUN( test_HIL_SlFsClose_RefusesAnIssuerWithoutCommonNameAsUnknownRoot );
    RUN( test_HIL_SlFsClose_RefusesAMissingIssuerFileAsUnknownRoot );
    RUN( test_HIL_SlFsClose_RefusesAnIssuerFileThatIsNotDer );
    RUN( test_HIL_SlFsClose_RefusesAnIssuerFileWithAnotherSubject );
    RUN( test_HIL_SlFsClose_RefusesAnIssuerFileWhoseKeyDoesNotVerify );
    RUN( test_HIL_SlFsClose_RefusesASelfSignedRootOutsideTheCatalog );
    RUN( test_HIL_SlFsClose_RefusesMoreThanThreeIssuerFiles );
    RUN( test_HIL_SlFsClose_RefusesARevokedSignerIssuerOrRoot );
    RUN( test_HIL_SlFsClose_RefusesASignatureShorterThanTheKey );
    RUN( test_HIL_SlFsClose_RefusesATamperedFile );
    RUN( test_HIL_SlFsClose_LocksTheDeviceAtTheFifteenthAlert );
    RUN( test_HIL_SlFsClose_LocksAtAThresholdTheCallerSets );
    RUN( test_HIL_SlPalStatusForClose_MapsTheTenCodesToSignatureCheckFailed );
    RUN( test_HIL_SlErrorName_NamesTheCodesAsErrorsH );
    RUN( test_HIL_SlParseRevocationList_ReadsHexWithColonsAndComments );
    RUN( test_HIL_OtaProcessJob_Cc3220AcceptsThroughTheNetworkProcessor );
    RUN( test_HIL_OtaProcessJob_Cc3220ReportsTheSimpleLinkCodeAsPalSub );
    RUN( test_HIL_OtaProcessJob_Cc3220RefusesAFileOver512KiBAtCreate );

    HIL_Cc3220FreeCatalog( pRoots, rootCount, NULL );
    HIL_Cc3220FreeCatalog( pEcRoots, ecRootCount, NULL );
    return hilTestSummary( "hil_simplelink" );
}
