/*
 * The POSIX port of the TI CC3220SF's OTA PAL (aws/amazon-freertos vendors/ti/boards/cc3220_launchpad/ports/
 * ota_pal_for_aws/ota_pal.c): the POSIX port underneath (the received image is a file, log lines and job-status
 * messages go to the caller), and on top what the CC3220SF PAL does differently:
 *   - otaPal_CreateFileForRx refuses a file over 512 KiB (OtaPalRxFileTooLarge, sub 0x80000) before anything is
 *     written;
 *   - otaPal_CloseFile is sl_FsClose: the network processor model (hil_simplelink.h) authenticates the received bytes
 *     against the file system, here a directory (names relative to it), and the trusted-root catalog, here a
 *     directory of PEM or DER root certificates plus revoked.txt (the meaning `otarig verify --root-catalog` gives
 *     it); its code maps to a PAL status as otaPal_CloseFile maps it;
 *   - otaPal_SetPlatformImageState rolls the bundle back on Rejected and Aborted, and logs it.
 * Every line is logged with the PAL's text. The device's security-alert count and threshold are the caller's to set
 * (pPort->nwp) before the run; the close updates the count.
 */
#ifndef HIL_CC3220_PAL_H
#define HIL_CC3220_PAL_H

#include "hil_posix_pal.h"
#include "hil_simplelink.h"

typedef struct HilCc3220Port
{
    HilPosixPort_t posix;                      /* first: the PAL's pContext is this port */
    HilSlNwp_t nwp;                            /* security alerts so far and the lock threshold */
    char fileSystemDir[ 1024 ];                /* the network processor's file system root */
    HilSlBuffer_t * pRoots;                    /* the catalog, read by HIL_Cc3220PortOpen (heap) */
    size_t rootCount;
    HilSlFingerprint_t * pRevoked;
    size_t revokedCount;
    HilSlCatalog_t catalog;
    HilSlWorkspace_t workspace;
    bool closed;                               /* the close ran ... */
    HilSlEvidence_t evidence;                  /* ... and found this */
    HilPalStatus_t ( * posixSetImageState )( void * pContext,
                                             HilImageState_t state );
} HilCc3220Port_t;

/*
 * Opens the image (POSIX port, no fallback certificate), points the file system at pFileSystemDir and reads the
 * catalog from pCatalogDir (every regular file but revoked.txt is a root: one DER certificate, or PEM with one or more;
 * revoked.txt holds fingerprints, see HIL_SlParseRevocationList). The port must be zeroed; nwp starts factory-fresh.
 * Returns 0, or -1 with a message naming the file in pPort->posix.error. Call HIL_Cc3220PortClose in both cases.
 */
int HIL_Cc3220PortOpen( HilCc3220Port_t * pPort,
                        const char * pImagePath,
                        const char * pFileSystemDir,
                        const char * pCatalogDir );

/* Points a PAL at the port: the POSIX PAL with the CC3220SF's createFile, closeFile and setImageState. */
void HIL_Cc3220PortBind( HilCc3220Port_t * pPort,
                         HilPal_t * pPal );

/* Closes the image and frees the catalog. */
void HIL_Cc3220PortClose( HilCc3220Port_t * pPort );

/* A HilSlFileSystem_t lookup over a directory: pContext is the directory path (NUL-terminated). */
HilSlLookup_t HIL_Cc3220DirectoryLookup( void * pContext,
                                         const char * pName,
                                         uint8_t * pBuffer,
                                         size_t capacity,
                                         size_t * pLength );

/*
 * Reads a catalog directory into heap memory the caller frees with HIL_Cc3220FreeCatalog. Returns 0, or -1 with a
 * message in pError.
 */
int HIL_Cc3220LoadCatalog( const char * pCatalogDir,
                           HilSlBuffer_t ** ppRoots,
                           size_t * pRootCount,
                           HilSlFingerprint_t ** ppRevoked,
                           size_t * pRevokedCount,
                           char * pError,
                           size_t errorCapacity );

void HIL_Cc3220FreeCatalog( HilSlBuffer_t * pRoots,
                            size_t rootCount,
                            HilSlFingerprint_t * pRevoked );

#endif /* HIL_CC3220_PAL_H */
