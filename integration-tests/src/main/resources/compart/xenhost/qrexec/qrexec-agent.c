/*
 * Compart's minimal qrexec agent for the test guests (protocol version 3, our own code).
 *
 *   qrexec-agent                      serve: control vchan server to dom0 on port 512
 *   qrexec-client-vm TARGET SERVICE   (same binary, by argv[0] or "call"): call SERVICE in TARGET through dom0,
 *                                     stdin -> service, service stdout -> stdout, exit with its exit code
 *                                     (126 when refused)
 *   xenstore-read PATH                (by argv[0]) print the node's value; exit 1 if it does not exist
 *   xenstore-write PATH VALUE         (by argv[0]) write the node (what a net qube's vif hotplug handler needs)
 *   xenstore-rm PATH                  (by argv[0]) remove the node and what is below it (a net qube removes a
 *                                     closed client's vif backend, as xl devd does in a driver domain)
 * Relative paths are relative to the guest's own /local/domain/SELF, as with Xen's xenstore tools.
 *
 * Requests from dom0: MSG_EXEC_CMDLINE "USER:COMMAND" runs /bin/sh -c COMMAND (user ignored: busybox guest);
 * "USER:QUBESRPC SERVICE+ARG SOURCE" runs /etc/qubes-rpc/SERVICE with QREXEC_REMOTE_DOMAIN and
 * QREXEC_SERVICE_ARGUMENT. Each request forks a child that connects, as vchan client, to the data vchan dom0
 * offered (/local/domain/D/data/vchan/SELF/PORT: dom0's for its commands, the calling qube's for a call between
 * qubes) and relays stdin/stdout/stderr/exit code; when the child ends, the agent reports
 * MSG_CONNECTION_TERMINATED (D, PORT) so that dom0 frees the port, as Qubes' agent does.
 * A local caller connects to the unix socket /run/qrexec-agent.sock and sends "TARGET\0SERVICE\0"; the agent
 * sends MSG_TRIGGER_SERVICE3 with ident "SOCKETfd" and answers the caller "connect D P\n" or "refused\n"; the
 * caller then serves the data vchan to domain D on PORT (data/vchan/D/PORT), as Qubes' qrexec-client-vm does:
 * the target qube connects to it directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libxenvchan.h>
#include <xenstore.h>

#define MSG_DATA_STDIN 0x190
#define MSG_DATA_STDOUT 0x191
#define MSG_DATA_STDERR 0x192
#define MSG_DATA_EXIT_CODE 0x193
#define MSG_EXEC_CMDLINE 0x200
#define MSG_JUST_EXEC 0x201
#define MSG_SERVICE_CONNECT 0x202
#define MSG_SERVICE_REFUSED 0x203
#define MSG_TRIGGER_SERVICE3 0x212
#define MSG_CONNECTION_TERMINATED 0x211
#define MSG_HELLO 0x300
#define CONTROL_PORT 512
#define MAX_PAYLOAD (65536 + 128)
#define CHUNK 16384
#define SOCKET_PATH "/run/qrexec-agent.sock"
#define MAX_PENDING 16

struct header { uint32_t type, len; };

static void die(const char *what) {
    fprintf(stderr, "qrexec-agent: %s: %s\n", what, strerror(errno));
    exit(125);
}

static int own_domid(void) {
    struct xs_handle *xs = xs_open(0);
    if (!xs) die("xs_open");
    unsigned int len;
    char *s = xs_read(xs, XBT_NULL, "domid", &len);
    if (!s) die("xenstore read domid");
    int id = atoi(s);
    free(s);
    xs_close(xs);
    return id;
}

static int send_msg(struct libxenvchan *v, uint32_t type, const void *data, uint32_t len) {
    struct header h = { type, len };
    const char *parts[2] = { (const char *) &h, data };
    size_t sizes[2] = { sizeof h, len };
    for (int i = 0; i < 2; i++) {
        size_t done = 0;
        while (done < sizes[i]) {
            int n = libxenvchan_write(v, parts[i] + done, sizes[i] - done);
            if (n < 0) return -1;
            done += n;
        }
    }
    return 0;
}

/* Reads one whole message (blocking vchan); payload gets a NUL after it. Returns type or -1. */
static int recv_msg(struct libxenvchan *v, char *payload, uint32_t *len) {
    struct header h;
    if (libxenvchan_recv(v, &h, sizeof h) != (int) sizeof h) return -1;
    if (h.len > MAX_PAYLOAD) { fprintf(stderr, "qrexec-agent: message too long\n"); return -1; }
    if (h.len && libxenvchan_recv(v, payload, h.len) != (int) h.len) return -1;
    payload[h.len] = 0;
    *len = h.len;
    return (int) h.type;
}

