/*
 * Test material: the libvchan API (as declared by qubes-core-vchan-xen's libvchan.h) over Unix stream sockets,
 * so that unmodified upstream Qubes guest programs (the VM-side qubesdb-daemon, qrexec-agent, qrexec-client-vm)
 * run on a host without Xen against compartd's Java side. Two modes:
 *  - $VCHAN_SOCKET_DIR and $VCHAN_DOMID set: every vchan is the socket DIR/SERVER.CLIENT.PORT (domain ids), the
 *    server side listens there and the client connects, as libvchan-xen's xenstore path
 *    /local/domain/SERVER/data/vchan/CLIENT/PORT; $VCHAN_DOMID is this process' own domain id.
 *  - else $QDB_VCHAN_SOCKET: clients connect to that one socket whatever the domain and port (QubesDB).
 * A server accepts its one client lazily (libvchan_is_open polls, I/O and libvchan_wait block), like a vchan
 * server whose ring exists before its client maps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <libvchan.h>

struct libvchan {
    int fd;        /* the connection, -1 until a server accepted or a client connected */
    int listen_fd; /* server only */
    int event_fd;  /* async client only: always readable, so the caller retries the connection */
    struct sockaddr_un addr;
};

int sd_notify(int unset_environment, const char *state) {
    (void)unset_environment;
    (void)state;
    return 0;
}

static int own_domid(void) {
    const char *d = getenv("VCHAN_DOMID");
    return d ? atoi(d) : -1;
}

static int socket_path(struct sockaddr_un *addr, int server, int client, int port) {
    const char *dir = getenv("VCHAN_SOCKET_DIR");
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (!dir || own_domid() < 0) {
        const char *one = getenv("QDB_VCHAN_SOCKET");
        if (!one || strlen(one) >= sizeof(addr->sun_path))
            return -1;
        strcpy(addr->sun_path, one);
        return 0;
    }
    int n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%d.%d.%d", dir, server, client, port);
    return n < 0 || n >= (int)sizeof(addr->sun_path) ? -1 : 0;
}

static libvchan_t *alloc_ctrl(void) {
    libvchan_t *ctrl = calloc(1, sizeof(*ctrl));
    if (ctrl) {
        ctrl->fd = -1;
        ctrl->listen_fd = -1;
        ctrl->event_fd = -1;
    }
    return ctrl;
}

libvchan_t *libvchan_server_init(int domain, int port, size_t read_min, size_t write_min) {
    (void)read_min; (void)write_min;
    libvchan_t *ctrl = alloc_ctrl();
    if (!ctrl)
        return NULL;
    if (socket_path(&ctrl->addr, own_domid(), domain, port) < 0 || !getenv("VCHAN_SOCKET_DIR"))
        goto fail;
    ctrl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ctrl->listen_fd < 0)
        goto fail;
    unlink(ctrl->addr.sun_path);
    if (bind(ctrl->listen_fd, (struct sockaddr *)&ctrl->addr, sizeof(ctrl->addr)) < 0
            || listen(ctrl->listen_fd, 1) < 0)
        goto fail;
    return ctrl;
fail:
    if (ctrl->listen_fd >= 0)
        close(ctrl->listen_fd);
    free(ctrl);
    errno = ENOSYS;
    return NULL;
}

/* Server: takes the client, waiting for it when blocking. Returns whether connected. */
static int accept_client(libvchan_t *ctrl, int blocking) {
    if (ctrl->fd >= 0 || ctrl->listen_fd < 0)
        return ctrl->fd >= 0;
    struct pollfd p = { .fd = ctrl->listen_fd, .events = POLLIN };
    if (poll(&p, 1, blocking ? -1 : 0) <= 0)
        return 0;
    ctrl->fd = accept4(ctrl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (ctrl->fd >= 0) {
        close(ctrl->listen_fd);
        ctrl->listen_fd = -1;
        unlink(ctrl->addr.sun_path);
    }
    return ctrl->fd >= 0;
}

static int try_connect(libvchan_t *ctrl) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ctrl->addr, sizeof(ctrl->addr)) < 0) {
        close(fd);
        return -1;
    }
    ctrl->fd = fd;
    return 0;
}

