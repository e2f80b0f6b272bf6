/*
 * Job-document parsing with the FreeRTOS v3 OTA agent's rules. Our implementation of the behaviour of
 * aws/ota-for-aws-iot-embedded-sdk source/ota.c @477ee9a5 (otaJobDocModelParamStructure, parseJSONbyModel,
 * validateAndStartJob): the 21-entry model searched in order, file keys searched again inside the files array, values
 * taken raw, the validation result kept only until the first stored parameter, then the job checks of
 * validateAndStartJob and the custom-job fallback.
 */
#include "hil_jobdoc.h"

#include <string.h>

#include "hil_json.h"
#include "hil_number.h"

typedef enum
{
    KindDontStore,  /* found is enough (StringInDoc, Object, and the unstored UInt32 timestamp) */
    KindNested,     /* the files array: later keys are searched inside it */
    KindString,     /* StringCopy / ArrayCopy into a caller buffer */
    KindUInt32,
    KindIdent,
    KindSignature
} Kind_t;

typedef struct
{
    const char * key;
    bool required;
    Kind_t kind;
} Param_t;

/* otaJobDocModelParamStructure, in its order (ota.c). The signature key is the PAL's; see HIL_ParseJobDocument. */
static const Param_t model[ HilParamCount ] =
{
    { "clientToken",                              false, KindDontStore },
    { "timestamp",                                false, KindDontStore },
    { "execution",                                true,  KindDontStore },
    { "execution.jobId",                          true,  KindString    },
    { "execution.statusDetails",                  false, KindDontStore },
    { "execution.statusDetails.self_test",        false, KindIdent     },
    { "execution.statusDetails.updatedBy",        false, KindUInt32    },
    { "execution.jobDocument",                    true,  KindDontStore },
    { "execution.jobDocument.afr_ota",            true,  KindDontStore },
    { "execution.jobDocument.afr_ota.streamname", false, KindString    },
    { "execution.jobDocument.afr_ota.protocols",  true,  KindString    },
    { "execution.jobDocument.afr_ota.files",      true,  KindNested    },
    { "filepath",                                 false, KindString    },
    { "filesize",                                 true,  KindUInt32    },
    { "fileid",                                   true,  KindUInt32    },
    { "certfile",                                 false, KindString    },
    { "update_data_url",                          false, KindString    },
    { "auth_scheme",                              false, KindString    },
    { NULL,                                       false, KindSignature },
    { "attr",                                     false, KindUInt32    },
    { "fileType",                                 false, KindUInt32    }
};

/* clientToken and timestamp only: EMPTY_JOB_DOC_PARAMETER_BITMAP. */
#define EMPTY_JOB_DOC_BITMAP    3U

/* Where the value ends for the agent's signature log line, which strncpy's 32 bytes from the value's start: it
 * runs on past the value into the rest of the document, up to a NUL (here: also up to the document's end). */
static size_t signaturePreviewLength( const char * pValue,
                                      const char * pDocEnd )
{
    size_t n = 0U;

    while( ( n < 32U ) && ( ( pValue + n ) < pDocEnd ) && ( pValue[ n ] != '\0' ) )
    {
        n++;
    }

    return n;
}

static HilDocParseErr_t copyString( const char * pKey,
                                    char * pDest,
                                    size_t capacity,
                                    const char * pValue,
                                    size_t valueLen,
                                    HilLogger_t * pLogger )
{
    if( capacity < ( valueLen + 1U ) )
    {
        HIL_Log( pLogger, HilLogError, "Insufficient user memory: [key: valueLength]=[%s: %lu]", pKey, ( unsigned long ) valueLen );
        return HilDocParseErrUserBufferInsufficient;
    }

    ( void ) memcpy( pDest, pValue, valueLen );
    pDest[ valueLen ] = '\0';
    HIL_Log( pLogger, HilLogInfo, "Extracted parameter: [key: value]=[%s: %s]", pKey, pDest );
    return HilDocParseErrNone;
}