static int handshake(struct libxenvchan *v) {
    uint32_t version = 3, len;
    static char buf[MAX_PAYLOAD + 1];
    if (send_msg(v, MSG_HELLO, &version, 4) < 0) return -1;
    int type = recv_msg(v, buf, &len);
    if (type != MSG_HELLO || len != 4) return -1;
    memcpy(&version, buf, 4);
    return version >= 3 ? 0 : -1;
}

static struct libxenvchan *connect_data(int domain, int port) {
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%d/data/vchan/%d/%d", domain, own_domid(), port);
    struct libxenvchan *v = NULL;
    for (int tries = 0; tries < 600 && !v; tries++) { /* 30 s: dom0 under TCG can be slow to serve it */
        v = libxenvchan_client_init(NULL, domain, path);
        if (!v) usleep(50000);
    }
    if (!v) die(path);
    v->blocking = 1;
    if (handshake(v) < 0) { fprintf(stderr, "qrexec-agent: data handshake failed\n"); exit(125); }
    return v;
}

/* The caller's end of a call between qubes: serves the data vchan the target qube D connects to. */
static struct libxenvchan *serve_data(int domain, int port) {
    char path[64];
    snprintf(path, sizeof path, "data/vchan/%d/%d", domain, port);
    struct libxenvchan *v = libxenvchan_server_init(NULL, domain, path, 65536, 65536);
    if (!v) die(path);
    v->blocking = 1;
    while (libxenvchan_is_open(v) == 2) libxenvchan_wait(v);
    if (handshake(v) < 0) { fprintf(stderr, "qrexec-agent: data handshake failed\n"); exit(125); }
    return v;
}

/*
 * Relays between a data vchan and local fds. Service side (in_fd = process stdin, out/err = its output):
 * sends STDOUT/STDERR and finally the exit code of pid. Caller side (pid 0): sends STDIN from out_fd,
 * writes received STDOUT to in_fd, STDERR to err_fd, and returns the received exit code.
 */
