/*
 * Layout probe for compart.xl: prints, from the installed Xen 4.17 headers, the size, alignment and field
 * offsets/sizes of every C struct the Java side declares as a MemoryLayout, and the constants it hard-codes.
 * LayoutProbeTest compiles this with gcc, runs it and compares each line with the Java layouts.
 *
 * Output lines:  S <type> <sizeof> <alignof>
 *                F <type>.<field> <offsetof> <sizeof field>
 *                C <NAME> <value>
 */
#define LIBXL_API_VERSION 0x041300
#include <stddef.h>
#include <stdio.h>
#include <stdalign.h>
#include <signal.h>
#include <poll.h>
#include <sys/time.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>
#include <xenctrl.h>
#include <xenstore.h>

#define S(T)        printf("S %s %zu %zu\n", #T, sizeof(T), alignof(T))
#define SN(N, T)    printf("S %s %zu %zu\n", N, sizeof(T), alignof(T))
#define F(T, f)     printf("F %s.%s %zu %zu\n", #T, #f, offsetof(T, f), sizeof(((T *)0)->f))
#define FN(N, T, f, path) printf("F %s.%s %zu %zu\n", N, f, offsetof(T, path), sizeof(((T *)0)->path))
#define C(X)        printf("C %s %lld\n", #X, (long long)(X))

