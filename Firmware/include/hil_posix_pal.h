/*
 * The POSIX port of the verifier's PAL: the received file is a staged image on disk, certificates are files in a
 * directory (the job's certfile names one, as a label or a relative path), an optional PEM or DER file plays the
 * certificate compiled into the image, and the platform's image state lives in memory. Log lines and job-status
 * messages go to the caller's callbacks. Used by `otarig device-verify`, the simulated boards and the C tests.
 */
#ifndef HIL_POSIX_PAL_H
#define HIL_POSIX_PAL_H

#include <stdio.h>

#include "hil_ota.h"

typedef struct HilPosixPort
{
    FILE * pImage;
    char certDir[ 1024 ];
    uint32_t runningVersion;                   /* appFirmwareVersion */
    HilPalImageState_t platformState;          /* what getPlatformImageState reports; Valid after open */
    HilImageState_t lastState;                 /* the last state the agent set */
    HilPalStatus_t setStateStatus;             /* what setPlatformImageState returns (to model a failing PAL) */
    unsigned resetCount;
    void ( * log )( void * pContext, HilLogLevel_t level, const char * pLine );
    void ( * publishStatus )( void * pContext, const char * pJobId, const char * pStatusJson );
    void * pCallbackContext;                   /* passed to log and publishStatus */
    size_t fallbackLength;                     /* 0: no compiled-in certificate */
    uint8_t fallback[ hilconfigMAX_CERTIFICATE_SIZE ];
    char error[ 1200 ];                        /* why HIL_PosixPortOpen failed */
    bool hasTime;                              /* the device has a trusted clock (currentTime answers) ... */
    int64_t unixTime;                          /* ... reading this (unix seconds) */
    HilPolicyConfig_t policy;                  /* the opt-in device policy; checks 0: the stock PAL */
    size_t listSignerLength;
    uint8_t listSigner[ hilconfigMAX_CERTIFICATE_SIZE ];
    uint32_t partitionSize;                    /* HilPal_t.partitionSize: 0, unlimited */
    uint32_t closeTrailerSize;                 /* HilPal_t.closeTrailerSize: 0, none */
} HilPosixPort_t;

/*
 * Opens the image and, when pFallbackCertificatePath is not NULL, reads the fallback certificate. The port must be
 * zeroed or fresh. Returns 0, or -1 with a message naming the file in pPort->error.
 */
int HIL_PosixPortOpen( HilPosixPort_t * pPort,
                       const char * pImagePath,
                       const char * pCertDir,
                       const char * pFallbackCertificatePath );

/*
 * Turns on the device policy (`checks`: HIL_POLICY_CHECK_* bits) before HIL_PosixPortBind. The revocation list stays
 * in the caller's memory (NULL: none provisioned). The list signer's certificate is copied as a device stores it
 * (PEM gets its NUL); when pCertificate is NULL it is read from the certificate directory under
 * HIL_POLICY_LIST_SIGNER_LABEL, as the code-signing certificate is, and a missing file leaves it unprovisioned.
 * Returns 0, or -1 with a message in pPort->error when the given certificate does not fit or the file is unreadable.
 */
int HIL_PosixPortSetPolicy( HilPosixPort_t * pPort,
                            uint32_t checks,
                            const uint8_t * pRevocationList,
                            size_t revocationListLength,
                            const uint8_t * pCertificate,
                            size_t certificateLength );

/* Points a PAL at the port. */
void HIL_PosixPortBind( HilPosixPort_t * pPort,
                        HilPal_t * pPal );

void HIL_PosixPortClose( HilPosixPort_t * pPort );

/*
 * Reads a certificate file as a device stores it for mbedTLS: PEM gets a NUL appended and counted, DER is kept as it
 * is. Returns HilCertFound, HilCertNotFound (no such file) or HilCertUnreadable (empty, unreadable, too large).
 */
HilCertLookup_t HIL_PosixReadCertificate( const char * pPath,
                                          uint8_t * pBuffer,
                                          size_t capacity,
                                          size_t * pLength );

/* 1 when the bytes hold a PEM block ("-----BEGIN" anywhere), else 0: how the ports tell PEM from DER. */
int HIL_PosixLooksLikePem( const uint8_t * pData,
                           size_t length );

#endif /* HIL_POSIX_PAL_H */
