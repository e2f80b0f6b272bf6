/*
 * The CC3220SF network processor's signed close, as otarig models it (/work/spec/simplelink-close.md); see
 * hil_simplelink.h. [TI] marks what TI documents (CC32xx SDK fs.h and errors.h, SWPU332A quoted on TI E2E, awsdocs
 * burn-initial-firmware-ti.md); everything else is OURS, undocumented behaviour the spec fixes so that the C model
 * and the Swift twin agree.
 */
#include "hil_simplelink.h"

#include <stdio.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

/* A hash of any size mbedTLS gives (SHA-512 at most). */
#define MAX_HASH_LENGTH    64U

/* The certificates of one close: the signer and the issuer files it follows (they stay parsed until the end; one
 * more than the limit, to see that the limit is passed). */
typedef struct
{
    mbedtls_x509_crt certs[ HIL_SL_MAX_ISSUER_FILES + 2U ];
    size_t count;
    mbedtls_x509_crt root;   /* the catalog root being looked at */
    bool rootParsed;
} Chain_t;

void HIL_SlNwpInit( HilSlNwp_t * pNwp )
{
    if( pNwp != NULL )
    {
        pNwp->securityAlerts = 0U;
        pNwp->alertThreshold = hilconfigSL_SECURITY_ALERT_THRESHOLD;
    }
}

/* ---- names and the PAL mapping ---- */

const char * HIL_SlErrorName( int32_t code )
{
    switch( code )
    {
        case HIL_SL_RET_CODE_OK: return "SL_RET_CODE_OK";
        case HIL_SL_ERROR_FS_NO_CERTIFICATE_STORE: return "SL_ERROR_FS_NO_CERTIFICATE_STORE";
        case HIL_SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT: return "SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT";
        case HIL_SL_ERROR_FS_INIT_CERTIFICATE_STORE: return "SL_ERROR_FS_INIT_CERTIFICATE_STORE";
        case HIL_SL_ERROR_FS_FILE_IS_NOT_SECURE_AND_SIGN: return "SL_ERROR_FS_FILE_IS_NOT_SECURE_AND_SIGN";
        case HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN: return "SL_ERROR_FS_ROOT_CA_IS_UNKOWN";
        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT: return "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT";
        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH: return "SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH";
        case HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT: return "SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT";
        case HIL_SL_ERROR_FS_FILE_MAX_SIZE_EXCEEDED: return "SL_ERROR_FS_FILE_MAX_SIZE_EXCEEDED";
        case HIL_SL_ERROR_FS_FILE_NOT_EXISTS: return "SL_ERROR_FS_FILE_NOT_EXISTS";
        case HIL_SL_ERROR_FS_ILLEGAL_SIGNATURE: return "SL_ERROR_FS_ILLEGAL_SIGNATURE";
        case HIL_SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME: return "SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME";
        case HIL_SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT: return "SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT";
        default: return "SL_ERROR_UNKNOWN";
    }
}

bool HIL_SlIsSecurityAlert( int32_t code )
{
    /* [TI] the *_SECURITY_ALERT codes count towards the tamper lock. */
    return ( code == HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT ) ||
           ( code == HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT ) ||
           ( code == HIL_SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT );
}

HilPalStatus_t HIL_SlPalStatusForClose( int32_t code )
{
    /* The sub-code is the code's low 24 bits (OTA_PAL_SUB_ERR). */
    const uint32_t sub = ( uint32_t ) code & 0xFFFFFFU;

    switch( code )
    {
        case HIL_SL_RET_CODE_OK:
            return HIL_PAL_COMBINE( HilPalSuccess, 0U );

        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT:
        case HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH:
        case HIL_SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT:
        case HIL_SL_ERROR_FS_INIT_CERTIFICATE_STORE:
        case HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN:
        case HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT:
        case HIL_SL_ERROR_FS_FILE_NOT_EXISTS:
        case HIL_SL_ERROR_FS_ILLEGAL_SIGNATURE:
        case HIL_SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME:
        case HIL_SL_ERROR_FS_NO_CERTIFICATE_STORE:
            return HIL_PAL_COMBINE( HilPalSignatureCheckFailed, sub );

        default:
            return HIL_PAL_COMBINE( HilPalFileClose, sub );
    }
}

/* ---- revoked.txt ---- */

