#define _GNU_SOURCE
#include "otarig_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static speed_t speed_for(unsigned baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 576000: return B576000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 1500000: return B1500000;
    case 2000000: return B2000000;
    case 3000000: return B3000000;
    default: return 0;
    }
}

int otarig_serial_set_baud(int fd, unsigned baud)
{
    speed_t speed = speed_for(baud);
    if (speed == 0) return EINVAL;
    struct termios settings;
    if (tcgetattr(fd, &settings) != 0) return errno;
    cfsetispeed(&settings, speed);
    cfsetospeed(&settings, speed);
    if (tcsetattr(fd, TCSANOW, &settings) != 0) return errno;
    return 0;
}

int otarig_serial_open(const char *path, unsigned baud)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct termios settings;
    if (tcgetattr(fd, &settings) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    cfmakeraw(&settings);
    settings.c_cflag |= (CLOCAL | CREAD);
    settings.c_cflag &= ~(CSTOPB | CRTSCTS);
    settings.c_iflag &= ~(IXON | IXOFF | IXANY);
    settings.c_cc[VMIN] = 0;
    settings.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &settings) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    int error = otarig_serial_set_baud(fd, baud);
    if (error != 0) {
        close(fd);
        return -error;
    }
    tcflush(fd, TCIOFLUSH);
    return fd;
}

int otarig_serial_set_lines(int fd, int dtr, int rts)
{
    int lines = 0;
    if (ioctl(fd, TIOCMGET, &lines) != 0) return errno;
    lines = dtr ? (lines | TIOCM_DTR) : (lines & ~TIOCM_DTR);
    lines = rts ? (lines | TIOCM_RTS) : (lines & ~TIOCM_RTS);
    if (ioctl(fd, TIOCMSET, &lines) != 0) return errno;
    return 0;
}

int otarig_serial_set_break(int fd, int on)
{
    if (ioctl(fd, on ? TIOCSBRK : TIOCCBRK) != 0) return errno;
    return 0;
}
