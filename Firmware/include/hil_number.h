/*
 * Numbers in job documents as the FreeRTOS OTA agent reads them: strtoul(value, &end, 0) on the raw value text,
 * so hex (0x…) and octal (leading 0) are accepted, a quoted "1024" works, and the value fails unless the whole
 * text is consumed or when it overflows the device's unsigned long (hilconfigULONG_BITS).
 */
#ifndef HIL_NUMBER_H
#define HIL_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "hil_config_defaults.h"

/* 0 on success with *pValue set (truncated to 32 bits, as the agent stores it); -1 for InvalidNumChar. */
int HIL_ParseUInt32( const char * pText,
                     size_t len,
                     uint32_t * pValue );

#endif /* HIL_NUMBER_H */
