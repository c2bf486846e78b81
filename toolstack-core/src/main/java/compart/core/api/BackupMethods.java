package compart.core.api;

import compart.core.ops.BackupOps;

/**
 * Backups ({@code admin.backup.*}): run, cancel and describe the backup a profile names; the work is in
 * {@link BackupOps}. Execute answers when the backup is complete, as qubesd does; progress goes out as
 * {@code backup-progress} events.
 */
record BackupMethods(BackupOps backups) {

    @Handles(value = "admin.backup.Execute", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.BACKUP)
    void backupExecute(Call c) {
        backups.execute(c.arg());
    }

    @Handles(value = "admin.backup.Cancel", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.BACKUP)
    void backupCancel(Call c) {
        backups.cancel(c.arg());
    }

    @Handles(value = "admin.backup.Info", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.BACKUP)
    String backupInfo(Call c) {
        return backups.summary(c.arg());
    }
}
