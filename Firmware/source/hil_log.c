/* Line logging for the verifier core; see hil_log.h. */
#include "hil_log.h"

#include <stdarg.h>
#include <stdio.h>

void HIL_Log( HilLogger_t * pLogger,
              HilLogLevel_t level,
              const char * pFormat,
              ... )
{
    va_list args;

    if( ( pLogger == NULL ) || ( pLogger->log == NULL ) )
    {
        return;
    }

    va_start( args, pFormat );
    ( void ) vsnprintf( pLogger->line, sizeof( pLogger->line ), pFormat, args );
    va_end( args );
    pLogger->log( pLogger->pContext, level, pLogger->line );
}

const char * HIL_LogLevelName( HilLogLevel_t level )
{
    switch( level )
    {
        case HilLogError: return "ERROR";
        case HilLogWarn: return "WARN";
        case HilLogInfo: return "INFO";
        default: return "DEBUG";
    }
}