static int hexValue( char c )
{
    if( ( c >= '0' ) && ( c <= '9' ) )
    {
        return c - '0';
    }

    if( ( c >= 'a' ) && ( c <= 'f' ) )
    {
        return c - 'a' + 10;
    }

    if( ( c >= 'A' ) && ( c <= 'F' ) )
    {
        return c - 'A' + 10;
    }

    return -1;
}

/* One line (comment already cut) -> a fingerprint. Returns 1 for a fingerprint, 0 for a blank line, -1 for neither. */
static int parseFingerprintLine( const char * pLine,
                                 size_t length,
                                 HilSlFingerprint_t * pOut )
{
    uint8_t bytes[ HIL_SHA256_LENGTH ];
    size_t digits = 0U;
    size_t i;

    for( i = 0U; i < length; i++ )
    {
        const char c = pLine[ i ];
        const int value = hexValue( c );

        if( ( c == ' ' ) || ( c == '\t' ) || ( c == '\r' ) )
        {
            /* Blanks may surround the fingerprint, not split it. */
            if( ( digits > 0U ) && ( i + 1U < length ) )
            {
                size_t j;

                for( j = i + 1U; j < length; j++ )
                {
                    if( ( pLine[ j ] != ' ' ) && ( pLine[ j ] != '\t' ) && ( pLine[ j ] != '\r' ) )
                    {
                        return -1;
                    }
                }
            }

            continue;
        }

        if( c == ':' )
        {
            continue;
        }

        if( ( value < 0 ) || ( digits >= 2U * HIL_SHA256_LENGTH ) )
        {
            return -1;
        }

        if( ( digits % 2U ) == 0U )
        {
            bytes[ digits / 2U ] = ( uint8_t ) ( value << 4 );
        }
        else
        {
            bytes[ digits / 2U ] = ( uint8_t ) ( bytes[ digits / 2U ] | ( uint8_t ) value );
        }

        digits++;
    }

    if( digits == 0U )
    {
        return 0;
    }

    if( ( digits != 2U * HIL_SHA1_LENGTH ) && ( digits != 2U * HIL_SHA256_LENGTH ) )
    {
        return -1;
    }

    if( pOut != NULL )
    {
        pOut->length = ( uint8_t ) ( digits / 2U );
        ( void ) memset( pOut->bytes, 0, sizeof( pOut->bytes ) );
        ( void ) memcpy( pOut->bytes, bytes, digits / 2U );
    }

    return 1;
}

size_t HIL_SlParseRevocationList( const char * pText,
                                  size_t length,
                                  HilSlFingerprint_t * pFingerprints,
                                  size_t capacity,
                                  size_t * pCount )
{
    size_t count = 0U;
    size_t lineNumber = 0U;
    size_t start = 0U;

    while( start < length )
    {
        size_t end = start;
        size_t content;
        HilSlFingerprint_t fingerprint;
        int parsed;

        while( ( end < length ) && ( pText[ end ] != '\n' ) )
        {
            end++;
        }

        lineNumber++;

        for( content = start; ( content < end ) && ( pText[ content ] != '#' ); content++ )
        {
        }

        parsed = parseFingerprintLine( &pText[ start ], content - start, &fingerprint );

        if( parsed < 0 )
        {
            if( pCount != NULL )
            {
                *pCount = count;
            }

            return lineNumber;
        }

        if( parsed > 0 )
        {
            if( ( pFingerprints != NULL ) && ( count < capacity ) )
            {
                pFingerprints[ count ] = fingerprint;
            }

            count++;
        }

        start = end + 1U;
    }

    if( pCount != NULL )
    {
        *pCount = count;
    }

    return 0U;
}

/* ---- files and certificates ---- */

/* [TI] names are relative to the file system's root folder, so one leading "/" is dropped. OURS: an empty name, one
 * with "..", one with a NUL inside or one over SL_FS_MAX_FILE_NAME_LENGTH names no file. */
