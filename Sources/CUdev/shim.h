#ifndef OTARIG_CUDEV_SHIM_H
#define OTARIG_CUDEV_SHIM_H
#include <libudev.h>
#endif
