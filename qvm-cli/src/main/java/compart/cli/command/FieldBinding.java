package compart.cli.command;

import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Where an option of a model built without annotations keeps its value: a command's field, read and written through
 * two lambdas (what picocli's own field binding does by reflection). picocli's interfaces have generic methods, so a
 * lambda cannot implement them directly. Not thread safe, like the field.
 */
final class FieldBinding implements IGetter, ISetter {
    private final Supplier<?> getter;
    private final Consumer<Object> setter;

    @SuppressWarnings("unchecked")
    private <T> FieldBinding(Supplier<T> getter, Consumer<T> setter) {
        this.getter = getter;
        this.setter = (Consumer<Object>) setter;
    }

    /**
     * Binds an option or parameter to a field, as picocli binds an annotated field: read and written through the two
     * lambdas, its value now is its initial value (picocli puts it back before each parse).
     */
    static <T> OptionSpec.Builder bind(OptionSpec.Builder builder, Supplier<T> getter, Consumer<T> setter) {
        var binding = new FieldBinding(getter, setter);
        return builder.getter(binding).setter(binding).initialValue(getter.get()).hasInitialValue(true);
    }

    /** As {@link #bind(OptionSpec.Builder, Supplier, Consumer)}, for a positional parameter. */
    static <T> PositionalParamSpec.Builder bind(PositionalParamSpec.Builder builder, Supplier<T> getter,
                                                Consumer<T> setter) {
        var binding = new FieldBinding(getter, setter);
        return builder.getter(binding).setter(binding).initialValue(getter.get()).hasInitialValue(true);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get() {
        return (T) getter.get();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T set(T value) {
        T previous = (T) getter.get();
        setter.accept(value);
        return previous;
    }
}
