#ifndef OTARIG_SERIAL_H
#define OTARIG_SERIAL_H
#include <stddef.h>

/* Opens a pseudo-terminal pair: the master (non-blocking) and the slave (raw mode), and the slave's path.
   Returns 0, or an errno value. */
int otarig_pty_open(int *master, int *slave, char *path, size_t path_size);

/* Puts the master of a pseudo-terminal in packet mode (TIOCPKT): every read then starts with a status byte, 0 for
   data or TIOCPKT_* flags (0x01 FLUSHREAD when the slave side flushed its input, as a host does right before it sends
   a BREAK, which a pty cannot carry). Also sets EXTPROC on the slave's termios so the host's tcsetattr calls show up
   as 0x40 (TIOCPKT_IOCTL). Returns 0 or an errno value. */
int otarig_pty_packet_mode(int master);
/* The slave side's output speed as the host last set it (tcgetattr on the master acts on the slave), in baud;
   0 when unknown. */
unsigned otarig_pty_host_baud(int master);

#endif

/* Opens a serial port raw 8N1 at `baud` (a standard rate), non-blocking reads handled by the caller with poll.
   Returns the descriptor, or -errno. */
int otarig_serial_open(const char *path, unsigned baud);
/* Sets the line speed. Returns 0 or an errno value (EINVAL for a rate termios does not name). */
int otarig_serial_set_baud(int fd, unsigned baud);
/* Sets DTR and RTS (1 = asserted, i.e. the line driven low) in one TIOCMSET. Returns 0 or an errno value
   (ENOTTY on a plain pseudo-terminal, which has no modem lines). */
int otarig_serial_set_lines(int fd, int dtr, int rts);
/* Holds the TX line in BREAK (on = 1) or releases it (TIOCSBRK / TIOCCBRK). Returns 0 or an errno value. */
int otarig_serial_set_break(int fd, int on);
