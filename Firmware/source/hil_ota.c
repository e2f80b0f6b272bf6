/*
 * The OTA verifier core: our implementation of the behaviour of the FreeRTOS v3 OTA agent
 * (aws/ota-for-aws-iot-embedded-sdk source/ota.c and ota_mqtt.c @477ee9a5) and of an mbedTLS PAL's close-file
 * (the ESP32 PAL and iot_crypto of aws/amazon-freertos @41244b00), for one job document. See hil_ota.h for what is
 * reproduced; the log and status texts are the agent's, character for character.
 */
#include "hil_ota.h"

#include <stdio.h>
#include <string.h>

/* IngestResult_t values (ota_private.h). */
#define INGEST_FILE_COMPLETE        ( -1 )
#define INGEST_SIG_CHECK_FAIL       ( -2 )
#define INGEST_FILE_CLOSE_FAIL      ( -3 )
#define INGEST_BLOCK_OUT_OF_RANGE   ( -7 )
#define INGEST_WRITE_BLOCK_FAILED   ( -9 )
#define INGEST_ACCEPTED_CONTINUE    ( 0 )

/* OtaErrUninitialized: the reason handleSelfTestJobDoc passes when downgrades are allowed. */
#define OTA_ERR_UNINITIALIZED       1U

/* OtaJobReason_t strings (ota_mqtt.c pOtaJobReasonStrings). */
typedef enum
{
    ReasonReceiving = 0,
    ReasonSigCheckPassed,
    ReasonSelfTestActive,
    ReasonAccepted,
    ReasonRejected,
    ReasonAborted
} JobReason_t;

static const char * const reasonStrings[] = { "", "ready", "active", "accepted", "rejected", "aborted" };

typedef struct
{
    HilOtaContext_t * ctx;
    const HilPal_t * pal;
    HilOtaResult_t * result;
} Run_t;

/* ---- job status messages (ota_mqtt.c) ---- */

static void publish( Run_t * run )
{
    run->result->statusCount++;
    ( void ) memcpy( run->result->lastStatus, run->ctx->status, sizeof( run->result->lastStatus ) );

    if( run->pal->publishStatus != NULL )
    {
        run->pal->publishStatus( run->pal->pContext, run->ctx->activeJobName, run->ctx->status );
    }
}

static uint32_t runningVersion( const Run_t * run )
{
    return ( run->pal->runningVersion != NULL ) ? run->pal->runningVersion( run->pal->pContext ) : 0U;
}

/* prvBuildStatusMessageSelfTest: IN_PROGRESS with self_test and the running version in 8 hex digits. */
static void publishSelfTest( Run_t * run,
                             JobReason_t reason )
{
    ( void ) snprintf( run->ctx->status, sizeof( run->ctx->status ),
                       "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"self_test\":\"%s\",\"updatedBy\":\"0x%08x\"}}",
                       reasonStrings[ reason ], ( unsigned ) runningVersion( run ) );
    publish( run );
}

/* prvBuildStatusMessageFinish, FailedWithVal: "0x<reason>: 0x<subReason>". */
static void publishFailedWithValue( Run_t * run,
                                    uint32_t reason,
                                    uint32_t subReason )
{
    ( void ) snprintf( run->ctx->status, sizeof( run->ctx->status ),
                       "{\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"0x%08x: 0x%08x\"}}",
                       ( unsigned ) reason, ( unsigned ) subReason );
    publish( run );
}

/* prvBuildStatusMessageFinish, Failed: "<reason string>: 0x<subReason>". */
static void publishFailed( Run_t * run,
                           JobReason_t reason,
                           uint32_t subReason )
{
    ( void ) snprintf( run->ctx->status, sizeof( run->ctx->status ),
                       "{\"status\":\"FAILED\",\"statusDetails\":{\"reason\":\"%s: 0x%08x\"}}",
                       reasonStrings[ reason ], ( unsigned ) subReason );
    publish( run );
}

/* prvBuildStatusMessageFinish, Succeeded: the new version comes from subReason and the updater's from the job,
 * both through AppVersion32_t's fields, each after two spaces and a "v". */
