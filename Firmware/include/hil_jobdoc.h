/*
 * The OTA job document as the FreeRTOS v3 agent parses it (aws/ota-for-aws-iot-embedded-sdk source/ota.c:
 * the job-document model, parseJSONbyModel, validateAndStartJob, handleCustomJob, validateUpdateVersion).
 * The caller owns the HilJobDocument_t; nothing is allocated.
 */
#ifndef HIL_JOBDOC_H
#define HIL_JOBDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil_base64.h"
#include "hil_config_defaults.h"
#include "hil_log.h"

/* DocParseErr_t (ota_private.h). */
typedef enum HilDocParseErr
{
    HilDocParseErrUnknown = -1,
    HilDocParseErrNone = 0,
    HilDocParseErrOutOfMemory = 1,
    HilDocParseErrUserBufferInsufficient = 2,
    HilDocParseErrFieldTypeMismatch = 3,
    HilDocParseErrBase64Decode = 4,
    HilDocParseErrInvalidNumChar = 5,
    HilDocParseErrDuplicatesNotAllowed = 6,
    HilDocParseErrMalformedDoc = 7,
    HilDocParseErrInvalidJSONBuffer = 8,
    HilDocParseErrEmptyJobDoc = 16
} HilDocParseErr_t;

/* OtaJobParseErr_t (ota.h). */
typedef enum HilJobParseErr
{
    HilJobParseErrUnknown = -1,
    HilJobParseErrNone = 0,
    HilJobParseErrNullJob = 1,
    HilJobParseErrUpdateCurrentJob = 2,
    HilJobParseErrZeroFileSize = 3,
    HilJobParseErrNonConformingJobDoc = 4,
    HilJobParseErrBadModelInitParams = 5,
    HilJobParseErrNoContextAvailable = 6,
    HilJobParseErrNoActiveJobs = 7
} HilJobParseErr_t;

/* The OtaErr_t values the verifier reports (ota.h). */
typedef enum HilOtaErr
{
    HilOtaErrNone = 0,
    HilOtaErrJobParserError = 12,
    HilOtaErrInvalidDataProtocol = 13,
    HilOtaErrDowngradeNotAllowed = 15,
    HilOtaErrSameFirmwareVersion = 16,
    HilOtaErrImageStateMismatch = 17,
    HilOtaErrFileSizeOverflow = 23,
    HilOtaErrEmptyJobDocument = 24
} HilOtaErr_t;

/* Bits of HilJobDocument_t.received, in the model's order. */
typedef enum HilJobParam
{
    HilParamClientToken = 0, HilParamTimestamp, HilParamExecution, HilParamJobId, HilParamStatusDetails, HilParamSelfTest,
    HilParamUpdatedBy, HilParamJobDocument, HilParamAfrOta, HilParamStreamName, HilParamProtocols, HilParamFiles,
    HilParamFilePath, HilParamFileSize, HilParamFileId, HilParamCertFile, HilParamUpdateDataUrl, HilParamAuthScheme,
    HilParamSignature, HilParamAttr, HilParamFileType, HilParamCount
} HilJobParam_t;

typedef struct HilJobDocument
{
    uint32_t received;                                  /* bit per HilJobParam_t found in the document */
    char jobId[ hilconfigMAX_JOB_ID_LENGTH + 1U ];
    char protocols[ hilconfigPROTOCOLS_BUFFER_SIZE ];  /* the raw array text, e.g. ["MQTT"] */
    char streamName[ hilconfigSTREAM_NAME_BUFFER_SIZE ];
    char filePath[ hilconfigFILE_PATH_BUFFER_SIZE ];
    char certFile[ hilconfigCERT_FILE_BUFFER_SIZE ];
    char updateDataUrl[ hilconfigURL_BUFFER_SIZE ];
    char authScheme[ hilconfigAUTH_SCHEME_BUFFER_SIZE ];
    uint32_t fileSize;
    uint32_t fileId;
    uint32_t fileAttributes;
    uint32_t fileType;
    uint32_t updatedBy;
    bool inSelfTest;
    HilBase64Status_t base64Status;                     /* of the signature, when its decode failed */
    uint16_t signatureSize;
    uint8_t signature[ hilconfigMAX_SIGNATURE_SIZE ];
    HilDocParseErr_t docErr;                            /* parseJSONbyModel's result */
    HilJobParseErr_t jobErr;                            /* the agent's verdict on the job */
    HilOtaErr_t otaErr;                                 /* EmptyJobDocument or FileSizeOverflow, found after parsing */
    int jsonValid;                                      /* whether the document passed JSON validation */
} HilJobDocument_t;

/*
 * Parses `pJson` as the agent does, with `pSignatureKey` (NULL: hilconfigSIGNATURE_KEY) naming the signature.
 * Returns the agent's OtaJobParseErr_t; pDoc->docErr says why the model parse failed, if it did. An empty job
 * document (only clientToken and timestamp) gives HilJobParseErrNoActiveJobs with docErr EmptyJobDoc.
 *
 * `pDoc->signature` keeps its previous contents when the document has no signature key, as the agent's static
 * signature buffer does: initialise it once and reuse it to reproduce a device that parses several documents.
 */
HilJobParseErr_t HIL_ParseJobDocument( const char * pJson,
                                       size_t len,
                                       const char * pSignatureKey,
                                       HilJobDocument_t * pDoc );

/* The same, printing the agent's log lines for the parse ("Extracted parameter: ...", "Invalid JSON document: ...",
 * "Failed to parse JSON document as AFR_OTA job: ...") through pLogger (may be NULL). */
HilJobParseErr_t HIL_ParseJobDocumentLogged( const char * pJson,
                                             size_t len,
                                             const char * pSignatureKey,
                                             HilJobDocument_t * pDoc,
                                             HilLogger_t * pLogger );

/* The data protocol check: the protocols text must contain "MQTT" or "HTTP" (ota_interface.c setDataInterface). */
HilOtaErr_t HIL_CheckProtocols( const HilJobDocument_t * pDoc );

/* Anti-rollback in self test (ota.c validateUpdateVersion): updatedBy against the running version
 * (major << 24 | minor << 16 | build), only for fileid 0 and the firmware file type. */
HilOtaErr_t HIL_CheckSelfTestVersion( const HilJobDocument_t * pDoc,
                                      uint32_t runningVersion );

const char * HIL_JobParseErrName( HilJobParseErr_t err );

#endif /* HIL_JOBDOC_H */
