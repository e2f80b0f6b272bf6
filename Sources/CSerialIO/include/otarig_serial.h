#ifndef OTARIG_SERIAL_H
#define OTARIG_SERIAL_H
#include <stddef.h>

/* Opens a pseudo-terminal pair: the master (non-blocking) and the slave (raw mode), and the slave's path.
   Returns 0, or an errno value. */
int otarig_pty_open(int *master, int *slave, char *path, size_t path_size);

#endif