static void publishSucceeded( Run_t * run,
                              JobReason_t reason,
                              uint32_t subReason )
{
    const uint32_t previous = run->ctx->job.updatedBy;

    ( void ) snprintf( run->ctx->status, sizeof( run->ctx->status ),
                       "{\"status\":\"SUCCEEDED\",\"statusDetails\":{\"reason\":\"%s  v%u.%u.%u\",\"updatedBy\":\"  v%u.%u.%u\"}}",
                       reasonStrings[ reason ],
                       ( unsigned ) ( subReason >> 24 ), ( unsigned ) ( ( subReason >> 16 ) & 0xFFU ), ( unsigned ) ( subReason & 0xFFFFU ),
                       ( unsigned ) ( previous >> 24 ), ( unsigned ) ( ( previous >> 16 ) & 0xFFU ), ( unsigned ) ( previous & 0xFFFFU ) );
    publish( run );
}

/* buildStatusMessageReceiving: after the first block and every hilconfigUPDATE_STATUS_FREQUENCY blocks. */
static void publishReceiving( Run_t * run,
                              uint32_t received,
                              uint32_t blocks )
{
    if( ( received == 1U ) || ( ( received % hilconfigUPDATE_STATUS_FREQUENCY ) == 0U ) )
    {
        ( void ) snprintf( run->ctx->status, sizeof( run->ctx->status ),
                           "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"receive\":\"%u/%u\"}}",
                           ( unsigned ) received, ( unsigned ) blocks );
        publish( run );
    }
}

/* ---- image state (ota.c setImageStateWithReason, updateJobStatusFromImageState) ---- */

static void setImageStateWithReason( Run_t * run,
                                     HilImageState_t stateToSet,
                                     uint32_t reasonToSet )
{
    HilImageState_t state = stateToSet;
    uint32_t reason = reasonToSet;
    const HilPalStatus_t palStatus = ( run->pal->setImageState != NULL ) ? run->pal->setImageState( run->pal->pContext, state ) : 0U;

    /* A PAL that cannot set the state fails the update, unless it was being aborted. */
    if( ( HIL_PAL_MAIN( palStatus ) != ( uint32_t ) HilPalSuccess ) && ( state != HilImageStateAborted ) )
    {
        state = HilImageStateRejected;

        if( reason == 0U )
        {
            reason = palStatus;
        }
    }

    run->result->imageState = state;

    if( run->ctx->activeJobName[ 0 ] == '\0' )
    {
        HIL_Log( &run->ctx->logger, HilLogWarn,
                 "Failed to set image state with reason: OtaErr_t=%s, OtaPalStatus_t=%s, state=%d, reason=%d",
                 "OtaErrNoActiveJob", HIL_PalStatusName( HIL_PAL_MAIN( palStatus ) ), ( int ) stateToSet, ( int ) reasonToSet );
        return;
    }

    if( state == HilImageStateTesting )
    {
        publishSelfTest( run, ReasonSelfTestActive );
    }
    else
    {
        if( state == HilImageStateAccepted )
        {
            publishSucceeded( run, ReasonAccepted, runningVersion( run ) );
        }
        else
        {
            publishFailed( run, ( state == HilImageStateRejected ) ? ReasonRejected : ReasonAborted, reason );
        }

        ( void ) memset( run->ctx->activeJobName, 0, sizeof( run->ctx->activeJobName ) );
    }
}

static void resetDevice( Run_t * run )
{
    run->result->reset = true;

    if( run->pal->reset != NULL )
    {
        ( void ) run->pal->reset( run->pal->pContext );
    }
}

static bool platformInSelfTest( const Run_t * run )
{
    return ( run->pal->getImageState != NULL ) && ( run->pal->getImageState( run->pal->pContext ) == HilPalImageStatePendingCommit );
}

/* ---- self test (ota.c handleSelfTestJobDoc, validateUpdateVersion) ---- */

