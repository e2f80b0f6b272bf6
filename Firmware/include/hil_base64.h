/*
 * Base64 decoding with the FreeRTOS OTA agent's rules (its job-document signature decoder): standard alphabet,
 * CR and LF ignored anywhere, spaces only at the end, at most two '=' only at the end, padding optional and not
 * checked against the length, non-zero leftover bits refused. Status values are the agent's Base64Status_t.
 */
#ifndef HIL_BASE64_H
#define HIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

typedef enum HilBase64Status
{
    HilBase64Success = 0,
    HilBase64InvalidSymbol = 1,
    HilBase64InvalidSymbolOrdering = 2,
    HilBase64InvalidInputSize = 3,
    HilBase64NullPointerInput = 4,
    HilBase64InvalidBufferSize = 5,
    HilBase64NonZeroPadding = 6,
    HilBase64InvalidPaddingSymbol = 7
} HilBase64Status_t;

/* Decodes pSrc[0, srcLen) into pDest (capacity destCapacity); *pDecodedLen is set on success. */
HilBase64Status_t HIL_Base64Decode( uint8_t * pDest,
                                    size_t destCapacity,
                                    size_t * pDecodedLen,
                                    const uint8_t * pSrc,
                                    size_t srcLen );

/* The status's name as the agent logs it ("Base64InvalidSymbol"). */
const char * HIL_Base64StatusName( HilBase64Status_t status );

#endif /* HIL_BASE64_H */
