/*
 * An opt-in device policy: checks a stock FreeRTOS PAL does not make, run in the PAL's close step after the image
 * signature verified. A device that enables it refuses an update whose signer certificate is outside its validity
 * period at the device's trusted time, or whose signature is on a revocation list the rig provisioned beside the
 * code-signing certificate. A policy refusal is reported as a signature failure (OtaPalSignatureCheckFailed, 0xe3)
 * with one of the sub-codes below, so the agent rejects the image the way it rejects a bad signature.
 *
 * The checks run in this order, and the first refusal ends the close:
 *   1. certificate-validity (HIL_POLICY_CHECK_CERTIFICATE_VALIDITY): the signer certificate's notBefore/notAfter
 *      (as mbedtls_x509_crt reads them) against the PAL's currentTime. No currentTime, or one that returns false: the
 *      device has no trusted time, logs that it skips the check and goes on.
 *   2. revocation (HIL_POLICY_CHECK_REVOCATION): the revocation list (format in Boards/README.md: "OTRL", version 1,
 *      issuedAt, entries of SHA-256(signature) + reason + time, then a length-prefixed DER ECDSA signature over
 *      everything before it) must parse completely and verify with the list signer's certificate; then
 *      SHA-256 of the signature bytes from the job document must not be one of its entries. Fail closed: no list,
 *      a malformed list, a missing signer certificate or a list whose signature does not verify all refuse.
 *
 * The list is read in place; nothing is allocated by this code (mbedTLS allocates while parsing certificates, as in
 * the signature check).
 */
#ifndef HIL_POLICY_H
#define HIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil_log.h"

/* The checks, as bits of HilPolicyConfig_t.checks. */
#define HIL_POLICY_CHECK_CERTIFICATE_VALIDITY    0x01U
#define HIL_POLICY_CHECK_REVOCATION              0x02U

/* The label (PKCS#11) or file name (POSIX certificate directory) the revocation list signer's certificate is
 * provisioned under, beside the code-signing certificate. */
#define HIL_POLICY_LIST_SIGNER_LABEL             "otarig-revocation.crt"

/* Sub-codes of OtaPalSignatureCheckFailed (0xe3) for a policy refusal; 0 stays the stock "signature does not verify".
 * 0x50xx: certificate validity; 0x51xx: the revocation list itself; 0x52xx: the signature is revoked. */
#define HIL_POLICY_SUB_CERT_NOT_YET_VALID        0x005001U /* device time is before the signer's notBefore */
#define HIL_POLICY_SUB_CERT_EXPIRED              0x005002U /* device time is after the signer's notAfter */
#define HIL_POLICY_SUB_CERT_UNREADABLE           0x005003U /* the certificate's dates could not be read */
#define HIL_POLICY_SUB_LIST_MISSING              0x005101U /* revocation enabled, no list provisioned */
#define HIL_POLICY_SUB_LIST_MALFORMED            0x005102U /* bad magic, truncated, counts that do not add up, an
                                                            * unknown reason, bytes after the signature */
#define HIL_POLICY_SUB_LIST_VERSION              0x005103U /* a format version this device does not read */
#define HIL_POLICY_SUB_LIST_SIGNER_UNREADABLE    0x005104U /* no list signer certificate, or mbedTLS refuses it */
#define HIL_POLICY_SUB_LIST_SIGNATURE_INVALID    0x005105U /* the list's signature does not verify with it */
#define HIL_POLICY_SUB_SIGNATURE_REVOKED         0x005201U /* entry reason 1: the signing job was revoked */
#define HIL_POLICY_SUB_PROFILE_REVOKED           0x005202U /* entry reason 2: the signing profile version was revoked
                                                            * effective at or before the signing time */

/* The revocation list format (version 1). All integers are big-endian. */
#define HIL_REVOCATION_MAGIC                     "OTRL"
#define HIL_REVOCATION_VERSION                   1U
#define HIL_REVOCATION_HEADER_LENGTH             17U /* magic 4, version 1, issuedAt 8, entry count 4 */
#define HIL_REVOCATION_ENTRY_LENGTH              41U /* SHA-256 32, reason 1, time 8 */
#define HIL_REVOCATION_REASON_SIGNATURE          1U
#define HIL_REVOCATION_REASON_PROFILE            2U

typedef struct HilPolicyConfig
{
    uint32_t checks;                            /* HIL_POLICY_CHECK_* bits; 0 checks nothing */
    const uint8_t * pRevocationList;            /* NULL or empty: none provisioned */
    size_t revocationListLength;
    const uint8_t * pListSignerCertificate;     /* PEM with its NUL counted, or DER; NULL: none provisioned */
    size_t listSignerCertificateLength;
} HilPolicyConfig_t;

/* A revocation list read in place: the entries stay in the caller's buffer. */
typedef struct HilRevocationList
{
    uint8_t version;
    uint64_t issuedAt;
    uint32_t entryCount;
    const uint8_t * pEntries;                   /* entryCount * HIL_REVOCATION_ENTRY_LENGTH bytes */
    size_t signedLength;                        /* bytes the signature covers: the header and the entries */
    const uint8_t * pSignature;
    size_t signatureLength;
} HilRevocationList_t;

typedef enum HilRevocationParse
{
    HilRevocationParseOk = 0,
    HilRevocationParseMalformed,
    HilRevocationParseVersion
} HilRevocationParse_t;

/*
 * Reads a revocation list. On failure *ppWhy (optional) names what is wrong, for the log ("bad magic",
 * "truncated header", ...). Does not check the signature.
 */
HilRevocationParse_t HIL_RevocationListParse( const uint8_t * pList,
                                              size_t length,
                                              HilRevocationList_t * pOut,
                                              const char ** ppWhy );

/*
 * Runs the enabled checks for a signature that verified with pCertificate. `hasTime`/`now` is the device's trusted
 * clock (unix seconds). Returns 0 (the update may go on) or one of the HIL_POLICY_SUB_* codes; every step logs one
 * line through pLogger.
 */
uint32_t HIL_PolicyCheck( const HilPolicyConfig_t * pConfig,
                          const uint8_t * pCertificate,
                          size_t certificateLength,
                          const uint8_t * pSignature,
                          size_t signatureLength,
                          bool hasTime,
                          int64_t now,
                          HilLogger_t * pLogger );

/* A unix time as the policy's log lines print it: "2026-11-22T10:00:00Z" (UTC) from 1970 to the end of 9999,
 * otherwise "unix <seconds>". pBuffer needs 32 bytes. */
void HIL_PolicyFormatTime( int64_t seconds,
                           char * pBuffer,
                           size_t capacity );

#endif /* HIL_POLICY_H */
