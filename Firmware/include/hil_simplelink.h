/*
 * A model of the TI CC3220SF network processor's signed close (sl_FsClose on a file created SECURE and signed), as
 * otarig models it: /work/spec/simplelink-close.md, the shared spec the Swift twin follows too. Its sources are
 * TI's CC32xx SDK fs.h and errors.h, SWPU332A as quoted on TI E2E, awsdocs burn-initial-firmware-ti.md (see
 * shared/reference/cc3220-bootloader.md §5) and the FreeRTOS CC3220SF PAL (aws/amazon-freertos
 * vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c, otaPal_CloseFile / otaPal_CreateFileForRx).
 * What TI documents is marked [TI] in hil_simplelink.c; the rest (the order of the checks, the chain-length limit,
 * the exact timing of the lock, names with "..") is OURS: TI does not document it.
 *
 * The caller owns all memory: the file system and the trusted-root catalog are reached through the structs below,
 * the certificate files are read into the caller's workspace, and the device's security-alert count lives in the
 * caller's HilSlNwp_t. mbedTLS allocates while it parses certificates, as it does on a device.
 */
#ifndef HIL_SIMPLELINK_H
#define HIL_SIMPLELINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil_config_defaults.h"
#include "hil_crypto.h"
#include "hil_ota.h"

/* SimpleLink return codes (TI CC32xx SDK errors.h). */
#define HIL_SL_RET_CODE_OK                                      ( 0 )
#define HIL_SL_ERROR_FS_NO_CERTIFICATE_STORE                    ( -10242 )
#define HIL_SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT ( -10273 )
#define HIL_SL_ERROR_FS_INIT_CERTIFICATE_STORE                  ( -10274 )
#define HIL_SL_ERROR_FS_FILE_IS_NOT_SECURE_AND_SIGN             ( -10286 )
#define HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN                       ( -10287 )
#define HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT          ( -10289 )
#define HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH ( -10290 )
#define HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT         ( -10292 )
#define HIL_SL_ERROR_FS_FILE_MAX_SIZE_EXCEEDED                  ( -10310 )
#define HIL_SL_ERROR_FS_FILE_NOT_EXISTS                         ( -10341 )
#define HIL_SL_ERROR_FS_ILLEGAL_SIGNATURE                       ( -10363 )
#define HIL_SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME             ( -10372 )
#define HIL_SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT               ( -28674 )

/* SL_FS_MAX_FILE_NAME_LENGTH (fs.h): the longest file name, in bytes. */
#define HIL_SL_MAX_FILE_NAME_LENGTH                             180U

/* The largest signature sl_FsClose takes: "RSA 256 or 128 bytes" [TI]. */
#define HIL_SL_MAX_SIGNATURE_LENGTH                             256U

/* OURS: a chain follows at most 3 issuer files. */
#define HIL_SL_MAX_ISSUER_FILES                                 3U

/* Certificates the evidence can list: the signer and up to 3 issuer files and the catalog root, or the 4 issuer
 * files of a chain that is too long. */
#define HIL_SL_MAX_CHAIN                                        ( HIL_SL_MAX_ISSUER_FILES + 2U )

/* Room for one certificate's subject as mbedtls_x509_dn_gets writes it ("CN=..., O=..."). */
#define HIL_SL_SUBJECT_SIZE                                     160U

/* Room for the evidence's detail text. */
#define HIL_SL_DETAIL_SIZE                                      640U

/* The file size otaPal_CreateFileForRx accepts (OTA_MAX_MCU_IMAGE_SIZE, 512 KiB). */
#define HIL_SL_MAX_MCU_IMAGE_SIZE                               ( 512UL * 1024UL )

/* The vendor token the CC3220SF PAL creates the OTA file with (OTA_VENDOR_TOKEN). */
#define HIL_SL_OTA_VENDOR_TOKEN                                 1952007250UL

/* What a file-system lookup finds. */
typedef enum HilSlLookup
{
    HilSlFileFound = 0,
    HilSlFileNotFound,
    HilSlFileTooLarge    /* the file is there but larger than the buffer */
} HilSlLookup_t;

/*
 * The network processor's file system. lookup copies the file called pName (relative to the file system's root; the
 * model has already dropped one leading "/" and refused empty names and names with "..") into pBuffer and sets
 * *pLength. May be NULL: an empty file system.
 */
typedef struct HilSlFileSystem
{
    void * pContext;
    HilSlLookup_t ( * lookup )( void * pContext,
                                const char * pName,
                                uint8_t * pBuffer,
                                size_t capacity,
                                size_t * pLength );
} HilSlFileSystem_t;

/* A byte string the caller owns. */
typedef struct HilSlBuffer
{
    const uint8_t * pData;
    size_t length;
} HilSlBuffer_t;

/* A certificate fingerprint: SHA-1 (20 bytes) or SHA-256 (32 bytes) of its DER. */
typedef struct HilSlFingerprint
{
    uint8_t length;
    uint8_t bytes[ HIL_SHA256_LENGTH ];
} HilSlFingerprint_t;