static HilSlLookup_t lookupFile( const HilSlFileSystem_t * pFileSystem,
                                 const char * pName,
                                 size_t nameLength,
                                 HilSlWorkspace_t * pWorkspace,
                                 size_t * pLength )
{
    char name[ HIL_SL_MAX_FILE_NAME_LENGTH + 1U ];
    HilSlLookup_t found;

    *pLength = 0U;

    if( ( nameLength > 0U ) && ( pName[ 0 ] == '/' ) )
    {
        pName++;
        nameLength--;
    }

    if( ( nameLength == 0U ) || ( nameLength > HIL_SL_MAX_FILE_NAME_LENGTH ) || ( memchr( pName, '\0', nameLength ) != NULL ) )
    {
        return HilSlFileNotFound;
    }

    ( void ) memcpy( name, pName, nameLength );
    name[ nameLength ] = '\0';

    if( ( strstr( name, ".." ) != NULL ) || ( pFileSystem == NULL ) || ( pFileSystem->lookup == NULL ) )
    {
        return HilSlFileNotFound;
    }

    found = pFileSystem->lookup( pFileSystem->pContext, name, pWorkspace->file, sizeof( pWorkspace->file ), pLength );

    if( ( found == HilSlFileFound ) && ( *pLength > sizeof( pWorkspace->file ) ) )
    {
        found = HilSlFileTooLarge;
    }

    if( found != HilSlFileFound )
    {
        *pLength = 0U;
    }

    return found;
}

/* Exactly one DER certificate: the outer SEQUENCE covers the whole file (mbedTLS would ignore what follows it), and
 * mbedtls_x509_crt_parse_der takes it. */
static bool parseOneCertificate( const uint8_t * pData,
                                 size_t length,
                                 mbedtls_x509_crt * pCert )
{
    unsigned char * p = ( unsigned char * ) ( uintptr_t ) pData;
    size_t elementLength = 0U;

    mbedtls_x509_crt_init( pCert );

    if( ( length == 0U ) ||
        ( mbedtls_asn1_get_tag( &p, pData + length, &elementLength, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE ) != 0 ) ||
        ( ( size_t ) ( p - pData ) + elementLength != length ) )
    {
        return false;
    }

    if( mbedtls_x509_crt_parse_der( pCert, pData, length ) != 0 )
    {
        mbedtls_x509_crt_free( pCert );
        mbedtls_x509_crt_init( pCert );
        return false;
    }

    return true;
}

static bool sameName( const mbedtls_x509_buf * pA,
                      const mbedtls_x509_buf * pB )
{
    return ( pA->len == pB->len ) && ( memcmp( pA->p, pB->p, pA->len ) == 0 );
}

/*
 * Does pKey verify pChild's signature? Whatever signatureAlgorithm the certificate names, among RSA PKCS#1 v1.5 with
 * SHA-1/224/256/384/512 and ECDSA with SHA-256/384/512 ([TI] "the certificate chain may include SHA-256"; the
 * CC3220 recipe signs with SHA-1). Anything else does not verify.
 */
static bool verifiesCertificate( const mbedtls_x509_crt * pChild,
                                 mbedtls_pk_context * pKey )
{
    const mbedtls_md_type_t md = pChild->sig_md;
    const mbedtls_md_info_t * pInfo = mbedtls_md_info_from_type( md );
    uint8_t hash[ MAX_HASH_LENGTH ];
    bool allowed = false;

    if( pChild->sig_pk == MBEDTLS_PK_RSA )
    {
        allowed = ( md == MBEDTLS_MD_SHA1 ) || ( md == MBEDTLS_MD_SHA224 ) || ( md == MBEDTLS_MD_SHA256 ) ||
                  ( md == MBEDTLS_MD_SHA384 ) || ( md == MBEDTLS_MD_SHA512 );
    }
    else if( pChild->sig_pk == MBEDTLS_PK_ECDSA )
    {
        allowed = ( md == MBEDTLS_MD_SHA256 ) || ( md == MBEDTLS_MD_SHA384 ) || ( md == MBEDTLS_MD_SHA512 );
    }

    if( !allowed || ( pInfo == NULL ) || ( mbedtls_md_get_size( pInfo ) > sizeof( hash ) ) ||
        !mbedtls_pk_can_do( pKey, pChild->sig_pk ) )
    {
        return false;
    }

    if( mbedtls_md( pInfo, pChild->tbs.p, pChild->tbs.len, hash ) != 0 )
    {
        return false;
    }

    return mbedtls_pk_verify_ext( pChild->sig_pk, pChild->sig_opts, pKey, md, hash, mbedtls_md_get_size( pInfo ),
                                  pChild->sig.p, pChild->sig.len ) == 0;
}

