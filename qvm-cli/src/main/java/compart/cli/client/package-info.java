/**
 * The Admin API client: the wire protocol on compartd's unix socket ({@link compart.cli.client.AdminSocket}),
 * replies as values ({@link compart.cli.client.Reply}) and the typed calls the commands make
 * ({@link compart.cli.client.AdminClient}).
 */
package compart.cli.client;
