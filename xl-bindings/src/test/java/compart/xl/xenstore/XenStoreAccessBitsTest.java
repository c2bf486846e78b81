package compart.xl.xenstore;

import static compart.xl.xenstore.XenStoreNative.XS_PERM_NONE;
import static compart.xl.xenstore.XenStoreNative.XS_PERM_READ;
import static compart.xl.xenstore.XenStoreNative.XS_PERM_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import compart.xl.xenstore.XenStorePermission.Access;
import org.junit.jupiter.api.Test;

/** A permission's access as xenstore's bits (the constants the layout probe checks against xenstore's headers). */
class XenStoreAccessBitsTest {
    @Test
    void eachAccess_isItsXsPermBits() {
        assertThat(Access.NONE.bits()).isEqualTo(XS_PERM_NONE);
        assertThat(Access.READ.bits()).isEqualTo(XS_PERM_READ);
        assertThat(Access.WRITE.bits()).isEqualTo(XS_PERM_WRITE);
        assertThat(Access.BOTH.bits()).isEqualTo(XS_PERM_READ | XS_PERM_WRITE);
    }

    @Test
    void bitsReadBack_giveTheSameAccess_andOnlyTheReadAndWriteBitsCount() {
        for (Access a : Access.values()) {
            assertThat(Access.of(a.bits())).isEqualTo(a);
            assertThat(Access.of(a.bits() | 0x8 | 0x10)).as("owner and other bits ignored").isEqualTo(a);
        }
    }
}