/* Appends a code point as UTF-8; false when it does not fit. */
static bool putUtf8( uint32_t codePoint,
                     char * pOut,
                     size_t capacity,
                     size_t * pUsed )
{
    uint8_t bytes[ 4 ];
    size_t count;

    if( codePoint < 0x80U )
    {
        bytes[ 0 ] = ( uint8_t ) codePoint;
        count = 1U;
    }
    else if( codePoint < 0x800U )
    {
        bytes[ 0 ] = ( uint8_t ) ( 0xC0U | ( codePoint >> 6 ) );
        bytes[ 1 ] = ( uint8_t ) ( 0x80U | ( codePoint & 0x3FU ) );
        count = 2U;
    }
    else if( codePoint < 0x10000U )
    {
        bytes[ 0 ] = ( uint8_t ) ( 0xE0U | ( codePoint >> 12 ) );
        bytes[ 1 ] = ( uint8_t ) ( 0x80U | ( ( codePoint >> 6 ) & 0x3FU ) );
        bytes[ 2 ] = ( uint8_t ) ( 0x80U | ( codePoint & 0x3FU ) );
        count = 3U;
    }
    else if( codePoint < 0x110000U )
    {
        bytes[ 0 ] = ( uint8_t ) ( 0xF0U | ( codePoint >> 18 ) );
        bytes[ 1 ] = ( uint8_t ) ( 0x80U | ( ( codePoint >> 12 ) & 0x3FU ) );
        bytes[ 2 ] = ( uint8_t ) ( 0x80U | ( ( codePoint >> 6 ) & 0x3FU ) );
        bytes[ 3 ] = ( uint8_t ) ( 0x80U | ( codePoint & 0x3FU ) );
        count = 4U;
    }
    else
    {
        return false;
    }

    if( *pUsed + count > capacity )
    {
        return false;
    }

    ( void ) memcpy( &pOut[ *pUsed ], bytes, count );
    *pUsed += count;
    return true;
}

/*
 * The first commonName (2.5.4.3) of a Name, as UTF-8: BMPString and UniversalString are converted, the other string
 * types are taken as their bytes. Returns false when the Name has none; *pLength may exceed the buffer (then the name
 * is too long to be a file name and is not looked up).
 */
static bool firstCommonName( const mbedtls_x509_name * pName,
                             char * pOut,
                             size_t capacity,
                             size_t * pLength )
{
    const mbedtls_x509_name * pItem;

    for( pItem = pName; pItem != NULL; pItem = pItem->next )
    {
        if( ( pItem->oid.p != NULL ) && ( MBEDTLS_OID_CMP( MBEDTLS_OID_AT_CN, &pItem->oid ) == 0 ) )
        {
            const mbedtls_x509_buf * pValue = &pItem->val;
            size_t used = 0U;
            size_t i;

            if( ( pValue->tag == MBEDTLS_ASN1_BMP_STRING ) || ( pValue->tag == MBEDTLS_ASN1_UNIVERSAL_STRING ) )
            {
                const size_t width = ( pValue->tag == MBEDTLS_ASN1_BMP_STRING ) ? 2U : 4U;

                for( i = 0U; ( i + width ) <= pValue->len; i += width )
                {
                    uint32_t codePoint = 0U;
                    size_t k;

                    for( k = 0U; k < width; k++ )
                    {
                        codePoint = ( codePoint << 8 ) | pValue->p[ i + k ];
                    }

                    if( !putUtf8( codePoint, pOut, capacity, &used ) )
                    {
                        *pLength = capacity + 1U;
                        return true;
                    }
                }
            }
            else
            {
                if( pValue->len > capacity )
                {
                    *pLength = pValue->len;
                    return true;
                }

                ( void ) memcpy( pOut, pValue->p, pValue->len );
                used = pValue->len;
            }

            *pLength = used;
            return true;
        }
    }

    return false;
}

/* ---- the evidence ---- */

