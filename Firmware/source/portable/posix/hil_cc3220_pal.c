/*
 * The POSIX port of the CC3220SF OTA PAL; see hil_cc3220_pal.h. The log texts are those of the FreeRTOS CC3220SF
 * PAL (aws/amazon-freertos vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c @0ab20c43:
 * otaPal_CreateFileForRx, otaPal_CloseFile, otaPal_SetPlatformImageState); the code is ours.
 */
#define _POSIX_C_SOURCE 200809L

#include "hil_cc3220_pal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mbedtls/x509_crt.h"

/* ---- the file system: a directory ---- */

HilSlLookup_t HIL_Cc3220DirectoryLookup( void * pContext,
                                         const char * pName,
                                         uint8_t * pBuffer,
                                         size_t capacity,
                                         size_t * pLength )
{
    const char * pDirectory = pContext;
    char path[ 1024 + HIL_SL_MAX_FILE_NAME_LENGTH + 2U ];
    struct stat info;
    FILE * file;
    size_t length;
    int extra;

    *pLength = 0U;

    if( ( pDirectory == NULL ) ||
        ( ( size_t ) snprintf( path, sizeof( path ), "%s/%s", pDirectory, pName ) >= sizeof( path ) ) ||
        ( stat( path, &info ) != 0 ) || !S_ISREG( info.st_mode ) )
    {
        return HilSlFileNotFound;
    }

    file = fopen( path, "rb" );

    if( file == NULL )
    {
        return HilSlFileNotFound;
    }

    length = ( capacity > 0U ) ? fread( pBuffer, 1U, capacity, file ) : 0U;
    extra = fgetc( file );
    ( void ) fclose( file );

    if( extra != EOF )
    {
        return HilSlFileTooLarge;
    }

    *pLength = length;
    return HilSlFileFound;
}

/* ---- the catalog: a directory of roots and revoked.txt ---- */

static void setError( char * pError,
                      size_t capacity,
                      const char * pFormat,
                      ... )
{
    va_list args;

    if( ( pError != NULL ) && ( capacity > 0U ) )
    {
        va_start( args, pFormat );
        ( void ) vsnprintf( pError, capacity, pFormat, args );
        va_end( args );
    }
}

/* The whole file, with a NUL after it (not counted). NULL when it cannot be read. */
static uint8_t * readWholeFile( const char * pPath,
                                size_t * pLength )
{
    FILE * file = fopen( pPath, "rb" );
    uint8_t * pData = NULL;
    size_t used = 0U;
    size_t capacity = 0U;

    if( file == NULL )
    {
        return NULL;
    }

    for( ; ; )
    {
        size_t got;

        if( used + 1U >= capacity )
        {
            const size_t grown = ( capacity == 0U ) ? 4096U : capacity * 2U;
            uint8_t * pGrown = realloc( pData, grown );

            if( pGrown == NULL )
            {
                free( pData );
                ( void ) fclose( file );
                return NULL;
            }

            pData = pGrown;
            capacity = grown;
        }

        got = fread( &pData[ used ], 1U, capacity - used - 1U, file );
        used += got;

        if( got == 0U )
        {
            break;
        }
    }

    if( ferror( file ) )
    {
        free( pData );
        ( void ) fclose( file );
        return NULL;
    }

    ( void ) fclose( file );
    pData[ used ] = 0U;
    *pLength = used;
    return pData;
}

static int compareNames( const void * pA,
                         const void * pB )
{
    return strcmp( *( const char * const * ) pA, *( const char * const * ) pB );
}

/* Adds every certificate of one catalog file to the roots. Returns 0 or -1 with pError set. */
static int addRootFile( const char * pPath,
                        const uint8_t * pData,
                        size_t length,
                        HilSlBuffer_t ** ppRoots,
                        size_t * pRootCount,
                        char * pError,
                        size_t errorCapacity )
{
    mbedtls_x509_crt chain;
    const mbedtls_x509_crt * pCert;
    int parsed;
    int status = 0;

    mbedtls_x509_crt_init( &chain );

    /* PEM: mbedtls_x509_crt_parse wants its NUL counted (readWholeFile put one after the bytes). */
    parsed = HIL_PosixLooksLikePem( pData, length ) ? mbedtls_x509_crt_parse( &chain, pData, length + 1U )
                                           : mbedtls_x509_crt_parse_der( &chain, pData, length );

    if( ( parsed != 0 ) || ( chain.raw.p == NULL ) )
    {
        setError( pError, errorCapacity, "%s: not a certificate (PEM or DER); the root catalog holds root certificates and revoked.txt", pPath );
        mbedtls_x509_crt_free( &chain );
        return -1;
    }

    for( pCert = &chain; ( pCert != NULL ) && ( pCert->raw.p != NULL ); pCert = pCert->next )
    {
        HilSlBuffer_t * pGrown = realloc( *ppRoots, ( *pRootCount + 1U ) * sizeof( HilSlBuffer_t ) );
        uint8_t * pCopy = malloc( pCert->raw.len );

        if( pGrown != NULL )
        {
            *ppRoots = pGrown;
        }

        if( ( pGrown == NULL ) || ( pCopy == NULL ) )
        {
            free( pCopy );
            setError( pError, errorCapacity, "%s: out of memory", pPath );
            status = -1;
            break;
        }

        ( void ) memcpy( pCopy, pCert->raw.p, pCert->raw.len );
        ( *ppRoots )[ *pRootCount ].pData = pCopy;
        ( *ppRoots )[ *pRootCount ].length = pCert->raw.len;
        ( *pRootCount )++;
    }

    mbedtls_x509_crt_free( &chain );
    return status;
}

