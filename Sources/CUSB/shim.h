#ifndef OTARIG_CUSB_SHIM_H
#define OTARIG_CUSB_SHIM_H
// libusb 1.0 (Debian libusb-1.0-0-dev); pkg-config libusb-1.0 puts its include directory on the path.
#include <libusb.h>
#endif
