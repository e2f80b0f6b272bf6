#define _GNU_SOURCE
#include "otarig_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

int otarig_pty_open(int *master, int *slave, char *path, size_t path_size)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return errno;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, path, path_size) != 0) {
        int error = errno;
        close(m);
        return error;
    }
    int s = open(path, O_RDWR | O_NOCTTY);
    if (s < 0) {
        int error = errno;
        close(m);
        return error;
    }
    struct termios settings;
    if (tcgetattr(s, &settings) == 0) {
        cfmakeraw(&settings);
        tcsetattr(s, TCSANOW, &settings);
    }
    int flags = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, flags | O_NONBLOCK);
    *master = m;
    *slave = s;
    return 0;
}