static int relay(struct libxenvchan *v, int in_fd, int out_fd, int err_fd, pid_t pid) {
    static char buf[MAX_PAYLOAD + 1];
    int service = pid > 0;
    int out_open = out_fd >= 0, err_open = service && err_fd >= 0;
    uint32_t out_type = service ? MSG_DATA_STDOUT : MSG_DATA_STDIN;
    int exit_code = -1;
    if (!out_open) send_msg(v, out_type, "", 0);
    for (;;) {
        while (libxenvchan_data_ready(v) > 0) {
            uint32_t len;
            int type = recv_msg(v, buf, &len);
            if (type < 0) return service ? 0 : 125;
            if (service && type == MSG_DATA_STDIN) {
                if (len == 0) { if (in_fd >= 0) close(in_fd); in_fd = -1; }
                else if (in_fd >= 0 && write(in_fd, buf, len) < 0) { close(in_fd); in_fd = -1; }
            } else if (!service && (type == MSG_DATA_STDOUT || type == MSG_DATA_STDERR)) {
                int fd = type == MSG_DATA_STDOUT ? in_fd : err_fd;
                if (len > 0 && fd >= 0 && write(fd, buf, len) < 0) { /* reader gone: drop */ }
            } else if (!service && type == MSG_DATA_EXIT_CODE && len == 4) {
                memcpy(&exit_code, buf, 4);
                return exit_code;
            }
        }
        if (service && !out_open && !err_open) {
            int status;
            waitpid(pid, &status, 0);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            send_msg(v, MSG_DATA_EXIT_CODE, &code, 4);
            return code;
        }
        if (!libxenvchan_is_open(v)) {
            /* the peer may write its last messages and close between data_ready and this check: read them */
            if (libxenvchan_data_ready(v) > 0) continue;
            return service ? 0 : 125;
        }
        struct pollfd fds[3] = { { libxenvchan_fd_for_select(v), POLLIN, 0 },
                                 { out_open ? out_fd : -1, POLLIN, 0 }, { err_open ? err_fd : -1, POLLIN, 0 } };
        if (poll(fds, 3, -1) < 0 && errno != EINTR) die("poll");
        if (fds[0].revents) libxenvchan_wait(v);
        for (int i = 1; i < 3; i++) {
            if (!fds[i].revents) continue;
            int n = read(fds[i].fd, buf, CHUNK);
            uint32_t type = i == 1 ? out_type : MSG_DATA_STDERR;
            if (n <= 0) {
                send_msg(v, type, "", 0);
                close(fds[i].fd);
                if (i == 1) out_open = 0; else err_open = 0;
            } else {
                send_msg(v, type, buf, n);
            }
        }
    }
}

/* Child of the agent: run one request from dom0 and exit. */
static void run_request(int type, int domain, int port, char *cmdline) {
    signal(SIGCHLD, SIG_DFL); /* the agent ignores it; this child waits for its command, and exec keeps SIG_IGN */
    struct libxenvchan *v = connect_data(domain, port);
    char *colon = strchr(cmdline, ':');
    char *command = colon ? colon + 1 : cmdline;
    if (type == MSG_JUST_EXEC) {
        if (fork() == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0); dup2(null, 1); dup2(null, 2);
            execl("/bin/sh", "sh", "-c", command, (char *) NULL);
            _exit(127);
        }
        int zero = 0;
        send_msg(v, MSG_DATA_EXIT_CODE, &zero, 4);
        libxenvchan_close(v);
        exit(0);
    }
    int in[2], out[2], err[2];
    if (pipe(in) || pipe(out) || pipe(err)) die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1); dup2(err[1], 2);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
        if (strncmp(command, "QUBESRPC ", 9) == 0) {
            char *service = command + 9, *source = strchr(service, ' ');
            if (source) *source++ = 0;
            char *arg = strchr(service, '+');
            if (arg) *arg++ = 0;
            setenv("QREXEC_REMOTE_DOMAIN", source ? source : "", 1);
            setenv("QREXEC_SERVICE_ARGUMENT", arg ? arg : "", 1);
            char path[256];
            snprintf(path, sizeof path, "/etc/qubes-rpc/%s", service);
            execl(path, service, (char *) NULL);
            fprintf(stderr, "no such service: %s\n", service);
            _exit(127);
        }
        execl("/bin/sh", "sh", "-c", command, (char *) NULL);
        _exit(127);
    }
    close(in[0]); close(out[1]); close(err[1]);
    signal(SIGPIPE, SIG_IGN);
    relay(v, in[1], out[0], err[0], pid);
    libxenvchan_close(v);
    exit(0);
}

struct pending { int fd; char ident[32]; };

/* Children handling a request, to report MSG_CONNECTION_TERMINATED when they end. */
#define MAX_CHILDREN 256
static struct child { pid_t pid; uint32_t domain, port; } children[MAX_CHILDREN];

static void on_sigchld(int sig) {
    (void) sig; /* only interrupts poll() */
}

