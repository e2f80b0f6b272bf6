/*
 * Log lines through a caller's callback. The verifier formats each line into the logger's own buffer (no heap),
 * with the FreeRTOS OTA agent's text, and hands it to the callback with its level; the callback decides how to
 * print it (a device console adds its own prefix).
 */
#ifndef HIL_LOG_H
#define HIL_LOG_H

#include "hil_config_defaults.h"

/* The LogError / LogWarn / LogInfo / LogDebug levels of the FreeRTOS logging macros. */
typedef enum HilLogLevel
{
    HilLogError = 1,
    HilLogWarn = 2,
    HilLogInfo = 3,
    HilLogDebug = 4
} HilLogLevel_t;

typedef void ( * HilLogLine_t )( void * pContext,
                                 HilLogLevel_t level,
                                 const char * pLine );

typedef struct HilLogger
{
    HilLogLine_t log;    /* NULL: lines are dropped */
    void * pContext;
    char line[ hilconfigLOG_LINE_SIZE ];
} HilLogger_t;

#if defined( __GNUC__ )
    #define HIL_PRINTF_LIKE( fmt, args )    __attribute__( ( format( printf, fmt, args ) ) )
#else
    #define HIL_PRINTF_LIKE( fmt, args )
#endif

/* Formats one line and passes it on. pLogger may be NULL. */
void HIL_Log( HilLogger_t * pLogger,
              HilLogLevel_t level,
              const char * pFormat,
              ... ) HIL_PRINTF_LIKE( 3, 4 );

/* "ERROR", "WARN", "INFO", "DEBUG": the level names FreeRTOS's logging prints. */
const char * HIL_LogLevelName( HilLogLevel_t level );

#endif /* HIL_LOG_H */