void HIL_Cc3220FreeCatalog( HilSlBuffer_t * pRoots,
                            size_t rootCount,
                            HilSlFingerprint_t * pRevoked )
{
    size_t i;

    for( i = 0U; ( pRoots != NULL ) && ( i < rootCount ); i++ )
    {
        free( ( void * ) ( uintptr_t ) pRoots[ i ].pData );
    }

    free( pRoots );
    free( pRevoked );
}

int HIL_Cc3220LoadCatalog( const char * pCatalogDir,
                           HilSlBuffer_t ** ppRoots,
                           size_t * pRootCount,
                           HilSlFingerprint_t ** ppRevoked,
                           size_t * pRevokedCount,
                           char * pError,
                           size_t errorCapacity )
{
    DIR * pDir;
    struct dirent * pEntry;
    char ** ppNames = NULL;
    size_t nameCount = 0U;
    size_t i;
    int status = 0;

    *ppRoots = NULL;
    *pRootCount = 0U;
    *ppRevoked = NULL;
    *pRevokedCount = 0U;
    pDir = opendir( pCatalogDir );

    if( pDir == NULL )
    {
        setError( pError, errorCapacity, "%s: %s; pass the directory holding the trusted root certificates", pCatalogDir, strerror( errno ) );
        return -1;
    }

    /* Sorted names, so root indices do not depend on the directory's order. */
    while( ( pEntry = readdir( pDir ) ) != NULL )
    {
        char ** ppGrown;
        char * pName;

        if( ( strcmp( pEntry->d_name, "." ) == 0 ) || ( strcmp( pEntry->d_name, ".." ) == 0 ) )
        {
            continue;
        }

        ppGrown = realloc( ppNames, ( nameCount + 1U ) * sizeof( char * ) );
        pName = strdup( pEntry->d_name );

        if( ppGrown != NULL )
        {
            ppNames = ppGrown;
        }

        if( ( ppGrown == NULL ) || ( pName == NULL ) )
        {
            free( pName );
            setError( pError, errorCapacity, "%s: out of memory", pCatalogDir );
            status = -1;
            break;
        }

        ppNames[ nameCount++ ] = pName;
    }

    ( void ) closedir( pDir );

    if( ( status == 0 ) && ( nameCount > 1U ) )
    {
        qsort( ppNames, nameCount, sizeof( char * ), compareNames );
    }

    for( i = 0U; ( status == 0 ) && ( i < nameCount ); i++ )
    {
        char path[ 2048 ];
        struct stat info;
        uint8_t * pData;
        size_t length = 0U;

        if( ( size_t ) snprintf( path, sizeof( path ), "%s/%s", pCatalogDir, ppNames[ i ] ) >= sizeof( path ) )
        {
            setError( pError, errorCapacity, "%s/%s: path too long", pCatalogDir, ppNames[ i ] );
            status = -1;
            break;
        }

        if( ( stat( path, &info ) != 0 ) || !S_ISREG( info.st_mode ) )
        {
            continue;
        }

        pData = readWholeFile( path, &length );

        if( pData == NULL )
        {
            setError( pError, errorCapacity, "%s: cannot read it", path );
            status = -1;
            break;
        }

        if( strcmp( ppNames[ i ], "revoked.txt" ) == 0 )
        {
            size_t count = 0U;
            size_t badLine = HIL_SlParseRevocationList( ( const char * ) pData, length, NULL, 0U, &count );

            if( badLine != 0U )
            {
                setError( pError, errorCapacity, "%s line %u: not a SHA-1 or SHA-256 fingerprint (hex, colons allowed, # comments)",
                          path, ( unsigned ) badLine );
                status = -1;
            }
            else if( count > 0U )
            {
                *ppRevoked = calloc( count, sizeof( HilSlFingerprint_t ) );

                if( *ppRevoked == NULL )
                {
                    setError( pError, errorCapacity, "%s: out of memory", path );
                    status = -1;
                }
                else
                {
                    ( void ) HIL_SlParseRevocationList( ( const char * ) pData, length, *ppRevoked, count, pRevokedCount );
                }
            }
        }
        else
        {
            status = addRootFile( path, pData, length, ppRoots, pRootCount, pError, errorCapacity );
        }

        free( pData );
    }

    for( i = 0U; i < nameCount; i++ )
    {
        free( ppNames[ i ] );
    }

    free( ppNames );

    if( status != 0 )
    {
        HIL_Cc3220FreeCatalog( *ppRoots, *pRootCount, *ppRevoked );
        *ppRoots = NULL;
        *pRootCount = 0U;
        *ppRevoked = NULL;
        *pRevokedCount = 0U;
    }

    return status;
}

