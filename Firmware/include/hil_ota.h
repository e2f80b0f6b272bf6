/*
 * The device-side OTA verifier: what the FreeRTOS v3 OTA agent and an mbedTLS PAL do with one job document and the
 * file it names (aws/ota-for-aws-iot-embedded-sdk @477ee9a5 source/ota.c, ota_mqtt.c, ota_base64.c and
 * source/include/ota_platform_interface.h; the ESP32 PAL and iot_crypto of aws/amazon-freertos @41244b00), behind a
 * platform abstraction layer of function pointers.
 *
 * One call, HIL_OtaProcessJob, runs a job document through the agent's steps: parse it, check the job, either run
 * the self-test version check (a job that carries statusDetails.self_test) or receive the file block by block
 * through the PAL, hash exactly [0, filesize), close the file the way an mbedTLS PAL does (certificate by label or
 * path with a compiled-in fallback, mbedtls_x509_crt_parse + mbedtls_pk_verify), set the image state and publish
 * the job status. Every line the agent and the PAL would log goes to the PAL's log callback with the same text;
 * every job-status message goes to its publish callback with the same bytes.
 *
 * The caller owns all memory (HilOtaContext_t); the core allocates nothing. mbedTLS allocates while it parses the
 * certificate, as it does on a device (where its calloc is the FreeRTOS heap).
 *
 * Not modelled: MQTT/HTTP transport, block requests and their retries, timers. A PAL read that returns fewer bytes
 * than a block needs is the block the device receives with that size.
 */
#ifndef HIL_OTA_H
#define HIL_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil_config_defaults.h"
#include "hil_crypto.h"
#include "hil_jobdoc.h"
#include "hil_log.h"
#include "hil_policy.h"

/* OtaPalStatus_t: main << 24 | sub (ota_platform_interface.h). */
typedef uint32_t HilPalStatus_t;

#define HIL_PAL_MAIN( status )            ( ( uint32_t ) ( status ) >> 24U )
#define HIL_PAL_SUB( status )             ( ( uint32_t ) ( status ) & 0xFFFFFFU )
#define HIL_PAL_COMBINE( main, sub )      ( ( ( uint32_t ) ( main ) << 24U ) | ( ( uint32_t ) ( sub ) & 0xFFFFFFU ) )

/* OtaPalMainStatus_t values. */
typedef enum HilPalMain
{
    HilPalSuccess = 0x00,
    HilPalUninitialized = 0xe0,
    HilPalOutOfMemory = 0xe1,
    HilPalNullFileContext = 0xe2,
    HilPalSignatureCheckFailed = 0xe3,
    HilPalRxFileCreateFailed = 0xe4,
    HilPalRxFileTooLarge = 0xe5,
    HilPalBootInfoCreateFailed = 0xe6,
    HilPalBadSignerCert = 0xe7,
    HilPalBadImageState = 0xe8,
    HilPalAbortFailed = 0xe9,
    HilPalRejectFailed = 0xea,
    HilPalCommitFailed = 0xeb,
    HilPalActivateFailed = 0xec,
    HilPalFileAbort = 0xed,
    HilPalFileClose = 0xee
} HilPalMain_t;

/* OtaImageState_t: what the agent asks the PAL to set. */
typedef enum HilImageState
{
    HilImageStateUnknown = 0,
    HilImageStateTesting = 1,
    HilImageStateAccepted = 2,
    HilImageStateRejected = 3,
    HilImageStateAborted = 4
} HilImageState_t;

/* OtaPalImageState_t: what the PAL reports about the running image. */
typedef enum HilPalImageState
{
    HilPalImageStateUnknown = 0,
    HilPalImageStatePendingCommit = 1,
    HilPalImageStateValid = 2,
    HilPalImageStateInvalid = 3
} HilPalImageState_t;

typedef enum HilCertLookup
{
    HilCertFound = 0,
    HilCertNotFound,     /* no certificate with that label or path */
    HilCertUnreadable    /* present but empty, unreadable, or larger than the buffer */
} HilCertLookup_t;