int main(void) {
    /* libxl */
    S(libxl_uuid);
    F(libxl_uuid, uuid);

    S(libxl_dominfo);
    F(libxl_dominfo, uuid); F(libxl_dominfo, domid); F(libxl_dominfo, ssidref); F(libxl_dominfo, ssid_label);
    F(libxl_dominfo, running); F(libxl_dominfo, blocked); F(libxl_dominfo, paused); F(libxl_dominfo, shutdown);
    F(libxl_dominfo, dying); F(libxl_dominfo, never_stop); F(libxl_dominfo, shutdown_reason);
    F(libxl_dominfo, outstanding_memkb); F(libxl_dominfo, current_memkb); F(libxl_dominfo, shared_memkb);
    F(libxl_dominfo, paged_memkb); F(libxl_dominfo, max_memkb); F(libxl_dominfo, cpu_time);
    F(libxl_dominfo, vcpu_max_id); F(libxl_dominfo, vcpu_online); F(libxl_dominfo, cpupool);
    F(libxl_dominfo, gpaddr_bits); F(libxl_dominfo, domain_type);

    S(libxl_physinfo);
    F(libxl_physinfo, threads_per_core); F(libxl_physinfo, cores_per_socket); F(libxl_physinfo, max_cpu_id);
    F(libxl_physinfo, nr_cpus); F(libxl_physinfo, cpu_khz); F(libxl_physinfo, total_pages);
    F(libxl_physinfo, free_pages); F(libxl_physinfo, scrub_pages); F(libxl_physinfo, outstanding_pages);
    F(libxl_physinfo, sharing_freed_pages); F(libxl_physinfo, sharing_used_frames);
    F(libxl_physinfo, max_possible_mfn); F(libxl_physinfo, nr_nodes); F(libxl_physinfo, hw_cap);
    F(libxl_physinfo, cap_hvm); F(libxl_physinfo, cap_pv); F(libxl_physinfo, cap_hvm_directio);
    F(libxl_physinfo, cap_hap); F(libxl_physinfo, cap_shadow); F(libxl_physinfo, cap_iommu_hap_pt_share);
    F(libxl_physinfo, cap_vmtrace); F(libxl_physinfo, cap_vpmu); F(libxl_physinfo, cap_gnttab_v1);
    F(libxl_physinfo, cap_gnttab_v2);

    S(libxl_version_info);
    F(libxl_version_info, xen_version_major); F(libxl_version_info, xen_version_minor);
    F(libxl_version_info, xen_version_extra); F(libxl_version_info, compiler); F(libxl_version_info, compile_by);
    F(libxl_version_info, compile_domain); F(libxl_version_info, compile_date);
    F(libxl_version_info, capabilities); F(libxl_version_info, changeset); F(libxl_version_info, virt_start);
    F(libxl_version_info, pagesize); F(libxl_version_info, commandline); F(libxl_version_info, build_id);

    S(libxl_event);
    F(libxl_event, link); F(libxl_event, domid); F(libxl_event, domuuid); F(libxl_event, for_user);
    F(libxl_event, type); F(libxl_event, u);
    FN("libxl_event", libxl_event, "u.domain_shutdown.shutdown_reason", u.domain_shutdown.shutdown_reason);
    FN("libxl_event", libxl_event, "u.disk_eject.vdev", u.disk_eject.vdev);
    FN("libxl_event", libxl_event, "u.operation_complete.rc", u.operation_complete.rc);

    S(libxl_event_hooks);
    F(libxl_event_hooks, event_occurs_mask); F(libxl_event_hooks, event_occurs); F(libxl_event_hooks, disaster);

    S(libxl_childproc_hooks);
    F(libxl_childproc_hooks, chldowner); F(libxl_childproc_hooks, fork_replacement);
    F(libxl_childproc_hooks, reaped_callback);

    /* Passed to libxl only as opaque, init'ed/disposed by libxl itself: size and alignment matter. */
    S(libxl_domain_config);
    S(libxl_device_disk);
    S(libxl_device_nic);

    /* xentoollog */
    SN("xentoollog_logger", struct xentoollog_logger);
    FN("xentoollog_logger", struct xentoollog_logger, "vmessage", vmessage);
    FN("xentoollog_logger", struct xentoollog_logger, "progress", progress);
    FN("xentoollog_logger", struct xentoollog_logger, "destroy", destroy);

    /* libxenctrl */
    S(xc_physinfo_t);
    F(xc_physinfo_t, threads_per_core); F(xc_physinfo_t, cores_per_socket); F(xc_physinfo_t, nr_cpus);
    F(xc_physinfo_t, max_cpu_id); F(xc_physinfo_t, nr_nodes); F(xc_physinfo_t, max_node_id);
    F(xc_physinfo_t, cpu_khz); F(xc_physinfo_t, capabilities); F(xc_physinfo_t, arch_capabilities);
    F(xc_physinfo_t, pad); F(xc_physinfo_t, total_pages); F(xc_physinfo_t, free_pages);
    F(xc_physinfo_t, scrub_pages); F(xc_physinfo_t, outstanding_pages); F(xc_physinfo_t, max_mfn);
    F(xc_physinfo_t, hw_cap);

    S(xc_domaininfo_t);
    F(xc_domaininfo_t, domain); F(xc_domaininfo_t, pad1); F(xc_domaininfo_t, flags);
    F(xc_domaininfo_t, tot_pages); F(xc_domaininfo_t, max_pages); F(xc_domaininfo_t, outstanding_pages);
    F(xc_domaininfo_t, shr_pages); F(xc_domaininfo_t, paged_pages); F(xc_domaininfo_t, shared_info_frame);
    F(xc_domaininfo_t, cpu_time); F(xc_domaininfo_t, nr_online_vcpus); F(xc_domaininfo_t, max_vcpu_id);
    F(xc_domaininfo_t, ssidref); F(xc_domaininfo_t, handle); F(xc_domaininfo_t, cpupool);
    F(xc_domaininfo_t, gpaddr_bits); F(xc_domaininfo_t, pad2); F(xc_domaininfo_t, arch_config);

    /* libxenstore */
    SN("xs_permissions", struct xs_permissions);
    FN("xs_permissions", struct xs_permissions, "id", id);
    FN("xs_permissions", struct xs_permissions, "perms", perms);

    /* libc structs used around the calls */
    SN("pollfd", struct pollfd);
    FN("pollfd", struct pollfd, "fd", fd); FN("pollfd", struct pollfd, "events", events);
    FN("pollfd", struct pollfd, "revents", revents);
    SN("timeval", struct timeval);
    FN("timeval", struct timeval, "tv_sec", tv_sec); FN("timeval", struct timeval, "tv_usec", tv_usec);
    SN("sigaction", struct sigaction);
    FN("sigaction", struct sigaction, "sa_handler", sa_handler);
    FN("sigaction", struct sigaction, "sa_mask", sa_mask);
    FN("sigaction", struct sigaction, "sa_flags", sa_flags);
    FN("sigaction", struct sigaction, "sa_restorer", sa_restorer);

    /* constants the Java side hard-codes */
    C(LIBXL_VERSION);
    C(LIBXL_EVENTMASK_ALL);
    C(ERROR_VERSION); C(ERROR_FAIL); C(ERROR_NOMEM); C(ERROR_INVAL); C(ERROR_NOT_READY); C(ERROR_BUFFERFULL);
    C(ERROR_DOMAIN_NOTFOUND); C(ERROR_NOTFOUND);
    C(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN); C(LIBXL_EVENT_TYPE_DOMAIN_DEATH); C(LIBXL_EVENT_TYPE_DISK_EJECT);
    C(LIBXL_EVENT_TYPE_OPERATION_COMPLETE); C(LIBXL_EVENT_TYPE_DOMAIN_CREATE_CONSOLE_AVAILABLE);
    C(LIBXL_SHUTDOWN_REASON_UNKNOWN); C(LIBXL_SHUTDOWN_REASON_POWEROFF); C(LIBXL_SHUTDOWN_REASON_REBOOT);
    C(LIBXL_SHUTDOWN_REASON_SUSPEND); C(LIBXL_SHUTDOWN_REASON_CRASH); C(LIBXL_SHUTDOWN_REASON_WATCHDOG);
    C(LIBXL_SHUTDOWN_REASON_SOFT_RESET);
    C(LIBXL_DOMAIN_TYPE_INVALID); C(LIBXL_DOMAIN_TYPE_HVM); C(LIBXL_DOMAIN_TYPE_PV); C(LIBXL_DOMAIN_TYPE_PVH);
    C(LIBXL_CONSOLE_TYPE_SERIAL); C(LIBXL_CONSOLE_TYPE_PV);
    C(libxl_sigchld_owner_libxl); C(libxl_sigchld_owner_mainloop); C(libxl_sigchld_owner_libxl_always);
    C(libxl_sigchld_owner_libxl_always_selective_reap);
    C(XTL_DEBUG); C(XTL_VERBOSE); C(XTL_DETAIL); C(XTL_PROGRESS); C(XTL_INFO); C(XTL_NOTICE); C(XTL_WARN);
    C(XTL_ERROR); C(XTL_CRITICAL);
    C(XS_OPEN_READONLY); C(XS_OPEN_SOCKETONLY); C(XBT_NULL); C(XS_WATCH_PATH); C(XS_WATCH_TOKEN);
    C(XS_PERM_NONE); C(XS_PERM_READ); C(XS_PERM_WRITE);
    C(XEN_DOMINF_dying); C(XEN_DOMINF_hvm_guest); C(XEN_DOMINF_shutdown); C(XEN_DOMINF_paused);
    C(XEN_DOMINF_blocked); C(XEN_DOMINF_running); C(XEN_DOMINF_shutdownmask); C(XEN_DOMINF_shutdownshift);
    C(XEN_SYSCTL_PHYSCAP_hvm); C(XEN_SYSCTL_PHYSCAP_pv); C(XEN_SYSCTL_PHYSCAP_hap);
    C(SIGCHLD); C(POLLIN); C(SA_SIGINFO);
#ifdef LIBXL_HAVE_SIGCHLD_OWNER_SELECTIVE_REAP
    C(LIBXL_HAVE_SIGCHLD_OWNER_SELECTIVE_REAP);
#endif
    return 0;
}