/* Returns false when the device resets. */
static bool handleSelfTestJobDoc( Run_t * run )
{
    const HilJobDocument_t * pJob = &run->ctx->job;
    HilLogger_t * pLog = &run->ctx->logger;

    HIL_Log( pLog, HilLogInfo, "In self test mode." );

    #if ( hilconfigALLOW_DOWNGRADE == 1 )
        HIL_Log( pLog, HilLogWarn, "OTA Config Allow Downgrade has been set to 1, bypassing version check: Begin testing file: File ID=%d",
                 ( int ) pJob->fileId );
        setImageStateWithReason( run, HilImageStateTesting, OTA_ERR_UNINITIALIZED );
        return true;
    #else
    {
        const uint32_t running = runningVersion( run );
        const HilOtaErr_t versionErr = HIL_CheckSelfTestVersion( pJob, running );

        if( versionErr == HilOtaErrSameFirmwareVersion )
        {
            HIL_Log( pLog, HilLogWarn, "Application version of the new image is identical to the current image: "
                                       "New images are expected to have a higher version number: " );
        }
        else if( versionErr == HilOtaErrDowngradeNotAllowed )
        {
            HIL_Log( pLog, HilLogWarn, "Application version of the new image is lower than the current image: "
                                       "New images are expected to have a higher version number." );
        }
        else if( ( pJob->fileId == 0U ) && ( pJob->fileType == hilconfigFIRMWARE_FILE_TYPE_ID ) )
        {
            HIL_Log( pLog, HilLogInfo, "New image has a higher version number than the current image: "
                                       "New image version=%u.%u.%u, Previous image version=%u.%u.%u",
                     ( unsigned ) ( running >> 24 ), ( unsigned ) ( ( running >> 16 ) & 0xFFU ), ( unsigned ) ( running & 0xFFFFU ),
                     ( unsigned ) ( pJob->updatedBy >> 24 ), ( unsigned ) ( ( pJob->updatedBy >> 16 ) & 0xFFU ),
                     ( unsigned ) ( pJob->updatedBy & 0xFFFFU ) );
        }

        if( versionErr == HilOtaErrNone )
        {
            HIL_Log( pLog, HilLogInfo, "Image version is valid: Begin testing file: File ID=%d", ( int ) pJob->fileId );
            setImageStateWithReason( run, HilImageStateTesting, 0U );
            return true;
        }

        HIL_Log( pLog, HilLogWarn, "New image is being rejected: Application version of the new image is invalid: OtaErr_t=%s",
                 HIL_OtaErrName( versionErr ) );
        run->result->otaErr = versionErr;
        run->result->outcome = HilOtaRejectedVersion;
        setImageStateWithReason( run, HilImageStateRejected, ( uint32_t ) versionErr );
        resetDevice( run );
        return false;
    }
    #endif
}

/* ---- the close of an mbedTLS PAL (ESP32 otaPal_CloseFile / otaPal_CheckFileSignature, iot_crypto) ---- */