typedef struct HilPal
{
    void * pContext;

    /* Reads up to `length` bytes of the received file at `offset` into pBuffer. Returns the count read (fewer only
     * at the end of the file) or -1 when the file cannot be read. */
    int32_t ( * readBlock )( void * pContext,
                             uint32_t offset,
                             uint8_t * pBuffer,
                             uint32_t length );

    /* Copies the certificate named by the job's certfile (a PKCS#11 label or a file path) into pBuffer: PEM with its
     * NUL counted, or DER. */
    HilCertLookup_t ( * findCertificate )( void * pContext,
                                           const char * pCertFile,
                                           uint8_t * pBuffer,
                                           size_t capacity,
                                           size_t * pLength );

    /* The certificate compiled into the image (otapalconfigCODE_SIGNING_CERTIFICATE), used when findCertificate
     * finds nothing. NULL: none, and a missing certificate is BadSignerCert. */
    const uint8_t * pFallbackCertificate;
    size_t fallbackCertificateLength;

    /* One log line without a newline. May be NULL. */
    void ( * log )( void * pContext,
                    HilLogLevel_t level,
                    const char * pLine );

    /* One job-status message for job pJobId, as published to $aws/things/<thing>/jobs/<jobId>/update. May be NULL. */
    void ( * publishStatus )( void * pContext,
                              const char * pJobId,
                              const char * pStatusJson );

    /* setPlatformImageState / getPlatformImageState / reset of the OTA PAL. */
    HilPalStatus_t ( * setImageState )( void * pContext,
                                        HilImageState_t state );
    HilPalImageState_t ( * getImageState )( void * pContext );
    HilPalStatus_t ( * reset )( void * pContext );

    /* appFirmwareVersion: major << 24 | minor << 16 | build. */
    uint32_t ( * runningVersion )( void * pContext );

    /* The device's trusted clock, for the opt-in policy's certificate-validity check: true with unix seconds in
     * *pUnixSeconds, false when the device has no trusted time (not yet synchronised). May be NULL: no trusted time. */
    bool ( * currentTime )( void * pContext,
                            int64_t * pUnixSeconds );

    /* The opt-in device policy (hil_policy.h), run in the close after the signature verified. NULL: the stock PAL,
     * which checks neither certificate dates nor revocation. */
    const HilPolicyConfig_t * pPolicy;

    /* The partition the file is written into, in bytes; 0: unlimited. The ESP32 PAL opens the file with
     * esp_ota_begin( partition, OTA_SIZE_UNKNOWN, ... ), so nothing is checked when the file is created; its
     * otaPal_WriteBlock fails ("Couldn't flash at the offset %d", -1) for the first block that ends past the partition,
     * because esp_partition_write refuses a write beyond the partition's end (ESP_ERR_INVALID_SIZE). */
    uint32_t partitionSize;

    /* Bytes the PAL's close writes after the image once the signature verified; 0: none. The ESP32 PAL appends its
     * 80-byte secure-boot signature block at the end of the data written; with partitionSize set, a block that does not
     * fit makes the close fail with OtaPalFileClose. */
    uint32_t closeTrailerSize;

    /* otaPal_CreateFileForRx, for a PAL that can refuse to create the receive file: called once the job is accepted
     * (getFileContextFromJob), before any block, with the job's filesize and fileType. A status other than
     * OtaPalSuccess aborts the job (image state Aborted with that status as the reason, outcome
     * HilOtaRejectedFileCreate, otaErr OtaErrJobParserError). NULL: the file is always created (the ESP32 PAL checks
     * no size there). */
    HilPalStatus_t ( * createFile )( void * pContext,
                                     uint32_t fileSize,
                                     uint32_t fileType );

    /* otaPal_CloseFile of a PAL whose platform authenticates the file itself (the CC3220SF's sl_FsClose): called
     * instead of the mbedTLS close above with the file's size (the bytes received), the job's certfile and signature.
     * It logs what its PAL logs and may set *pCryptoResult. NULL: the mbedTLS PAL close (findCertificate, fallback,
     * policy, trailer). */
    HilPalStatus_t ( * closeFile )( void * pContext,
                                    uint32_t fileSize,
                                    const char * pCertFile,
                                    const uint8_t * pSignature,
                                    size_t signatureLength,
                                    HilCryptoResult_t * pCryptoResult );
} HilPal_t;

