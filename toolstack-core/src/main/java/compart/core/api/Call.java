package compart.core.api;

import compart.core.model.Inventory;
import compart.core.model.Qube;
import compart.errors.CompartException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * What a handler sees of one request: the request, its resolved destination and the inventory it was resolved in
 * (an immutable snapshot).
 *
 * @param request the request
 * @param dest    the destination qube
 * @param inv     the inventory at dispatch
 * @param data    the streamed payload of a volume import ({@link VolumeImportMethods}), else null
 */
record Call(AdminRequest request, Qube dest, Inventory inv, InputStream data) {
    /** @return the argument ({@code +ARG}), "" when none */
    String arg() {
        return request.arg();
    }

    /** @return the destination qube's name */
    String destName() {
        return dest.name();
    }

    /** @return the untrusted payload bytes */
    byte[] untrustedPayload() {
        return request.untrustedPayload();
    }

    /**
     * @return the payload as ASCII text
     * @throws CompartException INVALID_VALUE for a non-ASCII byte
     */
    String payloadAscii() {
        try {
            return StandardCharsets.US_ASCII.newDecoder().decode(ByteBuffer.wrap(request.untrustedPayload()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw CompartException.invalidValue("Non-ASCII bytes in the payload of %s", request.method());
        }
    }
}
