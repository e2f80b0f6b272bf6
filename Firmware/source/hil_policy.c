/* The opt-in device policy; see hil_policy.h. Written for otarig against Debian's mbedTLS 2.28. */
#include "hil_policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hil_crypto.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

/* 9999-12-31T23:59:59Z: the last second HIL_PolicyFormatTime prints as a date. */
#define LAST_PRINTABLE_SECOND    INT64_C( 253402300799 )

static uint64_t readBigEndian( const uint8_t * p,
                               size_t count )
{
    uint64_t value = 0U;
    size_t i;

    for( i = 0U; i < count; i++ )
    {
        value = ( value << 8 ) | p[ i ];
    }

    return value;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (the civil-date arithmetic of Howard Hinnant's public
 * "chrono-compatible low-level date algorithms"). */
static int64_t daysFromCivil( int64_t year,
                              int64_t month,
                              int64_t day )
{
    const int64_t y = ( month <= 2 ) ? ( year - 1 ) : year;
    const int64_t era = ( ( y >= 0 ) ? y : ( y - 399 ) ) / 400;
    const int64_t yearOfEra = y - ( era * 400 );
    const int64_t dayOfYear = ( ( ( 153 * ( ( month > 2 ) ? ( month - 3 ) : ( month + 9 ) ) ) + 2 ) / 5 ) + day - 1;
    const int64_t dayOfEra = ( yearOfEra * 365 ) + ( yearOfEra / 4 ) - ( yearOfEra / 100 ) + dayOfYear;

    return ( era * 146097 ) + dayOfEra - 719468;
}

static int64_t unixSeconds( const mbedtls_x509_time * pTime )
{
    return ( daysFromCivil( pTime->year, pTime->mon, pTime->day ) * 86400 ) + ( ( int64_t ) pTime->hour * 3600 ) +
           ( ( int64_t ) pTime->min * 60 ) + pTime->sec;
}

void HIL_PolicyFormatTime( int64_t seconds,
                           char * pBuffer,
                           size_t capacity )
{
    int64_t days;
    int64_t secondOfDay;
    int64_t era;
    int64_t dayOfEra;
    int64_t yearOfEra;
    int64_t dayOfYear;
    int64_t monthIndex;
    int64_t day;
    int64_t month;
    int64_t year;

    if( ( pBuffer == NULL ) || ( capacity == 0U ) )
    {
        return;
    }

    if( ( seconds < 0 ) || ( seconds > LAST_PRINTABLE_SECOND ) )
    {
        ( void ) snprintf( pBuffer, capacity, "unix %" PRId64, seconds );
        return;
    }

    days = seconds / 86400;
    secondOfDay = seconds % 86400;
    days += 719468;
    era = days / 146097;
    dayOfEra = days - ( era * 146097 );
    yearOfEra = ( dayOfEra - ( dayOfEra / 1460 ) + ( dayOfEra / 36524 ) - ( dayOfEra / 146096 ) ) / 365;
    dayOfYear = dayOfEra - ( ( 365 * yearOfEra ) + ( yearOfEra / 4 ) - ( yearOfEra / 100 ) );
    monthIndex = ( ( 5 * dayOfYear ) + 2 ) / 153;
    day = dayOfYear - ( ( ( 153 * monthIndex ) + 2 ) / 5 ) + 1;
    month = ( monthIndex < 10 ) ? ( monthIndex + 3 ) : ( monthIndex - 9 );
    year = yearOfEra + ( era * 400 ) + ( ( month <= 2 ) ? 1 : 0 );
    ( void ) snprintf( pBuffer, capacity, "%04d-%02d-%02dT%02d:%02d:%02dZ", ( int ) year, ( int ) month, ( int ) day,
                       ( int ) ( secondOfDay / 3600 ), ( int ) ( ( secondOfDay / 60 ) % 60 ), ( int ) ( secondOfDay % 60 ) );
}

/* A list time (u64) as a log line prints it. */
static void formatListTime( uint64_t seconds,
                            char * pBuffer,
                            size_t capacity )
{
    if( seconds > ( uint64_t ) LAST_PRINTABLE_SECOND )
    {
        ( void ) snprintf( pBuffer, capacity, "unix %" PRIu64, seconds );
    }
    else
    {
        HIL_PolicyFormatTime( ( int64_t ) seconds, pBuffer, capacity );
    }
}

HilRevocationParse_t HIL_RevocationListParse( const uint8_t * pList,
                                              size_t length,
                                              HilRevocationList_t * pOut,
                                              const char ** ppWhy )
{
    const char * why = NULL;
    HilRevocationParse_t status = HilRevocationParseMalformed;
    size_t position = HIL_REVOCATION_HEADER_LENGTH;
    uint32_t index;

    ( void ) memset( pOut, 0, sizeof( *pOut ) );

    if( ( pList == NULL ) || ( length < HIL_REVOCATION_HEADER_LENGTH ) )
    {
        why = "truncated header";
    }
    else if( memcmp( pList, HIL_REVOCATION_MAGIC, 4U ) != 0 )
    {
        why = "bad magic";
    }
    else if( pList[ 4 ] != HIL_REVOCATION_VERSION )
    {
        pOut->version = pList[ 4 ];
        why = "unsupported version";
        status = HilRevocationParseVersion;
    }
    else
    {
        pOut->version = pList[ 4 ];
        pOut->issuedAt = readBigEndian( &pList[ 5 ], 8U );
        pOut->entryCount = ( uint32_t ) readBigEndian( &pList[ 13 ], 4U );

        if( pOut->entryCount > ( ( length - position ) / HIL_REVOCATION_ENTRY_LENGTH ) )
        {
            why = "truncated entries";
        }
        else
        {
            pOut->pEntries = &pList[ position ];
            position += ( size_t ) pOut->entryCount * HIL_REVOCATION_ENTRY_LENGTH;

            for( index = 0U; ( index < pOut->entryCount ) && ( why == NULL ); index++ )
            {
                const uint8_t reason = pOut->pEntries[ ( ( size_t ) index * HIL_REVOCATION_ENTRY_LENGTH ) + HIL_SHA256_LENGTH ];

                if( ( reason != HIL_REVOCATION_REASON_SIGNATURE ) && ( reason != HIL_REVOCATION_REASON_PROFILE ) )
                {
                    why = "an entry has an unknown reason";
                }
            }

            if( why != NULL )
            {
                /* keep the first problem */
            }
            else if( ( length - position ) < 2U )
            {
                why = "truncated signature length";
            }
            else
            {
                pOut->signedLength = position;
                pOut->signatureLength = ( size_t ) readBigEndian( &pList[ position ], 2U );
                position += 2U;

                if( pOut->signatureLength == 0U )
                {
                    why = "empty signature";
                }
                else if( pOut->signatureLength > ( length - position ) )
                {
                    why = "truncated signature";
                }
                else if( pOut->signatureLength < ( length - position ) )
                {
                    why = "trailing bytes after the signature";
                }
                else
                {
                    pOut->pSignature = &pList[ position ];
                    status = HilRevocationParseOk;
                }
            }
        }
    }

    if( ppWhy != NULL )
    {
        *ppWhy = why;
    }

    return status;
}

static uint32_t checkValidity( const uint8_t * pCertificate,
                               size_t certificateLength,
                               bool hasTime,
                               int64_t now,
                               HilLogger_t * pLogger )
{
    mbedtls_x509_crt certificate;
    uint32_t sub = 0U;
    char from[ 32 ];
    char to[ 32 ];
    char device[ 32 ];

    if( !hasTime )
    {
        HIL_Log( pLogger, HilLogWarn, "Device policy: no trusted time; skipping the certificate validity check." );
        return 0U;
    }

    mbedtls_x509_crt_init( &certificate );

    if( ( pCertificate == NULL ) || ( certificateLength == 0U ) ||
        ( mbedtls_x509_crt_parse( &certificate, pCertificate, certificateLength ) != 0 ) )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the signer certificate's validity period cannot be read." );
        sub = HIL_POLICY_SUB_CERT_UNREADABLE;
    }
    else
    {
        const int64_t notBefore = unixSeconds( &certificate.valid_from );
        const int64_t notAfter = unixSeconds( &certificate.valid_to );

        HIL_PolicyFormatTime( notBefore, from, sizeof( from ) );
        HIL_PolicyFormatTime( notAfter, to, sizeof( to ) );
        HIL_PolicyFormatTime( now, device, sizeof( device ) );

        if( now < notBefore )
        {
            HIL_Log( pLogger, HilLogError, "Device policy: the signer certificate is not valid before %s (device time %s).", from, device );
            sub = HIL_POLICY_SUB_CERT_NOT_YET_VALID;
        }
        else if( now > notAfter )
        {
            HIL_Log( pLogger, HilLogError, "Device policy: the signer certificate expired at %s (device time %s).", to, device );
            sub = HIL_POLICY_SUB_CERT_EXPIRED;
        }
        else
        {
            HIL_Log( pLogger, HilLogInfo, "Device policy: the signer certificate is valid from %s to %s at device time %s.", from, to, device );
        }
    }

    mbedtls_x509_crt_free( &certificate );
    return sub;
}