/* ---- the PAL ---- */

static void palLog( HilCc3220Port_t * pPort,
                    HilLogLevel_t level,
                    const char * pFormat,
                    ... ) HIL_PRINTF_LIKE( 3, 4 );

static void palLog( HilCc3220Port_t * pPort,
                    HilLogLevel_t level,
                    const char * pFormat,
                    ... )
{
    char line[ hilconfigLOG_LINE_SIZE ];
    va_list args;

    if( pPort->posix.log == NULL )
    {
        return;
    }

    va_start( args, pFormat );
    ( void ) vsnprintf( line, sizeof( line ), pFormat, args );
    va_end( args );
    pPort->posix.log( pPort->posix.pCallbackContext, level, line );
}

/* otaPal_CreateFileForRx: a file over OTA_MAX_MCU_IMAGE_SIZE is refused before anything is created. */
static HilPalStatus_t createFile( void * pContext,
                                  uint32_t fileSize,
                                  uint32_t fileType )
{
    HilCc3220Port_t * pPort = pContext;

    ( void ) fileType;

    if( fileSize > HIL_SL_MAX_MCU_IMAGE_SIZE )
    {
        palLog( pPort, HilLogError, "Error (%d) trying to create receive file.", HIL_SL_ERROR_FS_FILE_MAX_SIZE_EXCEEDED );
        return HIL_PAL_COMBINE( HilPalRxFileTooLarge, HIL_SL_MAX_MCU_IMAGE_SIZE );
    }

    palLog( pPort, HilLogInfo, "Receive file created. Token: %u", ( unsigned ) HIL_SL_OTA_VENDOR_TOKEN );
    return HIL_PAL_COMBINE( HilPalSuccess, 0U );
}

/* SHA-1 of the bytes written to the file: [0, fileSize) of the image. */
static bool hashReceivedFile( HilCc3220Port_t * pPort,
                              uint32_t fileSize,
                              uint8_t * pDigest )
{
    HilHasher_t hasher;
    uint8_t block[ 4096 ];
    uint32_t done = 0U;

    HIL_HashStart( &hasher, HilHashSha1 );

    if( fseeko( pPort->posix.pImage, 0, SEEK_SET ) != 0 )
    {
        return false;
    }

    while( done < fileSize )
    {
        const size_t want = ( ( fileSize - done ) < sizeof( block ) ) ? ( size_t ) ( fileSize - done ) : sizeof( block );
        const size_t got = fread( block, 1U, want, pPort->posix.pImage );

        if( got != want )
        {
            return false;
        }

        HIL_HashUpdate( &hasher, block, got );
        done += ( uint32_t ) got;
    }

    HIL_HashFinish( &hasher, pDigest );
    return true;
}

