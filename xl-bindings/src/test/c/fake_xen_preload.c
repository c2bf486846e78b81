/*
 * TEST ONLY — never used outside xl-bindings' unit tests.
 *
 * An LD_PRELOAD library that lets libxl_ctx_alloc() succeed on a machine without a hypervisor, so that the
 * JSON path (libxl_domain_config_from_json / _to_json, the device variants), libxl_childproc_setmode and
 * libxl_ctx_free can be exercised against the real libxenlight.so.4.17. It replaces exactly the four functions
 * libxl_ctx_alloc/libxl_ctx_free call to reach Xen: the libxenctrl handle open/close and the xenstore open/close.
 * The handles it returns are dummies: any call that would really talk to Xen (hypercalls, xenstore requests)
 * must not be made under this preload.
 */
#include <stddef.h>

struct fake_handle { char tag[16]; };
static struct fake_handle fake_xc = { "fake-xc" };
static struct fake_handle fake_xs = { "fake-xs" };

void *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags) {
    (void)logger; (void)dombuild_logger; (void)open_flags;
    return &fake_xc;
}

int xc_interface_close(void *xch) {
    (void)xch;
    return 0;
}

void *xs_open(unsigned long flags) {
    (void)flags;
    return &fake_xs;
}

void xs_close(void *xsh) {
    (void)xsh;
}