static uint32_t checkRevocation( const HilPolicyConfig_t * pConfig,
                                 const uint8_t * pSignature,
                                 size_t signatureLength,
                                 HilLogger_t * pLogger )
{
    HilRevocationList_t list;
    const char * why = NULL;
    uint8_t digest[ HIL_SHA256_LENGTH ];
    char when[ 32 ];
    HilRevocationParse_t parsed;
    HilCryptoResult_t verified;
    uint32_t index;

    if( ( pConfig->pRevocationList == NULL ) || ( pConfig->revocationListLength == 0U ) )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: revocation checking is on but no revocation list is provisioned." );
        return HIL_POLICY_SUB_LIST_MISSING;
    }

    parsed = HIL_RevocationListParse( pConfig->pRevocationList, pConfig->revocationListLength, &list, &why );

    if( parsed == HilRevocationParseVersion )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the revocation list has format version %u; this device reads version %u.",
                 ( unsigned ) list.version, ( unsigned ) HIL_REVOCATION_VERSION );
        return HIL_POLICY_SUB_LIST_VERSION;
    }

    if( parsed != HilRevocationParseOk )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the revocation list is malformed: %s.", ( why != NULL ) ? why : "" );
        return HIL_POLICY_SUB_LIST_MALFORMED;
    }

    if( ( pConfig->pListSignerCertificate == NULL ) || ( pConfig->listSignerCertificateLength == 0U ) )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the revocation list signer certificate (%s) is missing or unreadable.",
                 HIL_POLICY_LIST_SIGNER_LABEL );
        return HIL_POLICY_SUB_LIST_SIGNER_UNREADABLE;
    }

    ( void ) mbedtls_sha256_ret( pConfig->pRevocationList, list.signedLength, digest, 0 );
    verified = HIL_VerifySignature( pConfig->pListSignerCertificate, pConfig->listSignerCertificateLength, HilHashSha256, digest,
                                    list.pSignature, list.signatureLength, NULL );

    if( ( verified == HilCryptoBadCertificate ) || ( verified == HilCryptoBadInput ) )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the revocation list signer certificate (%s) is missing or unreadable.",
                 HIL_POLICY_LIST_SIGNER_LABEL );
        return HIL_POLICY_SUB_LIST_SIGNER_UNREADABLE;
    }

    if( verified != HilCryptoValid )
    {
        HIL_Log( pLogger, HilLogError, "Device policy: the revocation list's signature does not verify with %s.", HIL_POLICY_LIST_SIGNER_LABEL );
        return HIL_POLICY_SUB_LIST_SIGNATURE_INVALID;
    }

    formatListTime( list.issuedAt, when, sizeof( when ) );
    HIL_Log( pLogger, HilLogInfo, "Device policy: revocation list issued %s with %u entries verified.", when, ( unsigned ) list.entryCount );

    ( void ) mbedtls_sha256_ret( pSignature, signatureLength, digest, 0 );

    for( index = 0U; index < list.entryCount; index++ )
    {
        const uint8_t * pEntry = &list.pEntries[ ( size_t ) index * HIL_REVOCATION_ENTRY_LENGTH ];

        if( memcmp( pEntry, digest, HIL_SHA256_LENGTH ) == 0 )
        {
            formatListTime( readBigEndian( &pEntry[ HIL_SHA256_LENGTH + 1U ], 8U ), when, sizeof( when ) );

            if( pEntry[ HIL_SHA256_LENGTH ] == HIL_REVOCATION_REASON_SIGNATURE )
            {
                HIL_Log( pLogger, HilLogError, "Device policy: the signature is revoked (its signing job was revoked at %s).", when );
                return HIL_POLICY_SUB_SIGNATURE_REVOKED;
            }

            HIL_Log( pLogger, HilLogError, "Device policy: the signature is revoked (its signing profile version was revoked effective %s).", when );
            return HIL_POLICY_SUB_PROFILE_REVOKED;
        }
    }

    HIL_Log( pLogger, HilLogInfo, "Device policy: the signature is not on the revocation list." );
    return 0U;
}

uint32_t HIL_PolicyCheck( const HilPolicyConfig_t * pConfig,
                          const uint8_t * pCertificate,
                          size_t certificateLength,
                          const uint8_t * pSignature,
                          size_t signatureLength,
                          bool hasTime,
                          int64_t now,
                          HilLogger_t * pLogger )
{
    uint32_t sub = 0U;

    if( pConfig == NULL )
    {
        return 0U;
    }

    if( ( pConfig->checks & HIL_POLICY_CHECK_CERTIFICATE_VALIDITY ) != 0U )
    {
        sub = checkValidity( pCertificate, certificateLength, hasTime, now, pLogger );
    }

    if( ( sub == 0U ) && ( ( pConfig->checks & HIL_POLICY_CHECK_REVOCATION ) != 0U ) )
    {
        sub = checkRevocation( pConfig, pSignature, signatureLength, pLogger );
    }

    return sub;
}
