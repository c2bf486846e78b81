package compart.volumes.reflink;

/** The pool contract for {@code file-reflink} on a loop-mounted btrfs. */
class ReflinkBtrfsPoolTest extends ReflinkLoopPoolTest {
    @Override
    protected String fileSystemType() {
        return "btrfs";
    }
}
