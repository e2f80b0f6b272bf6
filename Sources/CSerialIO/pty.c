#define _GNU_SOURCE
#include "otarig_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
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

int otarig_pty_packet_mode(int master)
{
    int on = 1;
    if (ioctl(master, TIOCPKT, &on) != 0) return errno;
    struct termios settings;
    if (tcgetattr(master, &settings) == 0) {
        settings.c_lflag |= EXTPROC;
        tcsetattr(master, TCSANOW, &settings);
    }
    /* Setting EXTPROC was itself a termios change: drop the status it raised. */
    unsigned char status[64];
    int flags = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, flags | O_NONBLOCK);
    while (read(master, status, sizeof status) > 0) {}
    fcntl(master, F_SETFL, flags);
    return 0;
}

unsigned otarig_pty_host_baud(int master)
{
    struct termios settings;
    if (tcgetattr(master, &settings) != 0) return 0;
    switch (cfgetospeed(&settings)) {
    case B9600: return 9600;
    case B19200: return 19200;
    case B38400: return 38400;
    case B57600: return 57600;
    case B115200: return 115200;
    case B230400: return 230400;
    case B460800: return 460800;
    case B921600: return 921600;
    default: return 0;
    }
}
