package compart.core.model;

import compart.errors.CompartException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The classes of qube, named exactly as Qubes names them on the wire ({@code admin.vm.List} prints
 * {@code class=AppVM}). The set is closed and the classes carry no data of their own beyond the few facts below,
 * so an enum is the simplest closed set here (the per-class property tables live in {@link PropertyCatalog}).
 */
public enum QubeClass {
    /** dom0: exactly one, qid 0, cannot be created or removed. */
    AdminVM,
    /** Holds a root volume that AppVMs snapshot at start. */
    TemplateVM,
    /** Based on a TemplateVM; may serve as a disposable template ({@code template_for_dispvms}). */
    AppVM,
    /** Owns its root volume; no template. */
    StandaloneVM,
    /** Disposable, based on an AppVM with {@code template_for_dispvms}; removed at shutdown if {@code auto_cleanup}. */
    DispVM;

    /** @return whether qubes of this class have a {@code template} property */
    public boolean hasTemplate() {
        return this == AppVM || this == DispVM;
    }

    /** @return the class a template of this class must have (AppVM: TemplateVM, DispVM: AppVM) */
    public Optional<QubeClass> templateClass() {
        return switch (this) {
            case AppVM -> Optional.of(TemplateVM);
            case DispVM -> Optional.of(AppVM);
            default -> Optional.empty();
        };
    }

    /** @return whether this class may be created through the Admin API ({@code admin.vm.Create.<class>}) */
    public boolean creatable() {
        return this != AdminVM;
    }

    /**
     * @param untrustedName a class name as received
     * @return the class
     * @throws compart.errors.CompartException NOT_FOUND when no class has that name
     */
    public static QubeClass parse(String untrustedName) {
        return Arrays.stream(values()).filter(c -> c.name().equals(untrustedName)).findFirst()
                .orElseThrow(() -> CompartException.notFound(
                        "no such qube class: %s (known: AdminVM, TemplateVM, AppVM, StandaloneVM, DispVM)",
                        printable(untrustedName)));
    }

    static String printable(String s) {
        if (s == null) {
            return "(none)";
        }
        var b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 64 ? b + "…" : b.toString();
    }
}
