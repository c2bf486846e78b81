/** The compartd daemon: the Admin API server on a unix socket and its command line. */
package compart.core.daemon;
