/**
 * FFM (java.lang.foreign) bindings to Xen's libraries (libxl, libxenctrl, libxenstore, libxenvchan) and to the
 * Linux ioctls the volumes module needs. The only module of Compart that touches native code.
 */
module compart.xl {
    requires transitive compart.errors;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;

    exports compart.xl.libxl;
    exports compart.xl.xenstore;
    exports compart.xl.xenctrl;
    exports compart.xl.vchan;
    exports compart.xl.linux;
}