libvchan_t *libvchan_client_init(int domain, int port) {
    libvchan_t *ctrl = alloc_ctrl();
    if (!ctrl)
        return NULL;
    if (socket_path(&ctrl->addr, domain, own_domid(), port) < 0)
        goto fail;
    /* with one fixed socket (QubesDB) one attempt; per-port sockets are waited for, as libvchan-xen waits for
     * the server to appear in xenstore */
    while (try_connect(ctrl) < 0) {
        if (!getenv("VCHAN_SOCKET_DIR") || (errno != ENOENT && errno != ECONNREFUSED))
            goto fail;
        usleep(10000);
    }
    return ctrl;
fail:
    free(ctrl);
    return NULL;
}

libvchan_t *libvchan_client_init_async(int domain, int port, EVTCHN *watch_fd) {
    libvchan_t *ctrl = alloc_ctrl();
    if (!ctrl)
        return NULL;
    if (socket_path(&ctrl->addr, domain, own_domid(), port) < 0)
        goto fail;
    ctrl->event_fd = eventfd(1, EFD_CLOEXEC);
    if (ctrl->event_fd < 0)
        goto fail;
    *watch_fd = ctrl->event_fd;
    return ctrl;
fail:
    free(ctrl);
    return NULL;
}

int libvchan_client_init_async_finish(libvchan_t *ctrl, bool blocking) {
    (void)blocking;
    if (try_connect(ctrl) == 0)
        return 0;
    if (errno != ENOENT && errno != ECONNREFUSED)
        return -1;
    usleep(10000); /* the event fd stays readable: the caller polls again */
    return 1;
}

int libvchan_write(libvchan_t *ctrl, const void *data, size_t size) {
    if (!accept_client(ctrl, 1))
        return -1;
    ssize_t n = send(ctrl->fd, data, size, MSG_NOSIGNAL);
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
    if (!accept_client(ctrl, 1))
        return -1;
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
    if (!accept_client(ctrl, 1))
        return -1;
    struct pollfd p = { .fd = ctrl->fd, .events = POLLIN };
    return poll(&p, 1, -1) < 0 && errno != EINTR ? -1 : 0;
}

void libvchan_close(libvchan_t *ctrl) {
    if (!ctrl)
        return;
    if (ctrl->fd >= 0)
        close(ctrl->fd);
    if (ctrl->listen_fd >= 0) {
        close(ctrl->listen_fd);
        unlink(ctrl->addr.sun_path);
    }
    if (ctrl->event_fd >= 0)
        close(ctrl->event_fd);
    free(ctrl);
}

EVTCHN libvchan_fd_for_select(libvchan_t *ctrl) {
    return ctrl->fd >= 0 ? ctrl->fd : ctrl->listen_fd;
}

int libvchan_is_open(libvchan_t *ctrl) {
    if (ctrl->fd < 0)
        return accept_client(ctrl, 0) ? VCHAN_CONNECTED : (ctrl->listen_fd >= 0 ? VCHAN_WAITING
                : VCHAN_DISCONNECTED);
    char c;
    ssize_t n = recv(ctrl->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return VCHAN_DISCONNECTED;
    return VCHAN_CONNECTED;
}

int libvchan_data_ready(libvchan_t *ctrl) {
    int n = 0;
    if (ctrl->fd < 0 || ioctl(ctrl->fd, FIONREAD, &n) < 0)
        return 0;
    return n;
}

int libvchan_buffer_space(libvchan_t *ctrl) {
    (void)ctrl;
    return 65536;
}

void libvchan_set_blocking(libvchan_t *ctrl, bool blocking) {
    (void)ctrl;
    (void)blocking;
}
