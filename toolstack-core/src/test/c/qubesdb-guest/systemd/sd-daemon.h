/* Test material: the one libsystemd call the upstream qubesdb-daemon makes, answered by vchan-over-socket.c. */
#pragma once
int sd_notify(int unset_environment, const char *state);