static HilPalStatus_t closeFile( Run_t * run )
{
    HilOtaContext_t * ctx = run->ctx;
    HilOtaResult_t * result = run->result;
    const uint8_t * pCertificate = ctx->certificate;
    size_t certificateLength = 0U;
    HilCertLookup_t lookup = HilCertNotFound;

    /* A PAL whose platform authenticates the file (the CC3220SF's sl_FsClose) closes it its own way. */
    if( run->pal->closeFile != NULL )
    {
        return run->pal->closeFile( run->pal->pContext, result->bytesReceived, ctx->job.certFile, ctx->job.signature,
                                    ctx->job.signatureSize, &result->cryptoResult );
    }

    if( run->pal->findCertificate != NULL )
    {
        lookup = run->pal->findCertificate( run->pal->pContext, ctx->job.certFile, ctx->certificate, sizeof( ctx->certificate ),
                                            &certificateLength );
    }

    if( ( lookup == HilCertFound ) && ( ( certificateLength == 0U ) || ( certificateLength > sizeof( ctx->certificate ) ) ) )
    {
        lookup = HilCertUnreadable;
    }

    result->certLookup = lookup;

    if( lookup == HilCertFound )
    {
        HIL_Log( &ctx->logger, HilLogInfo, "Using cert with label: %s OK", ctx->job.certFile );
    }
    else if( ( run->pal->pFallbackCertificate != NULL ) && ( run->pal->fallbackCertificateLength > 0U ) )
    {
        HIL_Log( &ctx->logger, HilLogInfo, "No such certificate file: %s. Using certificate in ota_demo_config.h.", ctx->job.certFile );
        pCertificate = run->pal->pFallbackCertificate;
        certificateLength = run->pal->fallbackCertificateLength;
        result->usedFallbackCertificate = true;
    }
    else
    {
        HIL_Log( &ctx->logger, HilLogError, "Cert read failed" );
        return HIL_PAL_COMBINE( HilPalBadSignerCert, 0U );
    }

    result->cryptoResult = HIL_VerifySignature( pCertificate, certificateLength, result->hash, result->digest,
                                                ctx->job.signature, ctx->job.signatureSize, &result->mbedtlsError );

    if( result->cryptoResult != HilCryptoValid )
    {
        HIL_Log( &ctx->logger, HilLogError, "Signature verification failed" );
        return HIL_PAL_COMBINE( HilPalSignatureCheckFailed, 0U );
    }

    /* The opt-in device policy, on the certificate the signature verified with. */
    if( ( run->pal->pPolicy != NULL ) && ( run->pal->pPolicy->checks != 0U ) )
    {
        int64_t now = 0;
        bool hasTime = false;
        uint32_t sub;

        if( ( ( run->pal->pPolicy->checks & HIL_POLICY_CHECK_CERTIFICATE_VALIDITY ) != 0U ) && ( run->pal->currentTime != NULL ) )
        {
            hasTime = run->pal->currentTime( run->pal->pContext, &now );
        }

        sub = HIL_PolicyCheck( run->pal->pPolicy, pCertificate, certificateLength, ctx->job.signature, ctx->job.signatureSize,
                               hasTime, now, &ctx->logger );

        if( sub != 0U )
        {
            return HIL_PAL_COMBINE( HilPalSignatureCheckFailed, sub );
        }
    }

    /* The ESP32 PAL then writes its signature block after the image; past the partition that write fails and the
     * close returns FileClose without a log line of its own. */
    if( ( run->pal->partitionSize != 0U ) && ( run->pal->closeTrailerSize != 0U ) &&
        ( ( uint64_t ) result->bytesReceived + run->pal->closeTrailerSize > ( uint64_t ) run->pal->partitionSize ) )
    {
        return HIL_PAL_COMBINE( HilPalFileClose, 0U );
    }

    return HIL_PAL_COMBINE( HilPalSuccess, 0U );
}

/* A failed ingest (ota.c processDataHandler): reject the image and report the close result. */
static void rejectIngest( Run_t * run,
                          int ingestResult,
                          HilPalStatus_t closeResult )
{
    HIL_Log( &run->ctx->logger, HilLogError,
             "Failed to ingest data block, rejecting image: ingestDataBlock returned error: OtaErr_t=%d", ingestResult );

    if( run->pal->setImageState != NULL )
    {
        ( void ) run->pal->setImageState( run->pal->pContext, HilImageStateRejected );
    }

    run->result->imageState = HilImageStateRejected;
    publishFailedWithValue( run, HIL_PAL_MAIN( closeResult ), HIL_PAL_SUB( closeResult ) );
    ( void ) memset( run->ctx->activeJobName, 0, sizeof( run->ctx->activeJobName ) );
}