typedef enum HilOtaOutcome
{
    HilOtaAccepted = 0,              /* signature valid: the image waits for activation (self_test "ready") or the
                                      * file is complete (a fileType other than firmware: SUCCEEDED) */
    HilOtaSelfTestStarted,           /* a self-test job with a valid version on a PendingCommit platform */
    HilOtaNoActiveJob,               /* no job in the document, or an empty job document */
    HilOtaRejectedJobDocument,       /* the agent refused the document (see jobErr, docErr, otaErr) */
    HilOtaRejectedProtocol,          /* protocols has neither "MQTT" nor "HTTP" */
    HilOtaRejectedBlock,             /* a block of the wrong size: the file is shorter than filesize */
    HilOtaRejectedWrite,             /* the PAL could not write into its partition: a block past its end (ingest -9,
                                      * palStatus Uninitialized) or, at the close, the trailer after the image
                                      * (ingest -3, palStatus FileClose) */
    HilOtaRejectedSignature,         /* the PAL's close failed (palStatus: SignatureCheckFailed or BadSignerCert;
                                      * a device-policy refusal is SignatureCheckFailed with a HIL_POLICY_SUB_* sub) */
    HilOtaRejectedVersion,           /* self test: same version or downgrade */
    HilOtaRejectedImageState,        /* self-test job and platform disagree */
    HilOtaInputError,                /* the PAL could not read the file (a host problem, not a device verdict) */
    HilOtaRejectedFileCreate         /* the PAL's createFile refused the file (palStatus, e.g. OtaPalRxFileTooLarge);
                                      * the job is aborted */
} HilOtaOutcome_t;

typedef struct HilOtaResult
{
    HilOtaOutcome_t outcome;
    HilJobParseErr_t jobErr;
    HilDocParseErr_t docErr;
    HilOtaErr_t otaErr;              /* OtaErr_t behind a rejection, 0 when none */
    HilPalStatus_t palStatus;        /* the close-file status (main << 24 | sub), or the createFile status that
                                      * aborted the job */
    int ingestResult;                /* IngestResult_t of the last block: -1 complete, -2 signature failed, ... */
    HilHash_t hash;
    HilCryptoResult_t cryptoResult;
    int mbedtlsError;                /* mbedTLS's error code when the verification failed */
    HilCertLookup_t certLookup;      /* not set when the PAL's closeFile hook ran */
    bool usedFallbackCertificate;
    HilImageState_t imageState;      /* the last state the agent set, Unknown when it set none */
    bool reset;                      /* the agent asked the PAL to reset the device */
    uint32_t bytesReceived;          /* bytes of the file received and hashed */
    uint32_t blockIndex;             /* the refused block, for HilOtaRejectedBlock and a refused write */
    uint32_t blockSize;
    uint8_t digest[ HIL_SHA256_LENGTH ];
    uint32_t statusCount;            /* job-status messages published */
    char lastStatus[ hilconfigSTATUS_MESSAGE_SIZE ];
} HilOtaResult_t;

typedef struct HilOtaContext
{
    HilJobDocument_t job;            /* its signature buffer persists across jobs, as the agent's static one */
    HilHasher_t hasher;
    HilLogger_t logger;
    char activeJobName[ hilconfigMAX_JOB_ID_LENGTH + 1U ];
    char status[ hilconfigSTATUS_MESSAGE_SIZE ];
    uint8_t block[ hilconfigFILE_BLOCK_SIZE ];
    uint8_t certificate[ hilconfigMAX_CERTIFICATE_SIZE ];
} HilOtaContext_t;

/* Prepares a context as a device does at boot: no active job, an empty signature buffer. */
void HIL_OtaInit( HilOtaContext_t * pContext );

/*
 * Runs one job document (`pJson`, `len` bytes) through the agent with `pSignatureKey` (NULL: hilconfigSIGNATURE_KEY)
 * naming the signature. The hash is SHA-1 when the key names sha1 (sig-sha1-rsa), SHA-256 otherwise. Fills *pResult
 * and returns its outcome.
 */
HilOtaOutcome_t HIL_OtaProcessJob( HilOtaContext_t * pContext,
                                   const HilPal_t * pPal,
                                   const char * pJson,
                                   size_t len,
                                   const char * pSignatureKey,
                                   HilOtaResult_t * pResult );

/* Names as FreeRTOS prints them: "OtaPalSignatureCheckFailed", "OtaErrDowngradeNotAllowed", ... */
const char * HIL_PalStatusName( uint32_t mainStatus );
const char * HIL_OtaErrName( HilOtaErr_t err );
const char * HIL_OtaOutcomeName( HilOtaOutcome_t outcome );

/* "1.2.3" for a version word. pBuffer needs 16 bytes. */
void HIL_FormatVersion( uint32_t version,
                        char * pBuffer,
                        size_t capacity );

#endif /* HIL_OTA_H */