static void report_ended_children(struct libxenvchan *ctrl) {
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid != pid) continue;
            uint32_t params[2] = { children[i].domain, children[i].port };
            children[i].pid = 0;
            if (ctrl) send_msg(ctrl, MSG_CONNECTION_TERMINATED, params, 8);
        }
    }
}

static void serve(void) {
    static char buf[MAX_PAYLOAD + 1];
    struct pending pending[MAX_PENDING];
    int npending = 0;
    unlink(SOCKET_PATH);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, SOCKET_PATH);
    if (listener < 0 || bind(listener, (struct sockaddr *) &addr, sizeof addr) || listen(listener, 8)) die("socket");
    struct sigaction chld = { .sa_handler = on_sigchld }; /* no SA_RESTART: poll() returns */
    sigemptyset(&chld.sa_mask);
    sigaction(SIGCHLD, &chld, NULL);
    for (;;) {
        struct libxenvchan *ctrl = libxenvchan_server_init(NULL, 0, "data/vchan/0/512", 65536, 65536);
        if (!ctrl) die("libxenvchan_server_init data/vchan/0/512");
        ctrl->blocking = 1;
        printf("COMPART-GUEST: qrexec-agent listening domid=%d\n", own_domid());
        fflush(stdout);
        while (libxenvchan_is_open(ctrl) == 2) libxenvchan_wait(ctrl);
        if (handshake(ctrl) < 0) { fprintf(stderr, "qrexec-agent: control handshake failed\n"); goto reconnect; }
        printf("COMPART-GUEST: qrexec-agent connected\n");
        fflush(stdout);
        for (;;) {
            while (libxenvchan_data_ready(ctrl) > 0) {
                uint32_t len;
                int type = recv_msg(ctrl, buf, &len);
                if (type < 0) goto reconnect;
                if ((type == MSG_EXEC_CMDLINE || type == MSG_JUST_EXEC) && len > 8 && buf[len - 1] == 0) {
                    uint32_t domain, port;
                    memcpy(&domain, buf, 4); memcpy(&port, buf + 4, 4);
                    pid_t child = fork();
                    if (child == 0) { close(listener); run_request(type, domain, port, buf + 8); }
                    for (int i = 0; child > 0 && i < MAX_CHILDREN; i++) {
                        if (children[i].pid) continue;
                        children[i] = (struct child) { child, domain, port };
                        break;
                    }
                } else if (type == MSG_SERVICE_CONNECT || type == MSG_SERVICE_REFUSED) {
                    const char *ident = type == MSG_SERVICE_CONNECT ? buf + 8 : buf;
                    for (int i = 0; i < npending; i++) {
                        if (strncmp(pending[i].ident, ident, 32) != 0) continue;
                        char answer[64];
                        uint32_t domain = 0, port = 0;
                        if (type == MSG_SERVICE_CONNECT) { memcpy(&domain, buf, 4); memcpy(&port, buf + 4, 4); }
                        int n = type == MSG_SERVICE_CONNECT
                                ? snprintf(answer, sizeof answer, "connect %u %u\n", domain, port)
                                : snprintf(answer, sizeof answer, "refused\n");
                        if (write(pending[i].fd, answer, n) < 0) { /* caller gone */ }
                        close(pending[i].fd);
                        pending[i] = pending[--npending];
                        break;
                    }
                } else {
                    fprintf(stderr, "qrexec-agent: ignoring message 0x%x\n", type);
                }
            }
            if (!libxenvchan_is_open(ctrl)) goto reconnect;
            struct pollfd fds[2] = { { libxenvchan_fd_for_select(ctrl), POLLIN, 0 }, { listener, POLLIN, 0 } };
            if (poll(fds, 2, -1) < 0 && errno != EINTR) die("poll");
            report_ended_children(ctrl);
            if (fds[0].revents) libxenvchan_wait(ctrl);
            if (fds[1].revents) {
                int fd = accept(listener, NULL, NULL);
                if (fd < 0) continue;
                char request[512];
                int n = read(fd, request, sizeof request - 1);
                char *target = request, *service = NULL;
                if (n > 0) { request[n] = 0; service = memchr(request, 0, n) ? request + strlen(request) + 1 : NULL; }
                if (!service || !*service || npending == MAX_PENDING || strlen(target) >= 64) {
                    if (write(fd, "refused\n", 8) < 0) { /* gone */ }
                    close(fd);
                    continue;
                }
                char msg[64 + 32 + 512];
                memset(msg, 0, 96);
                strcpy(msg, target);
                snprintf(msg + 64, 32, "SOCKET%d", fd);
                strcpy(msg + 96, service);
                pending[npending].fd = fd;
                memcpy(pending[npending].ident, msg + 64, 32);
                npending++;
                send_msg(ctrl, MSG_TRIGGER_SERVICE3, msg, 96 + strlen(service) + 1);
            }
        }
reconnect:
        printf("COMPART-GUEST: qrexec-agent disconnected\n");
        fflush(stdout);
        libxenvchan_close(ctrl);
        for (int i = 0; i < npending; i++) close(pending[i].fd);
        npending = 0;
    }
}