/* Receives the file block by block, hashing as it goes, and closes it after the last block. */
static void receiveFile( Run_t * run )
{
    HilOtaContext_t * ctx = run->ctx;
    HilOtaResult_t * result = run->result;
    const uint32_t fileSize = ctx->job.fileSize;
    const uint32_t blocks = ( uint32_t ) ( ( ( uint64_t ) fileSize + hilconfigFILE_BLOCK_SIZE - 1U ) / hilconfigFILE_BLOCK_SIZE );
    uint32_t index;
    HilPalStatus_t closeResult;

    HIL_HashStart( &ctx->hasher, result->hash );

    for( index = 0U; index < blocks; index++ )
    {
        const uint32_t offset = index * hilconfigFILE_BLOCK_SIZE;
        const uint32_t expected = ( index + 1U < blocks ) ? hilconfigFILE_BLOCK_SIZE : ( fileSize - offset );
        const uint32_t remaining = blocks - index - 1U;
        const int32_t got = ( run->pal->readBlock != NULL ) ? run->pal->readBlock( run->pal->pContext, offset, ctx->block, hilconfigFILE_BLOCK_SIZE ) : -1;

        if( ( got < 0 ) || ( got > ( int32_t ) hilconfigFILE_BLOCK_SIZE ) )
        {
            result->outcome = HilOtaInputError;
            return;
        }

        /* validateDataBlock: full blocks, then exactly the remainder. A server streams the file it has, so a file of
         * another length than filesize shows up as a block of another size. */
        if( ( uint32_t ) got != expected )
        {
            result->blockIndex = index;
            result->blockSize = ( uint32_t ) got;
            result->ingestResult = INGEST_BLOCK_OUT_OF_RANGE;
            result->outcome = HilOtaRejectedBlock;
            HIL_Log( &ctx->logger, HilLogError,
                     "Block range check failed: Received a block outside of the expected range: Block index=%u, Block size=%u",
                     ( unsigned ) index, ( unsigned ) got );
            /* closeResult is still its initial value in processDataHandler. */
            rejectIngest( run, INGEST_BLOCK_OUT_OF_RANGE, HIL_PAL_COMBINE( HilPalUninitialized, 0U ) );
            return;
        }

        /* processDataBlock hands the valid block to the PAL's writeBlock; one that ends past the partition fails
         * there (the ESP32 PAL's esp_ota_write_with_offset), and the agent rejects the image with the close result
         * it has not set. */
        if( ( run->pal->partitionSize != 0U ) && ( ( uint64_t ) offset + ( uint32_t ) got > ( uint64_t ) run->pal->partitionSize ) )
        {
            result->blockIndex = index;
            result->blockSize = ( uint32_t ) got;
            result->ingestResult = INGEST_WRITE_BLOCK_FAILED;
            result->outcome = HilOtaRejectedWrite;
            HIL_Log( &ctx->logger, HilLogError, "Couldn't flash at the offset %d", ( int ) offset );
            HIL_Log( &ctx->logger, HilLogError, "Failed to ingest received block: iBytesWritten: %d, IngestResult_t=%d", -1,
                     INGEST_WRITE_BLOCK_FAILED );
            rejectIngest( run, INGEST_WRITE_BLOCK_FAILED, HIL_PAL_COMBINE( HilPalUninitialized, 0U ) );
            return;
        }

        HIL_HashUpdate( &ctx->hasher, ctx->block, ( size_t ) got );
        result->bytesReceived += ( uint32_t ) got;

        if( remaining > 0U )
        {
            if( ( remaining & 0x1FU ) == 0U )
            {
                HIL_Log( &ctx->logger, HilLogInfo, "Number of blocks remaining: %u", ( unsigned ) remaining );
            }

            publishReceiving( run, index + 1U, blocks );
        }
    }

    HIL_HashFinish( &ctx->hasher, result->digest );
    HIL_Log( &ctx->logger, HilLogInfo, "Received final block of the update." );

    closeResult = closeFile( run );
    result->palStatus = closeResult;

    if( HIL_PAL_MAIN( closeResult ) == ( uint32_t ) HilPalSuccess )
    {
        HIL_Log( &ctx->logger, HilLogInfo, "Received entire update and validated the signature." );
        result->ingestResult = INGEST_FILE_COMPLETE;
        result->outcome = HilOtaAccepted;

        if( ctx->job.fileType == hilconfigFIRMWARE_FILE_TYPE_ID )
        {
            publishSelfTest( run, ReasonSigCheckPassed );
        }
        else
        {
            publishSucceeded( run, ReasonAccepted, ctx->job.fileType );
        }

        ( void ) memset( ctx->activeJobName, 0, sizeof( ctx->activeJobName ) );
        return;
    }

    /* The agent prints the whole status word with %06x. */
    HIL_Log( &ctx->logger, HilLogError, "Failed to close the OTA file: Error=(%s:0x%06x)",
             HIL_PalStatusName( HIL_PAL_MAIN( closeResult ) ), ( unsigned ) closeResult );
    result->ingestResult = ( HIL_PAL_MAIN( closeResult ) == ( uint32_t ) HilPalSignatureCheckFailed ) ? INGEST_SIG_CHECK_FAIL : INGEST_FILE_CLOSE_FAIL;
    result->outcome = ( HIL_PAL_MAIN( closeResult ) == ( uint32_t ) HilPalFileClose ) ? HilOtaRejectedWrite : HilOtaRejectedSignature;
    rejectIngest( run, result->ingestResult, closeResult );
}

