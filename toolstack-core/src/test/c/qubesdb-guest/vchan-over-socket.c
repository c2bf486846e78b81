/*
 * Test material for UpstreamGuestDaemonTest: the libvchan client API (as declared by qubes-core-vchan-xen's
 * libvchan.h) over a Unix stream socket, so that the unmodified upstream VM-side qubesdb-daemon can run on a
 * host without Xen against compartd's QubesDB server. The socket path comes from $QDB_VCHAN_SOCKET; the domain
 * and port arguments are ignored. Only the client side exists: the daemon runs in VM mode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <libvchan.h>

struct libvchan {
    int fd;
};

int sd_notify(int unset_environment, const char *state) {
    (void)unset_environment;
    (void)state;
    return 0;
}

libvchan_t *libvchan_server_init(int domain, int port, size_t read_min, size_t write_min) {
    (void)domain; (void)port; (void)read_min; (void)write_min;
    errno = ENOSYS;
    return NULL;
}

libvchan_t *libvchan_client_init(int domain, int port) {
    (void)domain; (void)port;
    const char *path = getenv("QDB_VCHAN_SOCKET");
    if (!path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return NULL;
    }
    libvchan_t *ctrl = calloc(1, sizeof(*ctrl));
    if (!ctrl) {
        close(fd);
        return NULL;
    }
    ctrl->fd = fd;
    return ctrl;
}

int libvchan_write(libvchan_t *ctrl, const void *data, size_t size) {
    ssize_t n = write(ctrl->fd, data, size);
    return n < 0 ? -1 : (int)n;
}

int libvchan_send(libvchan_t *ctrl, const void *data, size_t size) {
    size_t done = 0;
    while (done < size) {
        int n = libvchan_write(ctrl, (const char *)data + done, size - done);
        if (n <= 0)
            return -1;
        done += n;
    }
    return (int)size;
}

int libvchan_read(libvchan_t *ctrl, void *data, size_t size) {
    ssize_t n = read(ctrl->fd, data, size);
    return n <= 0 ? -1 : (int)n;
}

int libvchan_recv(libvchan_t *ctrl, void *data, size_t size) {
    size_t done = 0;
    while (done < size) {
        int n = libvchan_read(ctrl, (char *)data + done, size - done);
        if (n < 0)
            return -1;
        done += n;
    }
    return (int)size;
}

int libvchan_wait(libvchan_t *ctrl) {
    (void)ctrl;
    return 0;
}

void libvchan_close(libvchan_t *ctrl) {
    if (ctrl) {
        close(ctrl->fd);
        free(ctrl);
    }
}

EVTCHN libvchan_fd_for_select(libvchan_t *ctrl) {
    return ctrl->fd;
}

int libvchan_is_open(libvchan_t *ctrl) {
    char c;
    ssize_t n = recv(ctrl->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return VCHAN_DISCONNECTED;
    return VCHAN_CONNECTED;
}

int libvchan_data_ready(libvchan_t *ctrl) {
    int n = 0;
    if (ioctl(ctrl->fd, FIONREAD, &n) < 0)
        return 0;
    return n;
}

int libvchan_buffer_space(libvchan_t *ctrl) {
    (void)ctrl;
    return 4096;
}

void libvchan_set_blocking(libvchan_t *ctrl, bool blocking) {
    (void)ctrl;
    (void)blocking;
}
