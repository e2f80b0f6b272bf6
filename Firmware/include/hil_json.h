/*
 * JSON validation and key search with the semantics the FreeRTOS OTA agent relies on (coreJSON's JSON_Validate
 * and JSON_SearchConst): values come back as pointers into the caller's buffer, strings without their quotes and
 * NOT unescaped, the first of duplicate keys wins, and a search succeeds when the path to the key is well formed
 * even if the rest of the document is not.
 */
#ifndef HIL_JSON_H
#define HIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "hil_config_defaults.h"

typedef enum HilJsonStatus
{
    HilJsonSuccess = 0,
    HilJsonNullParameter,
    HilJsonBadParameter,       /* An empty or malformed query. */
    HilJsonIllegalDocument,    /* Not valid JSON. */
    HilJsonMaxDepthExceeded,   /* Nested deeper than hilconfigJSON_MAX_DEPTH. */
    HilJsonPartial,            /* Valid so far, but the buffer ended first. */
    HilJsonNotFound
} HilJsonStatus_t;

typedef enum HilJsonType
{
    HilJsonInvalid = 0,
    HilJsonString,
    HilJsonNumber,
    HilJsonTrue,
    HilJsonFalse,
    HilJsonNull,
    HilJsonObject,
    HilJsonArray
} HilJsonType_t;

/* Whether buf[0, len) is one JSON value (any type) with only whitespace around it. */
/* coreJSON's JSONStatus_t number for a status, as the agent logs it ("JSONStatus_t=%d"). */
int HIL_JsonCoreStatus( HilJsonStatus_t status );

HilJsonStatus_t HIL_JsonValidate( const char * pBuf,
                                  size_t len );

/*
 * Finds the value at `query` ("a.b.c", "files[0].filesize") in buf[0, len), which must be an object or an array.
 * On success *ppValue points into the buffer: for a string, its content without the quotes; for an object or an
 * array, the text including its brackets; otherwise the literal's text.
 */
HilJsonStatus_t HIL_JsonSearch( const char * pBuf,
                                size_t len,
                                const char * pQuery,
                                size_t queryLen,
                                const char ** ppValue,
                                size_t * pValueLen,
                                HilJsonType_t * pType );

#endif /* HIL_JSON_H */