/* ---- the job (ota.c parseJobDoc, validateAndStartJob, handleJobParsingError, processValidFileContext) ---- */

void HIL_OtaInit( HilOtaContext_t * pContext )
{
    if( pContext != NULL )
    {
        ( void ) memset( pContext, 0, sizeof( *pContext ) );
    }
}

static bool signatureKeyNamesSha1( const char * pKey )
{
    return strstr( pKey, "sha1" ) != NULL;
}

HilOtaOutcome_t HIL_OtaProcessJob( HilOtaContext_t * pContext,
                                   const HilPal_t * pPal,
                                   const char * pJson,
                                   size_t len,
                                   const char * pSignatureKey,
                                   HilOtaResult_t * pResult )
{
    Run_t run = { pContext, pPal, pResult };
    const char * pKey = ( pSignatureKey != NULL ) ? pSignatureKey : hilconfigSIGNATURE_KEY;
    HilJobDocument_t * pJob;
    HilLogger_t * pLog;
    HilJobParseErr_t jobErr;

    if( ( pContext == NULL ) || ( pPal == NULL ) || ( pResult == NULL ) )
    {
        return HilOtaInputError;
    }

    pJob = &pContext->job;
    pLog = &pContext->logger;
    ( void ) memset( pResult, 0, sizeof( *pResult ) );
    pResult->outcome = HilOtaRejectedJobDocument;
    pResult->hash = signatureKeyNamesSha1( pKey ) ? HilHashSha1 : HilHashSha256;
    pResult->palStatus = HIL_PAL_COMBINE( HilPalUninitialized, 0U );
    pLog->log = pPal->log;
    pLog->pContext = pPal->pContext;
    ( void ) memset( pContext->activeJobName, 0, sizeof( pContext->activeJobName ) );

    jobErr = HIL_ParseJobDocumentLogged( pJson, len, pKey, pJob, pLog );
    pResult->jobErr = jobErr;
    pResult->docErr = pJob->docErr;

    if( pJob->docErr == HilDocParseErrNone )
    {
        /* validateAndStartJob */
        if( jobErr == HilJobParseErrZeroFileSize )
        {
            HIL_Log( pLog, HilLogError, "Parameter check failed: pFileContext->fileSize is 0: File size should be > 0." );
        }
        else if( jobErr == HilJobParseErrBadModelInitParams )
        {
            HIL_Log( pLog, HilLogError, "Parameter check failed: pFileContext->fileSize (%u) greater than can be tracked.",
                     ( unsigned ) pJob->fileSize );
            HIL_Log( pLog, HilLogWarn, "Largest trackable size: OTA_MAX_BLOCK_BITMAP_SIZE (%u) * BITS_PER_BYTE (%u) = %u",
                     ( unsigned ) hilconfigMAX_BLOCK_BITMAP_SIZE, 8U, ( unsigned ) ( hilconfigMAX_BLOCK_BITMAP_SIZE * 8U ) );
        }
        else if( jobErr == HilJobParseErrNone )
        {
            ( void ) memcpy( pContext->activeJobName, pJob->jobId, sizeof( pContext->activeJobName ) );

            if( pJob->inSelfTest )
            {
                if( !handleSelfTestJobDoc( &run ) )
                {
                    return pResult->outcome;
                }
            }
            else
            {
                HIL_Log( pLog, HilLogInfo, "Job document was accepted. Attempting to begin the update." );
            }
        }
    }
    else if( ( jobErr == HilJobParseErrNonConformingJobDoc ) && ( pJob->jobId[ 0 ] != '\0' ) )
    {
        /* handleCustomJob keeps the job id to report the failure on. */
        ( void ) memcpy( pContext->activeJobName, pJob->jobId, sizeof( pContext->activeJobName ) );
    }

    if( jobErr == HilJobParseErrNone )
    {
        HIL_Log( pLog, HilLogInfo, "Job parsing success: OtaJobParseErr_t=%s, Job name=%s", HIL_JobParseErrName( jobErr ), pJob->jobId );
    }
    else if( jobErr == HilJobParseErrBadModelInitParams )
    {
        HIL_Log( pLog, HilLogInfo, "Unable to initialize Job Parsing: OtaJobParseErr_t=%s", HIL_JobParseErrName( jobErr ) );
    }
    else if( jobErr == HilJobParseErrNoActiveJobs )
    {
        HIL_Log( pLog, HilLogInfo, "No active job available in received job document: OtaJobParseErr_t=%s", HIL_JobParseErrName( jobErr ) );
    }
    else
    {
        HIL_Log( pLog, HilLogError, "Failed to parse the job document after parsing the job name: OtaJobParseErr_t=%s, Job name=%s",
                 HIL_JobParseErrName( jobErr ), pJob->jobId );

        if( pContext->activeJobName[ 0 ] != '\0' )
        {
            publishFailedWithValue( &run, ( uint32_t ) HilOtaErrJobParserError, ( uint32_t ) jobErr );
            ( void ) memset( pContext->activeJobName, 0, sizeof( pContext->activeJobName ) );
        }
    }

    if( pJob->docErr == HilDocParseErrEmptyJobDoc )
    {
        HIL_Log( pLog, HilLogInfo, "Emtpy job document found" );
    }

    if( jobErr != HilJobParseErrNone )
    {
        pResult->outcome = ( jobErr == HilJobParseErrNoActiveJobs ) ? HilOtaNoActiveJob : HilOtaRejectedJobDocument;
        pResult->otaErr = ( pJob->otaErr != HilOtaErrNone ) ? pJob->otaErr : HilOtaErrJobParserError;
        return pResult->outcome;
    }

    if( pJob->otaErr != HilOtaErrNone )
    {
        /* getFileContextFromJob: a size beyond OTA_MAX_FILE_SIZE stops the job here. */
        pResult->otaErr = pJob->otaErr;
        return pResult->outcome;
    }

    if( pJob->inSelfTest )
    {
        /* inSelfTestHandler */
        HIL_Log( pLog, HilLogInfo, "Beginning self-test." );

        if( platformInSelfTest( &run ) )
        {
            pResult->outcome = HilOtaSelfTestStarted;
            return pResult->outcome;
        }

        HIL_Log( pLog, HilLogWarn, "Rejecting new image and rebooting:The job is in the self-test state while the platform is not." );
        pResult->otaErr = HilOtaErrImageStateMismatch;
        pResult->outcome = HilOtaRejectedImageState;
        setImageStateWithReason( &run, HilImageStateRejected, ( uint32_t ) HilOtaErrImageStateMismatch );
        resetDevice( &run );
        return pResult->outcome;
    }

    /* getFileContextFromJob: the PAL creates the receive file, unless the platform is in self test. A refusal sets
     * the image state Aborted with the PAL status as the reason; the agent drops the file context
     * (processNullFileContext: OtaErrJobParserError). */
    if( ( pPal->createFile != NULL ) && !platformInSelfTest( &run ) )
    {
        const HilPalStatus_t createStatus = pPal->createFile( pPal->pContext, pJob->fileSize, pJob->fileType );

        if( HIL_PAL_MAIN( createStatus ) != ( uint32_t ) HilPalSuccess )
        {
            pResult->palStatus = createStatus;
            pResult->otaErr = HilOtaErrJobParserError;
            pResult->outcome = HilOtaRejectedFileCreate;
            setImageStateWithReason( &run, HilImageStateAborted, createStatus );
            return pResult->outcome;
        }
    }

    /* processValidFileContext */
    if( platformInSelfTest( &run ) )
    {
        HIL_Log( pLog, HilLogWarn, "Rejecting new image and rebooting:The platform is in the self-test state while the job is not." );
        pResult->outcome = HilOtaRejectedImageState;
        resetDevice( &run );
        return pResult->outcome;
    }

    if( HIL_CheckProtocols( pJob ) != HilOtaErrNone )
    {
        HIL_Log( pLog, HilLogError, "Failed to set OTA data interface: OtaErr_t=%s, aborting current update.",
                 HIL_OtaErrName( HilOtaErrInvalidDataProtocol ) );
        pResult->otaErr = HilOtaErrInvalidDataProtocol;
        pResult->outcome = HilOtaRejectedProtocol;
        setImageStateWithReason( &run, HilImageStateAborted, ( uint32_t ) HilOtaErrInvalidDataProtocol );
        return pResult->outcome;
    }

    HIL_Log( pLog, HilLogInfo, "Setting OTA data interface." );
    receiveFile( &run );
    return pResult->outcome;
}