static void addChainEntry( HilSlEvidence_t * pEvidence,
                           const mbedtls_x509_crt * pCert,
                           const char * pFile )
{
    HilSlChainEntry_t * pEntry;

    if( pEvidence->chainLength >= HIL_SL_MAX_CHAIN )
    {
        return;
    }

    pEntry = &pEvidence->chain[ pEvidence->chainLength++ ];

    if( mbedtls_x509_dn_gets( pEntry->subject, sizeof( pEntry->subject ), &pCert->subject ) < 0 )
    {
        ( void ) snprintf( pEntry->subject, sizeof( pEntry->subject ), "(a subject longer than %u characters)",
                           ( unsigned ) ( sizeof( pEntry->subject ) - 1U ) );
    }

    ( void ) snprintf( pEntry->file, sizeof( pEntry->file ), "%s", pFile );
}

static const char * subjectOf( const HilSlEvidence_t * pEvidence,
                               size_t index )
{
    return ( index < pEvidence->chainLength ) ? pEvidence->chain[ index ].subject : "?";
}

static bool isRevoked( const HilSlCatalog_t * pCatalog,
                       const mbedtls_x509_crt * pCert )
{
    uint8_t sha1[ HIL_SHA1_LENGTH ];
    uint8_t sha256[ HIL_SHA256_LENGTH ];
    size_t i;

    if( ( pCatalog->pRevoked == NULL ) || ( pCatalog->revokedCount == 0U ) )
    {
        return false;
    }

    if( ( mbedtls_md( mbedtls_md_info_from_type( MBEDTLS_MD_SHA1 ), pCert->raw.p, pCert->raw.len, sha1 ) != 0 ) ||
        ( mbedtls_md( mbedtls_md_info_from_type( MBEDTLS_MD_SHA256 ), pCert->raw.p, pCert->raw.len, sha256 ) != 0 ) )
    {
        return false;
    }

    for( i = 0U; i < pCatalog->revokedCount; i++ )
    {
        const HilSlFingerprint_t * pFingerprint = &pCatalog->pRevoked[ i ];

        if( ( ( pFingerprint->length == HIL_SHA1_LENGTH ) && ( memcmp( pFingerprint->bytes, sha1, HIL_SHA1_LENGTH ) == 0 ) ) ||
            ( ( pFingerprint->length == HIL_SHA256_LENGTH ) && ( memcmp( pFingerprint->bytes, sha256, HIL_SHA256_LENGTH ) == 0 ) ) )
        {
            return true;
        }
    }

    return false;
}

/* ---- the close ---- */

static const char * keyName( const mbedtls_pk_context * pKey )
{
    switch( mbedtls_pk_get_type( pKey ) )
    {
        case MBEDTLS_PK_ECKEY:
        case MBEDTLS_PK_ECKEY_DH:
        case MBEDTLS_PK_ECDSA:
            return "EC";

        default:
            return mbedtls_pk_get_name( pKey );
    }
}

/*
 * Step 6, the chain walk from the signer (chain->certs[0]). Returns 0 with the root in chain->root and its catalog
 * index in *pRootIndex, or the SimpleLink code.
 */