/* otaPal_CloseFile: sl_FsClose authenticates the file; its code maps to the PAL status. */
static HilPalStatus_t closeFile( void * pContext,
                                 uint32_t fileSize,
                                 const char * pCertFile,
                                 const uint8_t * pSignature,
                                 size_t signatureLength,
                                 HilCryptoResult_t * pCryptoResult )
{
    HilCc3220Port_t * pPort = pContext;
    HilSlFileSystem_t fileSystem = { pPort->fileSystemDir, HIL_Cc3220DirectoryLookup };
    HilSlClose_t request;
    int32_t code;

    palLog( pPort, HilLogInfo, "Authenticating and closing file." );

    ( void ) memset( &request, 0, sizeof( request ) );
    request.pCertName = pCertFile;
    request.pSignature = pSignature;
    request.signatureLength = signatureLength;

    if( !hashReceivedFile( pPort, fileSize, request.fileSha1 ) )
    {
        /* A host problem: the image could not be read back. */
        *pCryptoResult = HilCryptoBadInput;
        return HIL_PAL_COMBINE( HilPalFileClose, 0U );
    }

    code = HIL_SlFsClose( &pPort->nwp, &fileSystem, &pPort->catalog, &request, &pPort->workspace, &pPort->evidence );
    pPort->closed = true;

    switch( code )
    {
        case HIL_SL_RET_CODE_OK:
            *pCryptoResult = HilCryptoValid;
            break;

        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT:
            *pCryptoResult = HilCryptoInvalidSignature;
            break;

        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH:
        case HIL_SL_ERROR_FS_ILLEGAL_SIGNATURE:
            *pCryptoResult = HilCryptoBadInput;
            break;

        default:
            *pCryptoResult = HilCryptoBadCertificate;
            break;
    }

    return HIL_SlPalStatusForClose( code );
}

/* otaPal_SetPlatformImageState: Rejected and Aborted roll the bundle back (it succeeds here), and say so. */
static HilPalStatus_t setImageState( void * pContext,
                                     HilImageState_t state )
{
    HilCc3220Port_t * pPort = pContext;
    const HilPalStatus_t status = pPort->posixSetImageState( pContext, state );

    if( HIL_PAL_MAIN( status ) == ( uint32_t ) HilPalSuccess )
    {
        if( state == HilImageStateAccepted )
        {
            palLog( pPort, HilLogInfo, "Accepted and committed final image." );
        }
        else if( state == HilImageStateRejected )
        {
            palLog( pPort, HilLogWarn, "Image was rejected and bundle files rolled back." );
        }
        else if( state == HilImageStateAborted )
        {
            palLog( pPort, HilLogWarn, "Agent aborted and bundle files rolled back." );
        }
    }

    return status;
}

int HIL_Cc3220PortOpen( HilCc3220Port_t * pPort,
                        const char * pImagePath,
                        const char * pFileSystemDir,
                        const char * pCatalogDir )
{
    const size_t dirLength = strlen( pFileSystemDir );

    HIL_SlNwpInit( &pPort->nwp );

    if( HIL_PosixPortOpen( &pPort->posix, pImagePath, pFileSystemDir, NULL ) != 0 )
    {
        return -1;
    }

    if( dirLength >= sizeof( pPort->fileSystemDir ) )
    {
        ( void ) snprintf( pPort->posix.error, sizeof( pPort->posix.error ), "file system directory path is longer than %u bytes",
                           ( unsigned ) ( sizeof( pPort->fileSystemDir ) - 1U ) );
        return -1;
    }

    ( void ) memcpy( pPort->fileSystemDir, pFileSystemDir, dirLength + 1U );

    if( HIL_Cc3220LoadCatalog( pCatalogDir, &pPort->pRoots, &pPort->rootCount, &pPort->pRevoked, &pPort->revokedCount,
                               pPort->posix.error, sizeof( pPort->posix.error ) ) != 0 )
    {
        return -1;
    }

    pPort->catalog.pRoots = pPort->pRoots;
    pPort->catalog.rootCount = pPort->rootCount;
    pPort->catalog.pRevoked = pPort->pRevoked;
    pPort->catalog.revokedCount = pPort->revokedCount;
    return 0;
}

void HIL_Cc3220PortBind( HilCc3220Port_t * pPort,
                         HilPal_t * pPal )
{
    HIL_PosixPortBind( &pPort->posix, pPal );
    pPort->posixSetImageState = pPal->setImageState;
    pPal->pContext = pPort;
    /* The network processor does the certificate work: no mbedTLS lookup, no compiled-in certificate. */
    pPal->findCertificate = NULL;
    pPal->pFallbackCertificate = NULL;
    pPal->fallbackCertificateLength = 0U;
    pPal->pPolicy = NULL;
    pPal->partitionSize = 0U;
    pPal->closeTrailerSize = 0U;
    pPal->createFile = createFile;
    pPal->closeFile = closeFile;
    pPal->setImageState = setImageState;
}

void HIL_Cc3220PortClose( HilCc3220Port_t * pPort )
{
    HIL_PosixPortClose( &pPort->posix );
    HIL_Cc3220FreeCatalog( pPort->pRoots, pPort->rootCount, pPort->pRevoked );
    pPort->pRoots = NULL;
    pPort->rootCount = 0U;
    pPort->pRevoked = NULL;
    pPort->revokedCount = 0U;
    ( void ) memset( &pPort->catalog, 0, sizeof( pPort->catalog ) );
}