/* ---- names ---- */

const char * HIL_PalStatusName( uint32_t mainStatus )
{
    switch( mainStatus )
    {
        case HilPalSuccess: return "OtaPalSuccess";
        case HilPalUninitialized: return "OtaPalUninitialized";
        case HilPalOutOfMemory: return "OtaPalOutOfMemory";
        case HilPalNullFileContext: return "OtaPalNullFileContext";
        case HilPalSignatureCheckFailed: return "OtaPalSignatureCheckFailed";
        case HilPalRxFileCreateFailed: return "OtaPalRxFileCreateFailed";
        case HilPalRxFileTooLarge: return "OtaPalRxFileTooLarge";
        case HilPalBootInfoCreateFailed: return "OtaPalBootInfoCreateFailed";
        case HilPalBadSignerCert: return "OtaPalBadSignerCert";
        case HilPalBadImageState: return "OtaPalBadImageState";
        case HilPalAbortFailed: return "OtaPalAbortFailed";
        case HilPalRejectFailed: return "OtaPalRejectFailed";
        case HilPalCommitFailed: return "OtaPalCommitFailed";
        case HilPalActivateFailed: return "OtaPalActivateFailed";
        case HilPalFileAbort: return "OtaPalFileAbort";
        case HilPalFileClose: return "OtaPalFileClose";
        default: return "InvalidErrorCode";
    }
}

