/**
 * The qube model: classes, properties, features, tags, labels, pools and volumes as configured. Pure data and
 * pure functions: nothing here does I/O.
 *
 * <p>Who owns what:
 * <ul>
 *   <li>{@link compart.core.model.Inventory}: the whole model, immutable; every change returns a new inventory,
 *       checked against the cross-qube rules ({@link compart.core.model.Inventory#violations()}). It reads a
 *       property's effective value (explicit, else the default).</li>
 *   <li>{@link compart.core.model.PropertyCatalog}: which properties each class has, their types, defaults
 *       (inherited from the template, the netvm, the global properties) and checks, following qubes-core-admin.
 *       A new property is a line in its table, a default rule and, if it needs one, a check.</li>
 *   <li>{@link compart.core.model.Prop}: the typed keys of the properties core reads itself, qube
 *       ({@code Prop.MEMORY}) and global ({@code Prop.Global.DEFAULT_POOL}), read with
 *       {@code inv.value(q, Prop.MEMORY)} (a {@code long}) and {@code inv.globalValue(Prop.Global.DEFAULT_POOL)}.
 *       Core code never reads a property by a string: when it needs one no key names yet, add the key to
 *       {@code Prop} (the constant named as the property, upper case; {@code PropTest} checks it against the
 *       catalog, type included). The string-named reads ({@code value(q, "name")}, {@code intValue},
 *       {@code boolValue}, {@code globalValue("name")}) are for the Admin API, which reads the property the client
 *       names.</li>
 *   <li>{@link compart.core.model.Qube}, {@link compart.core.model.QubeClass}, {@link compart.core.model.Label},
 *       {@link compart.core.model.Names}, {@link compart.core.model.Addresses}: one qube's explicit state, the
 *       classes, labels, the checks of untrusted names and the addresses Qubes derives from a qid.</li>
 *   <li>{@link compart.core.model.PoolDefinition}, {@link compart.core.model.VolumeDefinition}: pools and volumes
 *       as configured ({@code core.storage} runs them); {@link compart.core.model.PoolDefinition#KERNEL_POOL} is the
 *       NAME of Qubes' pool of kernels. Which driver holds volumes is asked of {@code compart.volumes}, never
 *       compared by name.</li>
 * </ul>
 */
package compart.core.model;
