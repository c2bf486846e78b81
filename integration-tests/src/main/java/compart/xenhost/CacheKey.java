package compart.xenhost;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The name under which a built artifact is cached: a SHA-256 over named inputs (scripts, package lists, the
 * JDK's {@code release} file ...), so that an artifact is rebuilt exactly when one of its inputs changes.
 *
 * <p>Inputs are hashed in name order, each as its name and content with their lengths, so neither the order in
 * which they were added nor moving bytes between two inputs can give the same key for different inputs.
 *
 * @param hex the first 16 hex digits of the digest (64 bits: plenty for a handful of cached images)
 */
public record CacheKey(String hex) {

    public CacheKey {
        Objects.requireNonNull(hex, "hex");
        if (!hex.matches("[0-9a-f]{16}")) {
            throw new IllegalArgumentException("a cache key is 16 lower-case hex digits, not '" + hex + "'");
        }
    }

    /** Collects named inputs; {@link #key()} hashes them. Not thread-safe. */
    public static final class Builder {
        private final SortedMap<String, byte[]> inputs = new TreeMap<>();

        /** Adds an input; a name may be given once only. */
        public Builder add(String name, byte[] content) {
            Objects.requireNonNull(content, "content");
            if (inputs.putIfAbsent(Objects.requireNonNull(name, "name"), content.clone()) != null) {
                throw new IllegalArgumentException("cache key input '" + name + "' given twice");
            }
            return this;
        }

        /** Adds a text input (UTF-8). */
        public Builder add(String name, String content) {
            return add(name, content.getBytes(StandardCharsets.UTF_8));
        }

        /** @return the names of the inputs, in hashing order (for the manifest written beside the artifact) */
        public List<String> names() {
            return List.copyOf(inputs.keySet());
        }

        public CacheKey key() {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
            for (Map.Entry<String, byte[]> input : inputs.entrySet()) {
                byte[] name = input.getKey().getBytes(StandardCharsets.UTF_8);
                sha.update(lengthOf(name.length));
                sha.update(name);
                sha.update(lengthOf(input.getValue().length));
                sha.update(input.getValue());
            }
            return new CacheKey(HexFormat.of().formatHex(sha.digest()).substring(0, 16));
        }

        private static byte[] lengthOf(long n) {
            return ByteBuffer.allocate(Long.BYTES).putLong(n).array();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return hex;
    }
}