static HilDocParseErr_t extract( HilJobParam_t param,
                                 const char * pKey,
                                 const char * pValue,
                                 size_t valueLen,
                                 const char * pDocEnd,
                                 HilJobDocument_t * pDoc,
                                 HilLogger_t * pLogger )
{
    uint32_t * pNumber = NULL;
    HilDocParseErr_t err = HilDocParseErrNone;

    switch( param )
    {
        case HilParamJobId:
            err = copyString( pKey, pDoc->jobId, sizeof( pDoc->jobId ), pValue, valueLen, pLogger );
            break;

        case HilParamStreamName:
            err = copyString( pKey, pDoc->streamName, sizeof( pDoc->streamName ), pValue, valueLen, pLogger );
            break;

        case HilParamProtocols:
            err = copyString( pKey, pDoc->protocols, sizeof( pDoc->protocols ), pValue, valueLen, pLogger );
            break;

        case HilParamFilePath:
            err = copyString( pKey, pDoc->filePath, sizeof( pDoc->filePath ), pValue, valueLen, pLogger );
            break;

        case HilParamCertFile:
            err = copyString( pKey, pDoc->certFile, sizeof( pDoc->certFile ), pValue, valueLen, pLogger );
            break;

        case HilParamUpdateDataUrl:
            err = copyString( pKey, pDoc->updateDataUrl, sizeof( pDoc->updateDataUrl ), pValue, valueLen, pLogger );
            break;

        case HilParamAuthScheme:
            err = copyString( pKey, pDoc->authScheme, sizeof( pDoc->authScheme ), pValue, valueLen, pLogger );
            break;

        case HilParamUpdatedBy:
            pNumber = &pDoc->updatedBy;
            break;

        case HilParamFileSize:
            pNumber = &pDoc->fileSize;
            break;

        case HilParamFileId:
            pNumber = &pDoc->fileId;
            break;

        case HilParamAttr:
            pNumber = &pDoc->fileAttributes;
            break;

        case HilParamFileType:
            pNumber = &pDoc->fileType;
            break;

        case HilParamSelfTest:
            pDoc->inSelfTest = true;
            break;

        case HilParamSignature:
        {
            size_t decoded = 0U;
            const HilBase64Status_t status = HIL_Base64Decode( pDoc->signature, sizeof( pDoc->signature ), &decoded,
                                                               ( const uint8_t * ) pValue, valueLen );

            if( status != HilBase64Success )
            {
                HIL_Log( pLogger, HilLogError, "Failed to decode Base64 data: base64Decode returned error: error=%d", ( int ) status );
                pDoc->base64Status = status;
                err = HilDocParseErrBase64Decode;
            }
            else
            {
                HIL_Log( pLogger, HilLogInfo, "Extracted parameter [ %s: %.*s... ]", pKey,
                         ( int ) signaturePreviewLength( pValue, pDocEnd ), pValue );
                pDoc->signatureSize = ( uint16_t ) decoded;
            }

            break;
        }

        default:
            break;
    }

    if( pNumber != NULL )
    {
        if( HIL_ParseUInt32( pValue, valueLen, pNumber ) != 0 )
        {
            err = HilDocParseErrInvalidNumChar;
        }
        else
        {
            HIL_Log( pLogger, HilLogInfo, "Extracted parameter: [key: value]=[%s: %u]", pKey, ( unsigned ) *pNumber );
        }
    }

    return err;
}

/* Whether a job of `fileSize` needs more blocks than the bitmap tracks. The block count is computed in the
 * device's unsigned long, which wraps on a 32-bit MCU for sizes within a block of UINT32_MAX. */
static bool tooManyBlocks( uint32_t fileSize )
{
    const uint64_t mask = ( hilconfigULONG_BITS >= 64U ) ? UINT64_MAX : ( ( ( uint64_t ) 1U << hilconfigULONG_BITS ) - 1U );
    const uint64_t rounded = ( ( uint64_t ) fileSize + ( uint64_t ) ( hilconfigFILE_BLOCK_SIZE - 1U ) ) & mask;
    uint64_t blocks = rounded;
    uint32_t size = hilconfigFILE_BLOCK_SIZE;

    while( size > 1U )
    {
        blocks >>= 1;
        size >>= 1;
    }

    return blocks > ( ( uint64_t ) hilconfigMAX_BLOCK_BITMAP_SIZE * 8U );
}

HilJobParseErr_t HIL_ParseJobDocument( const char * pJson,
                                       size_t len,
                                       const char * pSignatureKey,
                                       HilJobDocument_t * pDoc )
{
    return HIL_ParseJobDocumentLogged( pJson, len, pSignatureKey, pDoc, NULL );
}

