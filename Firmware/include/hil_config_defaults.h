/*
 * otarig device-side verifier: configuration defaults. Every hilconfigFOO can be set before this header is
 * included (or with -D) to match a device's build. Values cite the FreeRTOS OTA library setting they mirror
 * (aws/ota-for-aws-iot-embedded-sdk, source/include/ota_config_defaults.h and ota_private.h).
 */
#ifndef HIL_CONFIG_DEFAULTS_H
#define HIL_CONFIG_DEFAULTS_H

/* Largest decoded signature: kOTA_MaxSignatureSize, 384 bytes (RSA-3072). */
#ifndef hilconfigMAX_SIGNATURE_SIZE
    #define hilconfigMAX_SIGNATURE_SIZE    384U
#endif

/* Longest job id: OTA_JOB_ID_MAX_SIZE is 73 bytes including the NUL, so 72 characters. */
#ifndef hilconfigMAX_JOB_ID_LENGTH
    #define hilconfigMAX_JOB_ID_LENGTH    72U
#endif

/* Nesting depth the JSON validator accepts (coreJSON's JSON_MAX_DEPTH default). */
#ifndef hilconfigJSON_MAX_DEPTH
    #define hilconfigJSON_MAX_DEPTH    32U
#endif

/* Width of the device's unsigned long, for strtoul's overflow rule: 32 on ESP32 and CC3220SF. */
#ifndef hilconfigULONG_BITS
    #define hilconfigULONG_BITS    32U
#endif

/* The job-document key holding the signature: OTA_JsonFileSignatureKey of the PAL ("sig-sha1-rsa" on CC3220SF). */
#ifndef hilconfigSIGNATURE_KEY
    #define hilconfigSIGNATURE_KEY    "sig-sha256-ecdsa"
#endif

/* Buffers the application hands the agent (the AFR demo's sizes), including the NUL. OTA_PROTOCOL_BUFFER_SIZE is 20. */
#ifndef hilconfigPROTOCOLS_BUFFER_SIZE
    #define hilconfigPROTOCOLS_BUFFER_SIZE    20U
#endif
#ifndef hilconfigSTREAM_NAME_BUFFER_SIZE
    #define hilconfigSTREAM_NAME_BUFFER_SIZE    128U
#endif
#ifndef hilconfigFILE_PATH_BUFFER_SIZE
    #define hilconfigFILE_PATH_BUFFER_SIZE    260U
#endif
#ifndef hilconfigCERT_FILE_BUFFER_SIZE
    #define hilconfigCERT_FILE_BUFFER_SIZE    260U
#endif
#ifndef hilconfigURL_BUFFER_SIZE
    #define hilconfigURL_BUFFER_SIZE    1500U
#endif
#ifndef hilconfigAUTH_SCHEME_BUFFER_SIZE
    #define hilconfigAUTH_SCHEME_BUFFER_SIZE    128U
#endif

/* Block size (otaconfigLOG2_FILE_BLOCK_SIZE 12) and bitmap bytes (otaconfigMAX_BLOCK_BITMAP_SIZE 128): at most
 * 1024 blocks, so 4 MiB, by default. */
#ifndef hilconfigFILE_BLOCK_SIZE
    #define hilconfigFILE_BLOCK_SIZE    4096U
#endif
#ifndef hilconfigMAX_BLOCK_BITMAP_SIZE
    #define hilconfigMAX_BLOCK_BITMAP_SIZE    128U
#endif

/* otaconfigAllowDowngrade: 1 compiles the anti-rollback check out. */
#ifndef hilconfigALLOW_DOWNGRADE
    #define hilconfigALLOW_DOWNGRADE    0
#endif

/* configOTA_FIRMWARE_UPDATE_FILE_TYPE_ID: the fileType whose self test checks the version. */
#ifndef hilconfigFIRMWARE_FILE_TYPE_ID
    #define hilconfigFIRMWARE_FILE_TYPE_ID    0U
#endif

/* Largest certificate the PAL may hand the verifier (PEM with its NUL, or DER): a leaf with a short chain. */
#ifndef hilconfigMAX_CERTIFICATE_SIZE
    #define hilconfigMAX_CERTIFICATE_SIZE    8192U
#endif

/* Longest log line, including the NUL; longer lines are cut, as a device's log buffer cuts them. */
#ifndef hilconfigLOG_LINE_SIZE
    #define hilconfigLOG_LINE_SIZE    512U
#endif

/* Job-status message buffer (OTA_STATUS_MSG_MAX_SIZE is 128). */
#ifndef hilconfigSTATUS_MESSAGE_SIZE
    #define hilconfigSTATUS_MESSAGE_SIZE    128U
#endif

/* otaconfigOTA_UPDATE_STATUS_FREQUENCY: a "receive" status after the first block and every N blocks. */
#ifndef hilconfigUPDATE_STATUS_FREQUENCY
    #define hilconfigUPDATE_STATUS_FREQUENCY    64U
#endif

/* The CC3220SF network processor model (hil_simplelink.h): the security alerts that lock the device
 * (SecurityAlertThreshold, 15 by default [TI; mongoose-os/mos writes 15 into ImageConfig]) and the largest
 * certificate file the model reads (a larger file is not one certificate it can take: CERT_CHAIN_ERROR). */
#ifndef hilconfigSL_SECURITY_ALERT_THRESHOLD
    #define hilconfigSL_SECURITY_ALERT_THRESHOLD    15U
#endif
#ifndef hilconfigSL_MAX_CERTIFICATE_FILE_SIZE
    #define hilconfigSL_MAX_CERTIFICATE_FILE_SIZE    8192U
#endif

#endif /* HIL_CONFIG_DEFAULTS_H */