static int32_t walkChain( Chain_t * pChain,
                          const HilSlFileSystem_t * pFileSystem,
                          const HilSlCatalog_t * pCatalog,
                          HilSlWorkspace_t * pWorkspace,
                          HilSlEvidence_t * pEvidence,
                          int32_t * pRootIndex )
{
    for( ; ; )
    {
        mbedtls_x509_crt * pCurrent = &pChain->certs[ pChain->count - 1U ];
        const char * pCurrentFile = pEvidence->chain[ pEvidence->chainLength - 1U ].file;
        char issuerName[ HIL_SL_MAX_FILE_NAME_LENGTH + 1U ];
        size_t issuerNameLength = 0U;
        bool sameNameRoot = false;
        size_t fileLength = 0U;
        HilSlLookup_t found;
        mbedtls_x509_crt * pIssuer;
        size_t i;

        /* a. A catalog root with the issuer's name ends the chain, if its key verifies. */
        for( i = 0U; i < pCatalog->rootCount; i++ )
        {
            if( pChain->rootParsed )
            {
                mbedtls_x509_crt_free( &pChain->root );
                pChain->rootParsed = false;
            }

            mbedtls_x509_crt_init( &pChain->root );

            if( mbedtls_x509_crt_parse_der( &pChain->root, pCatalog->pRoots[ i ].pData, pCatalog->pRoots[ i ].length ) != 0 )
            {
                /* A root the store cannot parse is no root. */
                mbedtls_x509_crt_free( &pChain->root );
                continue;
            }

            pChain->rootParsed = true;

            if( sameName( &pChain->root.subject_raw, &pCurrent->issuer_raw ) )
            {
                sameNameRoot = true;

                if( verifiesCertificate( pCurrent, &pChain->root.pk ) )
                {
                    *pRootIndex = ( int32_t ) i;
                    addChainEntry( pEvidence, &pChain->root, "" );
                    return HIL_SL_RET_CODE_OK;
                }
            }
        }

        if( pChain->rootParsed )
        {
            mbedtls_x509_crt_free( &pChain->root );
            pChain->rootParsed = false;
        }

        if( sameNameRoot )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "a catalog root has the name of the issuer of '%s', but its key does not verify that certificate's signature",
                               pCurrentFile );
            return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
        }

        /* b. [TI] the issuer is the file named by its "Issued To" (commonName), relative to the root folder. */
        if( !firstCommonName( &pCurrent->issuer, issuerName, sizeof( issuerName ) - 1U, &issuerNameLength ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the issuer of '%s' is not a catalog root, and its name has no commonName to name its certificate file",
                               pCurrentFile );
            return HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN;
        }

        if( issuerNameLength >= sizeof( issuerName ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the issuer of '%s' is not a catalog root, and its commonName is longer than a file name (%u bytes)",
                               pCurrentFile, HIL_SL_MAX_FILE_NAME_LENGTH );
            return HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN;
        }

        issuerName[ issuerNameLength ] = '\0';
        found = lookupFile( pFileSystem, issuerName, issuerNameLength, pWorkspace, &fileLength );

        if( found == HilSlFileNotFound )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the issuer of '%s' is neither a catalog root nor a file named by its commonName '%s'",
                               pCurrentFile, issuerName );
            return HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN;
        }

        pIssuer = &pChain->certs[ pChain->count ];

        if( ( found != HilSlFileFound ) || !parseOneCertificate( pWorkspace->file, fileLength, pIssuer ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the issuer file '%s' is not exactly one DER X.509 certificate", issuerName );
            return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
        }

        pChain->count++;
        addChainEntry( pEvidence, pIssuer, issuerName );

        if( !sameName( &pIssuer->subject_raw, &pCurrent->issuer_raw ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the subject of the issuer file '%s' is not the issuer name of '%s'", issuerName, pCurrentFile );
            return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
        }

        if( !verifiesCertificate( pCurrent, &pIssuer->pk ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the key of the issuer file '%s' does not verify the signature of '%s'", issuerName, pCurrentFile );
            return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
        }

        if( sameName( &pIssuer->subject_raw, &pIssuer->issuer_raw ) )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the chain ends in the self-signed root '%s' (%s), which is not in the trusted root catalog",
                               issuerName, subjectOf( pEvidence, pEvidence->chainLength - 1U ) );
            return HIL_SL_ERROR_FS_ROOT_CA_IS_UNKOWN;
        }

        /* OURS: a chain follows at most 3 issuer files. */
        if( ( pChain->count - 1U ) > HIL_SL_MAX_ISSUER_FILES )
        {
            ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                               "the chain needs more than %u issuer files before a catalog root", HIL_SL_MAX_ISSUER_FILES );
            return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
        }
    }
}