HilJobParseErr_t HIL_ParseJobDocumentLogged( const char * pJson,
                                             size_t len,
                                             const char * pSignatureKey,
                                             HilJobDocument_t * pDoc,
                                             HilLogger_t * pLogger )
{
    HilJsonStatus_t validation;
    const char * pFiles = NULL;
    size_t filesLen = 0U;
    HilDocParseErr_t err;
    uint32_t index;
    uint8_t keptSignature[ hilconfigMAX_SIGNATURE_SIZE ];
    uint16_t keptSignatureSize;

    if( pDoc == NULL )
    {
        return HilJobParseErrNullJob;
    }

    /* Every field starts empty, except the signature buffer, which keeps the previous job's bytes. */
    keptSignatureSize = pDoc->signatureSize;
    ( void ) memcpy( keptSignature, pDoc->signature, sizeof( keptSignature ) );
    ( void ) memset( pDoc, 0, sizeof( *pDoc ) );
    pDoc->signatureSize = keptSignatureSize;
    ( void ) memcpy( pDoc->signature, keptSignature, sizeof( keptSignature ) );

    if( pJson == NULL )
    {
        pDoc->docErr = HilDocParseErrMalformedDoc;
        pDoc->jobErr = HilJobParseErrNoActiveJobs;
        return pDoc->jobErr;
    }

    validation = HIL_JsonValidate( pJson, len );
    pDoc->jsonValid = ( validation == HilJsonSuccess ) ? 1 : 0;
    err = ( pDoc->jsonValid != 0 ) ? HilDocParseErrNone : HilDocParseErrInvalidJSONBuffer;

    if( pDoc->jsonValid == 0 )
    {
        HIL_Log( pLogger, HilLogError, "Invalid JSON document: JSON_Validate returned error: JSONStatus_t=%d", HIL_JsonCoreStatus( validation ) );
    }

    for( index = 0U; index < ( uint32_t ) HilParamCount; index++ )
    {
        const Param_t * pParam = &model[ index ];
        const char * pKey = ( pParam->kind == KindSignature ) ? ( ( pSignatureKey != NULL ) ? pSignatureKey : hilconfigSIGNATURE_KEY ) : pParam->key;
        const char * pValue = NULL;
        size_t valueLen = 0U;
        HilJsonStatus_t found = HIL_JsonSearch( pJson, len, pKey, strlen( pKey ), &pValue, &valueLen, NULL );

        if( ( found != HilJsonSuccess ) && ( pFiles != NULL ) )
        {
            found = HIL_JsonSearch( pFiles, filesLen, pKey, strlen( pKey ), &pValue, &valueLen, NULL );
        }

        if( found != HilJsonSuccess )
        {
            continue;
        }

        pDoc->received |= ( 1U << index );

        if( pParam->kind == KindDontStore )
        {
            /* The agent skips the error check too: a validation failure survives until the next stored value. */
            continue;
        }

        if( pParam->kind == KindNested )
        {
            /* The array's text without its first and last byte. The agent does this with no check of the type or
             * length; a value shorter than two bytes would make it read past the document, so it counts as empty. */
            if( valueLen >= 2U )
            {
                pFiles = pValue + 1;
                filesLen = valueLen - 2U;
            }
            else
            {
                pFiles = pValue;
                filesLen = 0U;
            }
        }
        else
        {
            err = extract( ( HilJobParam_t ) index, pKey, pValue, valueLen, &pJson[ len ], pDoc, pLogger );
        }

        if( err != HilDocParseErrNone )
        {
            break;
        }
    }

    if( err == HilDocParseErrNone )
    {
        uint32_t requiredBits = 0U;

        for( index = 0U; index < ( uint32_t ) HilParamCount; index++ )
        {
            if( model[ index ].required )
            {
                requiredBits |= ( 1U << index );
            }
        }

        if( ( pDoc->received & requiredBits ) != requiredBits )
        {
            err = HilDocParseErrMalformedDoc;
        }

        if( pDoc->received == EMPTY_JOB_DOC_BITMAP )
        {
            err = HilDocParseErrEmptyJobDoc;
        }
    }

    pDoc->docErr = err;

    if( err != HilDocParseErrNone )
    {
        HIL_Log( pLogger, HilLogWarn, "Failed to parse JSON document as AFR_OTA job: DocParseErr_t=%d", ( int ) err );
    }

    if( err == HilDocParseErrNone )
    {
        if( pDoc->fileSize == 0U )
        {
            pDoc->jobErr = HilJobParseErrZeroFileSize;
        }
        else if( tooManyBlocks( pDoc->fileSize ) )
        {
            pDoc->jobErr = HilJobParseErrBadModelInitParams;
        }
        else
        {
            pDoc->jobErr = HilJobParseErrNone;

            /* getFileContextFromJob: OTA_MAX_FILE_SIZE is UINT32_MAX - block size + 1. */
            if( pDoc->fileSize > ( UINT32_MAX - hilconfigFILE_BLOCK_SIZE + 1U ) )
            {
                pDoc->otaErr = HilOtaErrFileSizeOverflow;
            }
        }
    }
    else
    {
        /* handleCustomJob: a document with a job document and a usable job id is a custom job, which this device
         * does not parse; without them there is no active job. */
        const char * pValue;
        size_t jobIdLen = 0U;
        const bool hasJobDocument = HIL_JsonSearch( pJson, len, "execution.jobDocument", 21U, &pValue, &jobIdLen, NULL ) == HilJsonSuccess;
        const bool hasJobId = HIL_JsonSearch( pJson, len, "execution.jobId", 15U, &pValue, &jobIdLen, NULL ) == HilJsonSuccess;

        if( hasJobDocument && hasJobId )
        {
            pDoc->jobErr = HilJobParseErrNonConformingJobDoc;

            if( ( jobIdLen > 0U ) && ( jobIdLen <= hilconfigMAX_JOB_ID_LENGTH ) )
            {
                /* The agent keeps this name to report the failure on. */
                ( void ) memcpy( pDoc->jobId, pValue, jobIdLen );
                pDoc->jobId[ jobIdLen ] = '\0';
            }
        }
        else
        {
            pDoc->jobErr = HilJobParseErrNoActiveJobs;
        }

        if( err == HilDocParseErrEmptyJobDoc )
        {
            pDoc->otaErr = HilOtaErrEmptyJobDocument;
        }
    }

    return pDoc->jobErr;
}

