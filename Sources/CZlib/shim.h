#ifndef OTARIG_CZLIB_SHIM_H
#define OTARIG_CZLIB_SHIM_H
#include <zlib.h>
#endif
