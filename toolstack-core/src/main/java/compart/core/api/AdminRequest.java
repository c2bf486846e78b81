package compart.core.api;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One Admin API request as received on qubesd's socket: {@code METHOD[+ARG] SP SRC SP DEST_TYPE SP DEST NUL
 * PAYLOAD}, the client closing its side after the payload. {@code DEST_TYPE} is {@code name} (or
 * {@code keyword adminvm}, meaning dom0). Fields are ASCII; the payload is untrusted bytes.
 *
 * @param method           e.g. {@code admin.vm.property.Get}
 * @param arg              the argument after {@code +}, "" when none
 * @param source           the calling qube's name
 * @param dest             the destination qube's name (or {@code uuid:...})
 * @param untrustedPayload the payload
 */
public record AdminRequest(String method, String arg, String source, String dest, byte[] untrustedPayload) {
    /** The largest request accepted, header and payload together (as qubesd). */
    public static final int MAX_SIZE = 65536;

    /**
     * @param untrusted the bytes read until the client closed its side
     * @return the request
     * @throws CompartException PROTOCOL when the framing is wrong
     */
    public static AdminRequest parse(byte[] untrusted) {
        if (untrusted.length > MAX_SIZE) {
            throw new CompartException(ErrorKind.PROTOCOL, "request too long: " + untrusted.length + " bytes, at most "
                    + MAX_SIZE);
        }
        int nul = -1;
        for (int i = 0; i < untrusted.length; i++) {
            if (untrusted[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            throw new CompartException(ErrorKind.PROTOCOL, "framing error: no NUL after the request header");
        }
        for (int i = 0; i < nul; i++) {
            if (untrusted[i] < 0x20 || untrusted[i] > 0x7e) {
                throw new CompartException(ErrorKind.PROTOCOL, "framing error: request header is not printable ASCII");
            }
        }
        String header = new String(untrusted, 0, nul, StandardCharsets.US_ASCII);
        String[] parts = header.split(" ", 4);
        if (parts.length != 4) {
            throw new CompartException(ErrorKind.PROTOCOL, "framing error: header must be 'METHOD+ARG SRC DEST_TYPE "
                    + "DEST'");
        }
        String destType = parts[2];
        String dest = parts[3];
        if (destType.equals("keyword") && dest.equals("adminvm")) {
            destType = "name";
            dest = "dom0";
        }
        if (!destType.equals("name")) {
            throw new CompartException(ErrorKind.PROTOCOL, "framing error: destination type " + destType
                    + " (only explicit names are supported)");
        }
        String methArg = parts[0];
        int plus = methArg.indexOf('+');
        String method = plus < 0 ? methArg : methArg.substring(0, plus);
        String arg = plus < 0 ? "" : methArg.substring(plus + 1);
        return new AdminRequest(method, arg, parts[1], dest, Arrays.copyOfRange(untrusted, nul + 1, untrusted.length));
    }

    /** @return the request in wire form (what a client sends) */
    public byte[] encode() {
        byte[] head = (method + "+" + arg + " " + source + " name " + dest + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + untrustedPayload.length);
        System.arraycopy(untrustedPayload, 0, all, head.length, untrustedPayload.length);
        return all;
    }

    @Override
    public String toString() {
        return method + "+" + arg + " (" + source + " -> " + dest + ", " + untrustedPayload.length + " bytes)";
    }
}