static int call(const char *target, const char *service) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, SOCKET_PATH);
    if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof addr)) die("connect " SOCKET_PATH);
    char request[512];
    int n = snprintf(request, sizeof request, "%s%c%s", target, 0, service);
    if (write(fd, request, n + 1) != n + 1) die("write request");
    char answer[64];
    n = read(fd, answer, sizeof answer - 1);
    close(fd);
    if (n <= 0) die("read answer");
    answer[n] = 0;
    unsigned domain, port;
    if (sscanf(answer, "connect %u %u", &domain, &port) != 2) {
        fprintf(stderr, "Request refused\n");
        return 126;
    }
    struct libxenvchan *v = serve_data(domain, port);
    signal(SIGPIPE, SIG_IGN);
    int code = relay(v, 1, 0, 2, 0);
    libxenvchan_close(v);
    return code;
}

/* xenstore-read / xenstore-write / xenstore-rm for the busybox guest, which has no Xen tools */
static int xenstore_tool(const char *name, int argc, char **argv) {
    struct xs_handle *xs = xs_open(0);
    if (!xs) die("xs_open");
    int rc = 0;
    if (strcmp(name, "xenstore-read") == 0 && argc == 2) {
        unsigned int len;
        char *s = xs_read(xs, XBT_NULL, argv[1], &len);
        if (s) {
            printf("%.*s\n", (int) len, s);
            free(s);
        } else {
            fprintf(stderr, "xenstore-read: %s: %s\n", argv[1], strerror(errno));
            rc = 1;
        }
    } else if (strcmp(name, "xenstore-write") == 0 && argc == 3) {
        if (!xs_write(xs, XBT_NULL, argv[1], argv[2], strlen(argv[2]))) {
            fprintf(stderr, "xenstore-write: %s: %s\n", argv[1], strerror(errno));
            rc = 1;
        }
    } else if (strcmp(name, "xenstore-rm") == 0 && argc == 2) {
        if (!xs_rm(xs, XBT_NULL, argv[1])) {
            fprintf(stderr, "xenstore-rm: %s: %s\n", argv[1], strerror(errno));
            rc = 1;
        }
    } else {
        fprintf(stderr, "usage: xenstore-read PATH | xenstore-write PATH VALUE | xenstore-rm PATH\n");
        rc = 2;
    }
    xs_close(xs);
    return rc;
}

int main(int argc, char **argv) {
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "qrexec-client-vm") == 0 && argc == 3) return call(argv[1], argv[2]);
    if (strncmp(name, "xenstore-", 9) == 0) return xenstore_tool(name, argc, argv);
    if (argc == 4 && strcmp(argv[1], "call") == 0) return call(argv[2], argv[3]);
    if (argc == 1) serve();
    fprintf(stderr, "usage: qrexec-agent | qrexec-client-vm TARGET SERVICE\n");
    return 2;
}
