/**
 * The Qubes Admin API: request framing ({@link compart.core.api.AdminRequest}), reply framing
 * ({@link compart.core.api.AdminReply}), the methods ({@link compart.core.api.AdminApi}) and the one mapping from
 * failures to Qubes exception class names ({@link compart.core.api.ExceptionTypes}).
 */
package compart.core.api;