static int32_t closeChecks( const HilSlFileSystem_t * pFileSystem,
                            const HilSlCatalog_t * pCatalog,
                            const HilSlClose_t * pClose,
                            HilSlWorkspace_t * pWorkspace,
                            HilSlEvidence_t * pEvidence,
                            Chain_t * pChain )
{
    const char * pCertName = ( pClose->pCertName != NULL ) ? pClose->pCertName : "";
    const size_t certNameLength = strlen( pCertName );
    mbedtls_x509_crt * pSigner = &pChain->certs[ 0 ];
    size_t fileLength = 0U;
    int32_t code;
    int32_t rootIndex = -1;
    size_t keyLength;
    size_t i;

    /* 1. The certificate name: present, and at most SL_FS_MAX_FILE_NAME_LENGTH. */
    if( certNameLength == 0U )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ), "the close names no certificate file" );
        return HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH;
    }

    if( certNameLength > HIL_SL_MAX_FILE_NAME_LENGTH )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "the certificate file name is %u bytes; SimpleLink file names are at most %u",
                           ( unsigned ) certNameLength, HIL_SL_MAX_FILE_NAME_LENGTH );
        return HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH;
    }

    /* 2. [TI] "RSA 256 or 128 bytes": a longer signature (RSA-4096's 512) is a length error (E2E 1159293). */
    if( ( pClose->pSignature == NULL ) || ( pClose->signatureLength == 0U ) )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ), "the close carries no signature" );
        return HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH;
    }

    if( pClose->signatureLength > HIL_SL_MAX_SIGNATURE_LENGTH )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "the signature is %u bytes; SimpleLink takes RSA signatures of at most %u bytes (RSA-2048)",
                           ( unsigned ) pClose->signatureLength, HIL_SL_MAX_SIGNATURE_LENGTH );
        return HIL_SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH;
    }

    /* 3. The certificate file. */
    pEvidence->certFileLookedUp = true;
    pEvidence->certFileLookup = lookupFile( pFileSystem, pCertName, certNameLength, pWorkspace, &fileLength );

    if( pEvidence->certFileLookup == HilSlFileNotFound )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ), "no file '%s' in the file system", pCertName );
        return HIL_SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME;
    }

    /* 4. The trusted root catalog. */
    if( ( pCatalog == NULL ) || ( pCatalog->rootCount == 0U ) || ( pCatalog->pRoots == NULL ) )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ), "the trusted root catalog holds no certificates" );
        return HIL_SL_ERROR_FS_NO_CERTIFICATE_STORE;
    }

    /* 5. The signer: exactly one DER certificate with an RSA key. */
    if( ( pEvidence->certFileLookup != HilSlFileFound ) || !parseOneCertificate( pWorkspace->file, fileLength, pSigner ) )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "'%s' is not exactly one DER X.509 certificate (PEM, trailing bytes or garbage)", pCertName );
        return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
    }

    pChain->count = 1U;
    addChainEntry( pEvidence, pSigner, pCertName );

    if( mbedtls_pk_get_type( &pSigner->pk ) != MBEDTLS_PK_RSA )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "'%s' holds an %s key; SimpleLink verifies files with RSA keys only", pCertName, keyName( &pSigner->pk ) );
        return HIL_SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT;
    }

    pEvidence->signerKeyBits = ( uint32_t ) mbedtls_pk_get_bitlen( &pSigner->pk );

    /* 6. The chain to a catalog root. */
    code = walkChain( pChain, pFileSystem, pCatalog, pWorkspace, pEvidence, &rootIndex );

    if( code != HIL_SL_RET_CODE_OK )
    {
        return code;
    }

    pEvidence->rootIndex = rootIndex;

    /* 7. Revocation: the signer, each issuer file, the catalog root. */
    for( i = 0U; i <= pChain->count; i++ )
    {
        const mbedtls_x509_crt * pCert = ( i < pChain->count ) ? &pChain->certs[ i ] : NULL;
        mbedtls_x509_crt root;
        bool revoked;

        if( pCert == NULL )
        {
            mbedtls_x509_crt_init( &root );

            if( mbedtls_x509_crt_parse_der( &root, pCatalog->pRoots[ rootIndex ].pData, pCatalog->pRoots[ rootIndex ].length ) != 0 )
            {
                mbedtls_x509_crt_free( &root );
                continue;
            }

            revoked = isRevoked( pCatalog, &root );
            mbedtls_x509_crt_free( &root );
        }
        else
        {
            revoked = isRevoked( pCatalog, pCert );
        }

        if( revoked )
        {
            if( i < pChain->count )
            {
                ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                                   "the %s '%s' (%s) is revoked: its fingerprint is in revoked.txt",
                                   ( i == 0U ) ? "signer" : "issuer file", pEvidence->chain[ i ].file, subjectOf( pEvidence, i ) );
            }
            else
            {
                ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                                   "the catalog root %d (%s) is revoked: its fingerprint is in revoked.txt", ( int ) rootIndex,
                                   subjectOf( pEvidence, i ) );
            }

            return HIL_SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT;
        }
    }

    /* 8. The signature is as long as the signer's modulus. */
    keyLength = mbedtls_pk_get_len( &pSigner->pk );

    if( pClose->signatureLength != keyLength )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "the signature is %u bytes but the signer's RSA-%u key makes %u-byte signatures",
                           ( unsigned ) pClose->signatureLength, ( unsigned ) pEvidence->signerKeyBits, ( unsigned ) keyLength );
        return HIL_SL_ERROR_FS_ILLEGAL_SIGNATURE;
    }

    /* 9. [TI] RSA PKCS#1 v1.5 over SHA-1 of the file. */
    if( mbedtls_pk_verify( &pSigner->pk, MBEDTLS_MD_SHA1, pClose->fileSha1, HIL_SHA1_LENGTH, pClose->pSignature,
                           pClose->signatureLength ) != 0 )
    {
        ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                           "the RSA PKCS#1 v1.5 signature over SHA-1 of the file does not verify with the key of '%s'", pCertName );
        return HIL_SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT;
    }

    ( void ) snprintf( pEvidence->detail, sizeof( pEvidence->detail ),
                       "the signature verifies with '%s' (RSA-%u), chained to catalog root %d (%s)", pCertName,
                       ( unsigned ) pEvidence->signerKeyBits, ( int ) rootIndex, subjectOf( pEvidence, pEvidence->chainLength - 1U ) );
    return HIL_SL_RET_CODE_OK;
}

