/* The POSIX port of the verifier's PAL; see hil_posix_pal.h. */
#define _POSIX_C_SOURCE 200809L

#include "hil_posix_pal.h"

#include <errno.h>
#include <string.h>

int HIL_PosixLooksLikePem( const uint8_t * pData,
                           size_t length )
{
    static const char marker[] = "-----BEGIN";
    const size_t markerLength = sizeof( marker ) - 1U;
    size_t i;

    for( i = 0U; ( i + markerLength ) <= length; i++ )
    {
        if( memcmp( &pData[ i ], marker, markerLength ) == 0 )
        {
            return 1;
        }
    }

    return 0;
}

HilCertLookup_t HIL_PosixReadCertificate( const char * pPath,
                                          uint8_t * pBuffer,
                                          size_t capacity,
                                          size_t * pLength )
{
    FILE * file;
    size_t length;
    int extra;

    *pLength = 0U;
    file = fopen( pPath, "rb" );

    if( file == NULL )
    {
        return ( errno == ENOENT || errno == ENOTDIR ) ? HilCertNotFound : HilCertUnreadable;
    }

    /* One byte of room for the NUL a PEM needs, and one more to notice a file that does not fit. */
    length = ( capacity > 0U ) ? fread( pBuffer, 1U, capacity - 1U, file ) : 0U;
    extra = fgetc( file );
    ( void ) fclose( file );

    if( ( length == 0U ) || ( extra != EOF ) )
    {
        return HilCertUnreadable;
    }

    /* mbedtls_x509_crt_parse takes PEM only with its terminating NUL counted. */
    if( HIL_PosixLooksLikePem( pBuffer, length ) != 0 )
    {
        pBuffer[ length ] = 0U;
        length++;
    }

    *pLength = length;
    return HilCertFound;
}

static int32_t readBlock( void * pContext,
                          uint32_t offset,
                          uint8_t * pBuffer,
                          uint32_t length )
{
    HilPosixPort_t * pPort = pContext;
    size_t got;

    if( fseeko( pPort->pImage, ( off_t ) offset, SEEK_SET ) != 0 )
    {
        return -1;
    }

    got = fread( pBuffer, 1U, length, pPort->pImage );
    return ferror( pPort->pImage ) ? -1 : ( int32_t ) got;
}

/* A certfile is looked up inside the certificate directory only: empty names and names that climb out with ".."
 * find nothing. */
static int certFileIsContained( const char * pCertFile )
{
    const char * p = pCertFile;

    if( pCertFile[ 0 ] == '\0' )
    {
        return 0;
    }

    while( *p != '\0' )
    {
        if( ( p[ 0 ] == '.' ) && ( p[ 1 ] == '.' ) && ( ( p == pCertFile ) || ( p[ -1 ] == '/' ) ) && ( ( p[ 2 ] == '/' ) || ( p[ 2 ] == '\0' ) ) )
        {
            return 0;
        }

        p++;
    }

    return 1;
}

static HilCertLookup_t findCertificate( void * pContext,
                                        const char * pCertFile,
                                        uint8_t * pBuffer,
                                        size_t capacity,
                                        size_t * pLength )
{
    HilPosixPort_t * pPort = pContext;
    char path[ sizeof( pPort->certDir ) + hilconfigCERT_FILE_BUFFER_SIZE + 2U ];

    *pLength = 0U;

    if( !certFileIsContained( pCertFile ) )
    {
        return HilCertNotFound;
    }

    ( void ) snprintf( path, sizeof( path ), "%s/%s", pPort->certDir, pCertFile );
    return HIL_PosixReadCertificate( path, pBuffer, capacity, pLength );
}

static void logLine( void * pContext,
                     HilLogLevel_t level,
                     const char * pLine )
{
    HilPosixPort_t * pPort = pContext;

    if( pPort->log != NULL )
    {
        pPort->log( pPort->pCallbackContext, level, pLine );
    }
}

static void publishStatus( void * pContext,
                           const char * pJobId,
                           const char * pStatusJson )
{
    HilPosixPort_t * pPort = pContext;

    if( pPort->publishStatus != NULL )
    {
        pPort->publishStatus( pPort->pCallbackContext, pJobId, pStatusJson );
    }
}

static HilPalStatus_t setImageState( void * pContext,
                                     HilImageState_t state )
{
    HilPosixPort_t * pPort = pContext;

    if( HIL_PAL_MAIN( pPort->setStateStatus ) == ( uint32_t ) HilPalSuccess )
    {
        pPort->lastState = state;
    }

    return pPort->setStateStatus;
}

static HilPalImageState_t getImageState( void * pContext )
{
    const HilPosixPort_t * pPort = pContext;

    return pPort->platformState;
}

static HilPalStatus_t resetDevice( void * pContext )
{
    HilPosixPort_t * pPort = pContext;

    pPort->resetCount++;
    return HIL_PAL_COMBINE( HilPalSuccess, 0U );
}

static uint32_t runningVersion( void * pContext )
{
    const HilPosixPort_t * pPort = pContext;

    return pPort->runningVersion;
}

static bool currentTime( void * pContext,
                         int64_t * pUnixSeconds )
{
    const HilPosixPort_t * pPort = pContext;

    if( pPort->hasTime )
    {
        *pUnixSeconds = pPort->unixTime;
    }

    return pPort->hasTime;
}

