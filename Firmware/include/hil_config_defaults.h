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

#endif /* HIL_CONFIG_DEFAULTS_H */