int32_t HIL_SlFsClose( HilSlNwp_t * pNwp,
                       const HilSlFileSystem_t * pFileSystem,
                       const HilSlCatalog_t * pCatalog,
                       const HilSlClose_t * pClose,
                       HilSlWorkspace_t * pWorkspace,
                       HilSlEvidence_t * pEvidence )
{
    HilSlEvidence_t localEvidence;
    HilSlEvidence_t * pOut = ( pEvidence != NULL ) ? pEvidence : &localEvidence;
    const HilSlCatalog_t emptyCatalog = { NULL, 0U, NULL, 0U };
    uint32_t threshold;
    int32_t code;
    Chain_t chain;
    size_t i;

    ( void ) memset( pOut, 0, sizeof( *pOut ) );
    pOut->rootIndex = -1;

    if( ( pNwp == NULL ) || ( pClose == NULL ) || ( pWorkspace == NULL ) )
    {
        /* A programming mistake, not a device answer. */
        pOut->code = HIL_SL_ERROR_FS_FILE_NOT_EXISTS;
        ( void ) snprintf( pOut->detail, sizeof( pOut->detail ), "HIL_SlFsClose called without a device, a close or a workspace" );
        return pOut->code;
    }

    threshold = ( pNwp->alertThreshold != 0U ) ? pNwp->alertThreshold : hilconfigSL_SECURITY_ALERT_THRESHOLD;

    /* 0. [TI code] a locked device checks nothing, and the refusal does not count. */
    if( pNwp->securityAlerts >= threshold )
    {
        pOut->code = HIL_SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT;
        pOut->securityAlerts = pNwp->securityAlerts;
        pOut->locked = true;
        ( void ) snprintf( pOut->detail, sizeof( pOut->detail ),
                           "the device is locked: %u security alerts reached the threshold of %u; only a return to factory clears it",
                           ( unsigned ) pNwp->securityAlerts, ( unsigned ) threshold );
        return pOut->code;
    }

    ( void ) memset( &chain, 0, sizeof( chain ) );

    for( i = 0U; i < ( sizeof( chain.certs ) / sizeof( chain.certs[ 0 ] ) ); i++ )
    {
        mbedtls_x509_crt_init( &chain.certs[ i ] );
    }

    code = closeChecks( pFileSystem, ( pCatalog != NULL ) ? pCatalog : &emptyCatalog, pClose, pWorkspace, pOut, &chain );

    for( i = 0U; i < ( sizeof( chain.certs ) / sizeof( chain.certs[ 0 ] ) ); i++ )
    {
        mbedtls_x509_crt_free( &chain.certs[ i ] );
    }

    if( chain.rootParsed )
    {
        mbedtls_x509_crt_free( &chain.root );
    }

    /* [TI] security alerts count; OURS: the close that reaches the threshold still returns its own code. */
    if( HIL_SlIsSecurityAlert( code ) )
    {
        pOut->securityAlert = true;

        if( pNwp->securityAlerts < UINT32_MAX )
        {
            pNwp->securityAlerts++;
        }
    }

    pOut->code = code;
    pOut->securityAlerts = pNwp->securityAlerts;
    pOut->locked = pNwp->securityAlerts >= threshold;
    return code;
}