/* The Trusted Root-Certificate Catalog: DER roots, and the revoked certificates' fingerprints (revoked.txt). */
typedef struct HilSlCatalog
{
    const HilSlBuffer_t * pRoots;
    size_t rootCount;
    const HilSlFingerprint_t * pRevoked;
    size_t revokedCount;
} HilSlCatalog_t;

/* The device's tamper state: security alerts counted so far, and the count that locks the device (0: the default,
 * hilconfigSL_SECURITY_ALERT_THRESHOLD, 15). */
typedef struct HilSlNwp
{
    uint32_t securityAlerts;
    uint32_t alertThreshold;
} HilSlNwp_t;

/* What sl_FsClose is handed: the certificate file name, the signature, and the SHA-1 of the file's bytes. */
typedef struct HilSlClose
{
    const char * pCertName;                   /* NUL-terminated; NULL is an empty name */
    const uint8_t * pSignature;
    size_t signatureLength;
    uint8_t fileSha1[ HIL_SHA1_LENGTH ];
} HilSlClose_t;

/* Where the model reads certificate files. */
typedef struct HilSlWorkspace
{
    uint8_t file[ hilconfigSL_MAX_CERTIFICATE_FILE_SIZE ];
} HilSlWorkspace_t;

/* One certificate of the chain the close walked. */
typedef struct HilSlChainEntry
{
    char subject[ HIL_SL_SUBJECT_SIZE ];                  /* mbedtls_x509_dn_gets text */
    char file[ HIL_SL_MAX_FILE_NAME_LENGTH + 1U ];        /* the file it came from; "" for the catalog root */
} HilSlChainEntry_t;

/* What the close found, for logs and reports. */
typedef struct HilSlEvidence
{
    int32_t code;                             /* what HIL_SlFsClose returned */
    bool securityAlert;                       /* the code counted as a security alert */
    uint32_t securityAlerts;                  /* the device's count after this close */
    bool locked;                              /* the device is locked after this close */
    bool certFileLookedUp;                    /* the certificate file was looked up ... */
    HilSlLookup_t certFileLookup;             /* ... with this result */
    size_t chainLength;                       /* entries in chain: signer first, then issuer files, then the root */
    HilSlChainEntry_t chain[ HIL_SL_MAX_CHAIN ];
    int32_t rootIndex;                        /* the catalog root the chain ends in, -1 for none */
    uint32_t signerKeyBits;                   /* the signer's RSA modulus in bits, 0 when not known */
    char detail[ HIL_SL_DETAIL_SIZE ];        /* one sentence: why, or what verified */
} HilSlEvidence_t;

/* A device as it leaves the factory: no alerts, the default threshold. */
void HIL_SlNwpInit( HilSlNwp_t * pNwp );

/*
 * sl_FsClose of a secure, signed file: the checks of the spec in its order, first failure wins. Returns the
 * SimpleLink code (0 on success) and fills *pEvidence (optional). A *_SECURITY_ALERT result adds one to
 * pNwp->securityAlerts; once the count reaches the threshold every close returns
 * HIL_SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT and checks nothing. pFileSystem and pCatalog may be NULL (empty).
 */
int32_t HIL_SlFsClose( HilSlNwp_t * pNwp,
                       const HilSlFileSystem_t * pFileSystem,
                       const HilSlCatalog_t * pCatalog,
                       const HilSlClose_t * pClose,
                       HilSlWorkspace_t * pWorkspace,
                       HilSlEvidence_t * pEvidence );

/* The errors.h name of a SimpleLink code: "SL_ERROR_FS_ROOT_CA_IS_UNKOWN", "SL_RET_CODE_OK", ...;
 * "SL_ERROR_UNKNOWN" for a code the model does not know. */
const char * HIL_SlErrorName( int32_t code );

/* The code counts towards the tamper lock (its name ends in SECURITY_ALERT: -10289, -10292, -10273). */
bool HIL_SlIsSecurityAlert( int32_t code );

/*
 * otaPal_CloseFile's mapping (aws/amazon-freertos vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c):
 * 0 -> OtaPalSuccess; -10289, -10290, -10273, -10274, -10287, -10292, -10341, -10363, -10372, -10242 ->
 * OtaPalSignatureCheckFailed; any other code -> OtaPalFileClose; the sub-code is the code's low 24 bits.
 */
HilPalStatus_t HIL_SlPalStatusForClose( int32_t code );

/*
 * Parses a revoked.txt: one SHA-1 or SHA-256 fingerprint (hex, colons allowed) per line, "#" starts a comment,
 * blank lines are skipped. Writes at most `capacity` fingerprints to pFingerprints (NULL with capacity 0 counts them)
 * and the number of fingerprints in the text to *pCount. Returns 0, or the 1-based number of the first line that is
 * not a fingerprint.
 */
size_t HIL_SlParseRevocationList( const char * pText,
                                  size_t length,
                                  HilSlFingerprint_t * pFingerprints,
                                  size_t capacity,
                                  size_t * pCount );

#endif /* HIL_SIMPLELINK_H */