int HIL_PosixPortSetPolicy( HilPosixPort_t * pPort,
                            uint32_t checks,
                            const uint8_t * pRevocationList,
                            size_t revocationListLength,
                            const uint8_t * pCertificate,
                            size_t certificateLength )
{
    pPort->policy.checks = checks;
    pPort->policy.pRevocationList = pRevocationList;
    pPort->policy.revocationListLength = ( pRevocationList != NULL ) ? revocationListLength : 0U;
    pPort->listSignerLength = 0U;

    if( pCertificate != NULL )
    {
        if( certificateLength >= sizeof( pPort->listSigner ) )
        {
            ( void ) snprintf( pPort->error, sizeof( pPort->error ), "the revocation list signer certificate is larger than %u bytes",
                               ( unsigned ) ( sizeof( pPort->listSigner ) - 1U ) );
            return -1;
        }

        ( void ) memcpy( pPort->listSigner, pCertificate, certificateLength );
        pPort->listSignerLength = certificateLength;

        if( ( certificateLength > 0U ) && ( HIL_PosixLooksLikePem( pCertificate, certificateLength ) != 0 ) &&
            ( pCertificate[ certificateLength - 1U ] != 0U ) )
        {
            pPort->listSigner[ certificateLength ] = 0U;
            pPort->listSignerLength++;
        }
    }
    else
    {
        char path[ sizeof( pPort->certDir ) + sizeof( HIL_POLICY_LIST_SIGNER_LABEL ) + 2U ];
        HilCertLookup_t lookup;

        ( void ) snprintf( path, sizeof( path ), "%s/%s", pPort->certDir, HIL_POLICY_LIST_SIGNER_LABEL );
        lookup = HIL_PosixReadCertificate( path, pPort->listSigner, sizeof( pPort->listSigner ), &pPort->listSignerLength );

        if( lookup == HilCertUnreadable )
        {
            ( void ) snprintf( pPort->error, sizeof( pPort->error ), "%s: empty, unreadable, or larger than the certificate buffer", path );
            return -1;
        }
    }

    pPort->policy.pListSignerCertificate = ( pPort->listSignerLength > 0U ) ? pPort->listSigner : NULL;
    pPort->policy.listSignerCertificateLength = pPort->listSignerLength;
    return 0;
}

int HIL_PosixPortOpen( HilPosixPort_t * pPort,
                       const char * pImagePath,
                       const char * pCertDir,
                       const char * pFallbackCertificatePath )
{
    size_t dirLength = strlen( pCertDir );

    pPort->platformState = HilPalImageStateValid;
    pPort->error[ 0 ] = '\0';

    if( dirLength >= sizeof( pPort->certDir ) )
    {
        ( void ) snprintf( pPort->error, sizeof( pPort->error ), "certificate directory path is longer than %u bytes",
                           ( unsigned ) ( sizeof( pPort->certDir ) - 1U ) );
        return -1;
    }

    ( void ) memcpy( pPort->certDir, pCertDir, dirLength + 1U );

    if( pFallbackCertificatePath != NULL )
    {
        const HilCertLookup_t lookup = HIL_PosixReadCertificate( pFallbackCertificatePath, pPort->fallback, sizeof( pPort->fallback ),
                                                                 &pPort->fallbackLength );

        if( lookup != HilCertFound )
        {
            ( void ) snprintf( pPort->error, sizeof( pPort->error ), "%s: %s", pFallbackCertificatePath,
                               ( lookup == HilCertNotFound ) ? "no such file" : "empty, unreadable, or larger than the certificate buffer" );
            return -1;
        }
    }

    pPort->pImage = fopen( pImagePath, "rb" );

    if( pPort->pImage == NULL )
    {
        ( void ) snprintf( pPort->error, sizeof( pPort->error ), "%s: %s", pImagePath, strerror( errno ) );
        return -1;
    }

    return 0;
}

void HIL_PosixPortBind( HilPosixPort_t * pPort,
                        HilPal_t * pPal )
{
    ( void ) memset( pPal, 0, sizeof( *pPal ) );
    pPal->pContext = pPort;
    pPal->readBlock = readBlock;
    pPal->findCertificate = findCertificate;
    pPal->pFallbackCertificate = ( pPort->fallbackLength > 0U ) ? pPort->fallback : NULL;
    pPal->fallbackCertificateLength = pPort->fallbackLength;
    pPal->log = logLine;
    pPal->publishStatus = publishStatus;
    pPal->setImageState = setImageState;
    pPal->getImageState = getImageState;
    pPal->reset = resetDevice;
    pPal->runningVersion = runningVersion;
    pPal->currentTime = currentTime;
    pPal->pPolicy = ( pPort->policy.checks != 0U ) ? &pPort->policy : NULL;
    pPal->partitionSize = pPort->partitionSize;
    pPal->closeTrailerSize = pPort->closeTrailerSize;
}

void HIL_PosixPortClose( HilPosixPort_t * pPort )
{
    if( pPort->pImage != NULL )
    {
        ( void ) fclose( pPort->pImage );
        pPort->pImage = NULL;
    }
}