HilOtaErr_t HIL_CheckProtocols( const HilJobDocument_t * pDoc )
{
    if( ( pDoc != NULL ) && ( ( strstr( pDoc->protocols, "\"MQTT\"" ) != NULL ) || ( strstr( pDoc->protocols, "\"HTTP\"" ) != NULL ) ) )
    {
        return HilOtaErrNone;
    }

    return HilOtaErrInvalidDataProtocol;
}

HilOtaErr_t HIL_CheckSelfTestVersion( const HilJobDocument_t * pDoc,
                                      uint32_t runningVersion )
{
    if( ( pDoc == NULL ) || ( hilconfigALLOW_DOWNGRADE != 0 ) || ( pDoc->fileId != 0U ) ||
        ( pDoc->fileType != hilconfigFIRMWARE_FILE_TYPE_ID ) )
    {
        return HilOtaErrNone;
    }

    if( pDoc->updatedBy == runningVersion )
    {
        return HilOtaErrSameFirmwareVersion;
    }

    return ( pDoc->updatedBy > runningVersion ) ? HilOtaErrDowngradeNotAllowed : HilOtaErrNone;
}

const char * HIL_JobParseErrName( HilJobParseErr_t err )
{
    switch( err )
    {
        case HilJobParseErrNone: return "OtaJobParseErrNone";
        case HilJobParseErrNullJob: return "OtaJobParseErrNullJob";
        case HilJobParseErrUpdateCurrentJob: return "OtaJobParseErrUpdateCurrentJob";
        case HilJobParseErrZeroFileSize: return "OtaJobParseErrZeroFileSize";
        case HilJobParseErrNonConformingJobDoc: return "OtaJobParseErrNonConformingJobDoc";
        case HilJobParseErrBadModelInitParams: return "OtaJobParseErrBadModelInitParams";
        case HilJobParseErrNoContextAvailable: return "OtaJobParseErrNoContextAvailable";
        case HilJobParseErrNoActiveJobs: return "OtaJobParseErrNoActiveJobs";
        default: return "OtaJobParseErrUnknown";
    }
}