const char * HIL_OtaErrName( HilOtaErr_t err )
{
    switch( err )
    {
        case HilOtaErrNone: return "OtaErrNone";
        case HilOtaErrJobParserError: return "OtaErrJobParserError";
        case HilOtaErrInvalidDataProtocol: return "OtaErrInvalidDataProtocol";
        case HilOtaErrDowngradeNotAllowed: return "OtaErrDowngradeNotAllowed";
        case HilOtaErrSameFirmwareVersion: return "OtaErrSameFirmwareVersion";
        case HilOtaErrImageStateMismatch: return "OtaErrImageStateMismatch";
        /* OTA_Err_strerror has no case for FileSizeOverflow or EmptyJobDocument. */
        default: return "InvalidErrorCode";
    }
}

const char * HIL_OtaOutcomeName( HilOtaOutcome_t outcome )
{
    switch( outcome )
    {
        case HilOtaAccepted: return "accepted";
        case HilOtaSelfTestStarted: return "self-test-started";
        case HilOtaNoActiveJob: return "no-active-job";
        case HilOtaRejectedJobDocument: return "rejected-job-document";
        case HilOtaRejectedProtocol: return "rejected-protocol";
        case HilOtaRejectedBlock: return "rejected-block";
        case HilOtaRejectedWrite: return "rejected-write";
        case HilOtaRejectedSignature: return "rejected-signature";
        case HilOtaRejectedVersion: return "rejected-version";
        case HilOtaRejectedImageState: return "rejected-image-state";
        case HilOtaRejectedFileCreate: return "rejected-file-create";
        default: return "input-error";
    }
}

void HIL_FormatVersion( uint32_t version,
                        char * pBuffer,
                        size_t capacity )
{
    if( ( pBuffer != NULL ) && ( capacity > 0U ) )
    {
        ( void ) snprintf( pBuffer, capacity, "%u.%u.%u", ( unsigned ) ( version >> 24 ), ( unsigned ) ( ( version >> 16 ) & 0xFFU ),
                           ( unsigned ) ( version & 0xFFFFU ) );
    }
}
